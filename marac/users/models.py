"""User: signs in with email, password and a TOTP code; belongs to an agency. ApprovalRequest: an
administrator's act that waits for a second administrator."""
import uuid
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marac.core.crypto import Encrypted
from marac.core.db import Timestamps, UTCDateTime, UUIDPrimaryKey
from marac.core.enums import Labelled
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
    # The data protection officer: answers subject access requests and reads disclosure reports across
    # every panel. Given only with a second administrator's approval (ApprovalKind.DPO_GRANT).
    is_dpo: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
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


class ApprovalKind(Labelled):
    """The acts an administrator may not take alone, because they could take an account over."""

    PANEL_ROLE = "panel_role", "Give themselves a panel role"
    ADMIN_GRANT = "admin_grant", "Give administrator access"
    DPO_GRANT = "dpo_grant", "Make data protection officer"
    PASSWORD_RESET = "password_reset", "Reset a password"
    MFA_RESET = "mfa_reset", "Reset an authenticator"


class ApprovalStatus(Labelled):
    """Where a request for a second administrator's approval is."""

    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class ApprovalRequest(UUIDPrimaryKey, Timestamps, db.Model):
    """An act an administrator asked for that happens only when another administrator approves it:
    giving themselves a role on a panel (`panel_id`, `role`), giving someone administrator access, or
    resetting the password or the authenticator of an administrator or a panel manager (the account
    acted on is `target_user_id`)."""

    __tablename__ = "approval_requests"

    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=ApprovalStatus.PENDING, index=True)
    requested_by_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False)
    target_user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), nullable=False, index=True)
    # For a panel role: the panel and the role asked for (the panels table, named, not imported).
    panel_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("panels.id"))
    role: Mapped[str | None] = mapped_column(String(16))
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requested_by = relationship("User", foreign_keys=[requested_by_id], lazy="joined")
    target_user = relationship("User", foreign_keys=[target_user_id], lazy="joined")
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    @property
    def kind_label(self):
        """The act in words."""
        return ApprovalKind.label_of(self.kind)

    @property
    def is_pending(self):
        """Whether the request still waits for a decision."""
        return self.status == ApprovalStatus.PENDING

    def __repr__(self):
        return f"<ApprovalRequest {self.id}>"
