"""Agency: police, IDVA service, social care, health, housing and the rest."""
from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from marac.core.db import Timestamps, UUIDPrimaryKey
from marac.extensions import db

AGENCY_KINDS = {
    "police": "Police",
    "idva": "IDVA service",
    "childrens_social_care": "Children's social care",
    "adult_social_care": "Adult social care",
    "health": "Health",
    "mental_health": "Mental health",
    "housing": "Housing",
    "probation": "Probation",
    "education": "Education",
    "substance_misuse": "Substance misuse",
    "specialist": "Specialist service",
    "other": "Other",
}


class Agency(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "agencies"

    name: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    short_name: Mapped[str] = mapped_column(String(24), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    @property
    def kind_label(self):
        return AGENCY_KINDS.get(self.kind, self.kind)

    def __repr__(self):
        return f"<Agency {self.short_name}>"
