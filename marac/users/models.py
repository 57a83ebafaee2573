"""User: signs in with email, password and a TOTP code; belongs to an agency."""
import uuid
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.core.crypto import Encrypted
from marac.core.db import Timestamps, UTCDateTime, UUIDPrimaryKey
from marac.extensions import db


class User(UUIDPrimaryKey, Timestamps, UserMixin, db.Model):
    """A person who signs in: a practitioner of an agency, or an administrator."""

    __tablename__ = "users"

    agency_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("agencies.id"), nullable=False, index=True)
    # Work email and name of a professional acting in their role; not victim data, kept plain so
    # that sign-in and the admin lists work without decryption.
    email: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    full_name: Mapped[str] = mapped_column(String(120), nullable=False)
    job_title: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_admin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_secret = Encrypted(str, personal=False)  # a secret, not data about a person
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last TOTP time step accepted, so that no code can be used twice.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agency = relationship("Agency", lazy="joined")

    @property
    def has_mfa(self):
        """Whether an authenticator app is set up."""
        return self.totp_enrolled_at is not None

    def get_id(self):
        """The id Flask-Login keeps in the session."""
        return str(self.id)

    def __repr__(self):
        return f"<User {self.id}>"
