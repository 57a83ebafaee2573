"""Agency: police, IDVA service, social care, health, housing and the rest."""
from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from marac.core.db import Timestamps, UUIDPrimaryKey
from marac.core.enums import Labelled
from marac.extensions import db


class AgencyKind(Labelled):
    """The kinds of agency; the panel's information-sharing rules are set per kind."""

    POLICE = "police", "Police"
    IDVA = "idva", "IDVA service"
    CHILDRENS_SOCIAL_CARE = "childrens_social_care", "Children's social care"
    ADULT_SOCIAL_CARE = "adult_social_care", "Adult social care"
    HEALTH = "health", "Health"
    MENTAL_HEALTH = "mental_health", "Mental health"
    HOUSING = "housing", "Housing"
    PROBATION = "probation", "Probation"
    EDUCATION = "education", "Education"
    SUBSTANCE_MISUSE = "substance_misuse", "Substance misuse"
    SPECIALIST = "specialist", "Specialist service"
    OTHER = "other", "Other"


# Derived from AgencyKind; kept only while sharing still reads it (its owner moves it to AgencyKind).
AGENCY_KINDS = AgencyKind.labels()


class Agency(UUIDPrimaryKey, Timestamps, db.Model):
    """An organisation whose people refer cases and sit on panels."""

    __tablename__ = "agencies"

    name: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    short_name: Mapped[str] = mapped_column(String(24), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    @property
    def kind_label(self):
        """The kind of agency in words."""
        return AgencyKind.label_of(self.kind)

    def __repr__(self):
        return f"<Agency {self.short_name}>"
