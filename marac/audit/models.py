"""AuditEvent: one row per thing that happened. Rows are never updated or deleted."""
import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from marac.core.db import UTCDateTime
from marac.extensions import db


class AuditEvent(db.Model):
    """One thing that happened: who, what, to which object, and its place in the hash chain."""

    __tablename__ = "audit_events"

    # The position in the chain, assigned under the chain-head lock (not by the database).
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    actor_agency_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    action: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64), index=True)
    recipient_agency_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    purpose: Mapped[str | None] = mapped_column(String(200))
    client_addr: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)


class AuditChainHead(db.Model):
    """One row holding the latest sequence number and hash; appends lock it to serialise."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AuditEventRef(db.Model):
    """An object an event names: its target, or an id in its detail (a case among the fifty a list
    showed, the case an agenda change was about). Written with the event and never changed, so that
    the events about a case or a person are found by index (the primary key starts with the id),
    not by reading every event's detail. An index of the chain, not part of it: what it says can be
    recomputed from the events (audit.services.refs_of)."""

    __tablename__ = "audit_event_refs"

    ref_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), ForeignKey("audit_events.seq"),
                                     primary_key=True)
