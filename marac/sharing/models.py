"""SharingRule (per panel: agency kind x category) and SharingRecord (what was shown to whom, why)."""
import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.core.db import UTCDateTime, UUIDPrimaryKey
from marac.extensions import db


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
