"""SharingRule (per panel: agency kind x category) and SharingRecord (what was shown to whom, why)."""
import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.core.db import UTCDateTime, UUIDPrimaryKey
from marac.extensions import db

# Categories of case information, for need-to-know. A withheld category shows as withheld.
CATEGORIES = {
    "identity": "Identity (names, aliases, dates of birth, relationships, language)",
    "contact": "Contact and address (addresses, postcodes, phone numbers)",
    "children": "Children (names, dates of birth, who they live with, school)",
    "health": "Health (disability, GP, mental health, substance misuse, needs)",
    "criminal_justice": "Criminal justice (crime references, bail, orders, interventions)",
    "risk_checklist": "Risk checklist (answers and score)",
    "narrative": "Narrative (incident, history, reasons)",
}

# Default rules: which agency kinds see which categories. The panel manager sees everything on their
# panel; a referrer sees the referrals they made; everyone else sees what their agency kind may.
DEFAULT_RULES = {
    "police": {"identity", "contact", "children", "criminal_justice", "risk_checklist", "narrative"},
    "idva": {"identity", "contact", "children", "health", "criminal_justice", "risk_checklist", "narrative"},
    "childrens_social_care": {"identity", "children", "criminal_justice", "risk_checklist", "narrative"},
    "adult_social_care": {"identity", "health", "risk_checklist", "narrative"},
    "health": {"identity", "children", "health", "risk_checklist", "narrative"},
    "mental_health": {"identity", "health", "risk_checklist", "narrative"},
    "housing": {"identity", "contact", "risk_checklist", "narrative"},
    "probation": {"identity", "criminal_justice", "risk_checklist", "narrative"},
    "education": {"identity", "children", "narrative"},
    "substance_misuse": {"identity", "health", "risk_checklist", "narrative"},
    "specialist": {"identity", "children", "risk_checklist", "narrative"},
    "other": {"identity", "narrative"},
}


class SharingRule(UUIDPrimaryKey, db.Model):
    __tablename__ = "sharing_rules"
    __table_args__ = (UniqueConstraint("panel_id", "agency_kind", "category"),)

    panel_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("panels.id"), nullable=False, index=True)
    agency_kind: Mapped[str] = mapped_column(String(32), nullable=False)
    category: Mapped[str] = mapped_column(String(24), nullable=False)
    is_allowed: Mapped[bool] = mapped_column(Boolean, nullable=False)


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

    agency = relationship("Agency")
    user = relationship("User")
