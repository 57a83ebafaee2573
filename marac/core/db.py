"""Declarative base with a constraint naming convention, and the column types every model uses."""
import uuid
from datetime import datetime

from sqlalchemy import MetaData, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import DateTime, TypeDecorator, Uuid

from marac.core.timeutil import as_utc, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime stored as UTC on every database (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Refuse a naive datetime: every stored time is UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value

    def process_result_value(self, value, dialect):
        """Give back an aware UTC datetime on every database."""
        return as_utc(value)


class Model(DeclarativeBase):
    """The declarative base: constraint names follow NAMING_CONVENTION, so migrations are stable."""
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UUIDPrimaryKey:
    """A UUID primary key assigned when the object is built, so it is known before the flush
    (encrypted fields bind their ciphertext to the row id)."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


@event.listens_for(UUIDPrimaryKey, "init", propagate=True)
def _assign_uuid(target, args, kwargs):
    # Set before any other constructor argument, so an encrypted value given to the constructor is
    # bound to the right row.
    target.id = kwargs.pop("id", None) or uuid.uuid4()


class Timestamps:
    """When the row was created (UTC)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

