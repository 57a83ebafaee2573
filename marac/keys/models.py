"""Wrapped keys. The key-encryption key that unwraps them is never stored in the database."""
from datetime import datetime

from sqlalchemy import Boolean, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from marac.core.db import UTCDateTime, UUIDPrimaryKey
from marac.core.timeutil import utcnow
from marac.extensions import db

# The purpose of the data-encryption keys; a blind index's keys have purpose "index:<name>"
# (keys.services.index_purpose), so purposes are an open set rather than an enumeration.
DATA_PURPOSE = "data"


class DataKey(UUIDPrimaryKey, db.Model):
    """A data-encryption key (purpose "data") or a blind-index key (purpose "index:<name>")."""

    __tablename__ = "data_keys"

    purpose: Mapped[str] = mapped_column(String(64), nullable=False, default=DATA_PURPOSE)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    kek_id: Mapped[str] = mapped_column(String(32), nullable=False)
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
