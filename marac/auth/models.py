"""UserSession: a server-side session. The cookie holds a random token; the table its hash."""
import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.core.db import UTCDateTime
from marac.extensions import db


class UserSession(db.Model):
    """A server-side session, keyed by the hash of its cookie's token."""

    __tablename__ = "user_sessions"

    # SHA-256 of the cookie's token: a database dump does not give anyone a live session.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # A separate public id, for the "your sessions" page and its "end this session" buttons.
    public_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, unique=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    data: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    authenticated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    client_addr: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    # Read with the row when a request opens its session (auth.sessions), so that the user loader finds
    # the user in the identity map: one query for both. Read-only: user_id is what is written.
    user = relationship("User", viewonly=True)
