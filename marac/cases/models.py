"""Case (a referral once made, a case once accepted), its parties, linked locations and its history."""
import datetime as dt
import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.core.crypto import Encrypted
from marac.core.db import Timestamps, UTCDateTime, UUIDPrimaryKey
from marac.extensions import db

STATUSES = {
    "draft": "Draft",
    "submitted": "Awaiting screening",
    "accepted": "Accepted",
    "screened_out": "Screened out",
    "closed": "Closed",
}
CRITERIA = {
    "visible_high_risk": "Visible high risk (14 or more ticks)",
    "professional_judgement": "Professional judgement",
    "potential_escalation": "Potential escalation (3 or more police-reported incidents in 12 months)",
    "repeat": "Repeat (a further incident within 12 months of the last referral)",
}
RISK_LEVELS = {"standard": "Standard", "medium": "Medium", "high": "High"}
PARTY_ROLES = {
    "victim": "Victim", "perpetrator": "Perpetrator", "child": "Child in the household",
    "young_person": "Child or young person", "person_of_concern": "Person of concern",
    "complainant": "Complainant or victim", "respondent": "Respondent or perpetrator",
}


class Case(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "cases"

    panel_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("panels.id"), nullable=False, index=True)
    reference: Mapped[str | None] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft", index=True)
    referrer_user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False, index=True)
    referring_agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("agencies.id"), nullable=False,
                                                           index=True)
    referred_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    screened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    screened_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    screening_reason = Encrypted(str)
    criterion: Mapped[str | None] = mapped_column(String(32))
    risk_score: Mapped[int | None] = mapped_column(Integer)
    risk_level: Mapped[str | None] = mapped_column(String(16), index=True)
    police_incidents: Mapped[int | None] = mapped_column(Integer)
    is_repeat: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, index=True)
    repeat_of_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("cases.id"))
    # Coded answers used for statistics and filters (exploitation types, ASB categories, needs, ...).
    codes: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    # Every other answer of the referral form, encrypted as one value.
    referral = Encrypted(dict)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    panel = relationship("Panel")
    referrer = relationship("User", foreign_keys=[referrer_user_id])
    referring_agency = relationship("Agency")
    repeat_of = relationship("Case", remote_side="Case.id")
    parties = relationship("CaseParty", back_populates="case", cascade="all, delete-orphan",
                           order_by="CaseParty.position")
    locations = relationship("CaseLocation", back_populates="case", cascade="all, delete-orphan")

    def can_view(self, user):
        """The referrer sees their referral; once submitted, whoever may see the panel's cases."""
        if self.referrer_user_id == user.id:
            return True
        return self.status != "draft" and self.panel.can_list_cases(user)

    def can_edit(self, user):
        if self.status in ("draft", "submitted") and self.referrer_user_id == user.id:
            return True
        return self.status != "draft" and self.panel.is_manager(user)

    def can_screen(self, user):
        return self.status == "submitted" and self.panel.is_manager(user)

    @property
    def status_label(self):
        return STATUSES[self.status]

    def parties_in(self, role):
        return [p for p in self.parties if p.role == role]

    @property
    def subject(self):
        """The main person of the case: victim, young person or first complainant."""
        for role in ("victim", "young_person", "complainant"):
            found = self.parties_in(role)
            if found:
                return found[0].person
        return None


class CaseParty(UUIDPrimaryKey, db.Model):
    __tablename__ = "case_parties"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("people.id"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(24), nullable=False)
    relationship_to_subject: Mapped[str | None] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    case = relationship("Case", back_populates="parties")
    person = relationship("Person", lazy="joined")


class CaseLocation(UUIDPrimaryKey, db.Model):
    __tablename__ = "case_locations"
    __table_args__ = (UniqueConstraint("case_id", "location_id"),)

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    location_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("locations.id"), nullable=False, index=True)

    case = relationship("Case", back_populates="locations")
    location = relationship("Location", lazy="joined")


class CaseChange(UUIDPrimaryKey, db.Model):
    """One entry of a case's history: who, when, what, which fields; old values stay encrypted."""

    __tablename__ = "case_changes"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str | None] = mapped_column(String(16))
    fields: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    old_values = Encrypted(dict)

    user = relationship("User")


class ReferenceCounter(db.Model):
    """The last case number used per panel kind and year (MARAC-2026-0042)."""

    __tablename__ = "reference_counters"

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
