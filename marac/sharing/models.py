"""SharingRule (per panel: agency kind x category) and SharingRecord (what was shown to whom, why)."""
import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.agencies.models import AgencyKind
from marac.core.db import UTCDateTime, UUIDPrimaryKey
from marac.core.enums import Labelled
from marac.extensions import db



class Category(Labelled):
    """A category of case information, for need-to-know. A withheld category shows as withheld."""

    IDENTITY = "identity", "Identity (names, aliases, dates of birth, relationships, language)"
    CONTACT = "contact", "Contact and address (addresses, postcodes, phone numbers)"
    CHILDREN = "children", "Children (names, dates of birth, who they live with, school)"
    HEALTH = "health", "Health (disability, GP, mental health, substance misuse, needs)"
    CRIMINAL_JUSTICE = "criminal_justice", "Criminal justice (crime references, bail, orders, interventions)"
    RISK_CHECKLIST = "risk_checklist", "Risk checklist (answers and score)"
    NARRATIVE = "narrative", "Narrative (incident, history, reasons)"

    @property
    def short_label(self):
        """The label without its examples: "Identity"."""
        return self.label.split(" (")[0]


class Withheld:
    """What a derived value is to someone who may not see its category: it prints as the withheld
    tag in a page, never equals a value and is never none, so a template cannot mistake it."""

    def __str__(self):
        return "Withheld"

    def __html__(self):
        return ('<strong class="govuk-tag govuk-tag--grey">Withheld</strong>'
                '<span class="govuk-visually-hidden"> under the panel\'s sharing rules</span>')

    def __bool__(self):
        return True

    def __repr__(self):
        return "WITHHELD"


WITHHELD = Withheld()


_C, _K = Category, AgencyKind
# Default rules: which agency kinds see which categories. The panel manager sees everything on their
# panel; everyone else with a role sees what their agency kind may. A referrer sees the referral as
# they sent it (Case.sent_referral), not the panel's record of it.
DEFAULT_RULES = {
    _K.POLICE: {_C.IDENTITY, _C.CONTACT, _C.CHILDREN, _C.CRIMINAL_JUSTICE, _C.RISK_CHECKLIST, _C.NARRATIVE},
    _K.IDVA: {_C.IDENTITY, _C.CONTACT, _C.CHILDREN, _C.HEALTH, _C.CRIMINAL_JUSTICE, _C.RISK_CHECKLIST,
              _C.NARRATIVE},
    _K.CHILDRENS_SOCIAL_CARE: {_C.IDENTITY, _C.CHILDREN, _C.CRIMINAL_JUSTICE, _C.RISK_CHECKLIST, _C.NARRATIVE},
    _K.ADULT_SOCIAL_CARE: {_C.IDENTITY, _C.HEALTH, _C.RISK_CHECKLIST, _C.NARRATIVE},
    _K.HEALTH: {_C.IDENTITY, _C.CHILDREN, _C.HEALTH, _C.RISK_CHECKLIST, _C.NARRATIVE},
    _K.MENTAL_HEALTH: {_C.IDENTITY, _C.HEALTH, _C.RISK_CHECKLIST, _C.NARRATIVE},
    _K.HOUSING: {_C.IDENTITY, _C.CONTACT, _C.RISK_CHECKLIST, _C.NARRATIVE},
    _K.PROBATION: {_C.IDENTITY, _C.CRIMINAL_JUSTICE, _C.RISK_CHECKLIST, _C.NARRATIVE},
    _K.EDUCATION: {_C.IDENTITY, _C.CHILDREN, _C.NARRATIVE},
    _K.SUBSTANCE_MISUSE: {_C.IDENTITY, _C.HEALTH, _C.RISK_CHECKLIST, _C.NARRATIVE},
    _K.SPECIALIST: {_C.IDENTITY, _C.CHILDREN, _C.RISK_CHECKLIST, _C.NARRATIVE},
    _K.OTHER: {_C.IDENTITY, _C.NARRATIVE},
}
del _C, _K


class SharingRule(UUIDPrimaryKey, db.Model):
    """Whether agencies of one kind may see one category of the panel's cases (absent: DEFAULT_RULES)."""

    __tablename__ = "sharing_rules"
    __table_args__ = (UniqueConstraint("panel_id", "agency_kind", "category"),)

    panel_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("panels.id"), nullable=False, index=True)
    agency_kind: Mapped[str] = mapped_column(String(32), nullable=False)
    category: Mapped[str] = mapped_column(String(24), nullable=False)
    is_allowed: Mapped[bool] = mapped_column(Boolean, nullable=False)

    panel = relationship("Panel")

    def can_view(self, user):
        """The panel's rules are read and set by its manager."""
        return self.panel.can_view(user) and self.panel.is_manager(user)


class SharingRecord(UUIDPrimaryKey, db.Model):
    """A business record users can read: this category of this case was shown to this agency's user."""

    __tablename__ = "sharing_records"

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False,
                                               index=True)
    category: Mapped[str] = mapped_column(String(24), nullable=False)
    agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("agencies.id"), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False)
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    purpose: Mapped[str] = mapped_column(String(64), nullable=False)
    lawful_basis: Mapped[str] = mapped_column(String(300), nullable=False)

    case = relationship("Case")
    agency = relationship("Agency")
    user = relationship("User")

    def can_view(self, user):
        """The sharing log of a case (Case.can_view_sharing_log)."""
        return self.case.can_view_sharing_log(user)
