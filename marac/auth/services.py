"""Sign-in, second factor, password change and sign-out. Each writes its audit event.

A failed password or code is not a StepRefused: its audit event must be kept, and attempt() rolls
back, so those steps answer None or False and the request commits at the edge as usual.
"""
import uuid
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from marac.audit.services import record
from marac.auth import passwords, totp
from marac.auth.models import UserSession
from marac.auth.sessions import end_sessions
from marac.core.steps import StepRefused
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.users.models import User

# How long the code (or enrolment) step may follow the password step.
PENDING_MFA_LIFETIME = timedelta(minutes=5)


def normalise_email(email):
    """An email address as accounts store it: trimmed, lower case."""
    return (email or "").strip().lower()


def find_user_by_email(email):
    """The account with this email address (ignoring case), or None. Text no address can hold (a NUL,
    which PostgreSQL refuses in any query) finds nobody without asking the database."""
    email = normalise_email(email) if isinstance(email, str) else ""
    if not email or "\x00" in email:
        return None
    return db.session.execute(select(User).where(func.lower(User.email) == email)).scalar_one_or_none()


def authenticate(email, password):
    """The active user with this email and password, or None. Takes similar time either way."""
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        passwords.burn_time(password)
        record("auth.sign_in_failed", detail={"stage": "password"})
        return None
    if not passwords.verify_password(user.password_hash, password):
        record("auth.sign_in_failed", target=user, detail={"stage": "password"})
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


def pending_mfa_user(user_id, started_at):
    """The active user who passed the password step at `started_at` (ISO text) and still owes a code,
    if that was less than PENDING_MFA_LIFETIME ago; else None."""
    if not user_id or not started_at or utcnow() - datetime.fromisoformat(started_at) > PENDING_MFA_LIFETIME:
        return None
    user = db.session.get(User, uuid.UUID(user_id))
    return user if user is not None and user.is_active else None


def mfa_required_for(user):
    """Whether the user must give a code: always once enrolled, and for everyone where MFA_REQUIRED."""
    return user.has_mfa or current_app.config["MFA_REQUIRED"]


def check_code(user, code):
    """Accept a TOTP code once: records the step so that the same code cannot be replayed."""
    step = totp.matching_step(user.totp_secret, code, utcnow(), user.totp_last_step)
    if step is None:
        record("auth.sign_in_failed", actor=user, target=user, detail={"stage": "mfa"})
        return False
    user.totp_last_step = step
    return True


def enrol_mfa(user, secret, code):
    """Confirm enrolment with a code from the new secret; True when enrolled."""
    step = totp.matching_step(secret, code, utcnow())
    if step is None:
        record("auth.mfa_enrol_failed", actor=user, target=user)
        return False
    user.totp_secret = secret
    user.totp_enrolled_at = utcnow()
    user.totp_last_step = step
    record("auth.mfa_enrolled", actor=user, target=user)
    return True


def complete_sign_in(user):
    """Record a completed sign-in (password, and code when required)."""
    user.last_sign_in_at = utcnow()
    record("auth.sign_in", actor=user, target=user, detail={"mfa": user.has_mfa})


def change_password(user, current_password, new_password, keep_token_hash):
    """Set a new password, given the current one, and end every other session of the user."""
    if not passwords.verify_password(user.password_hash, current_password):
        raise StepRefused("Your current password is not correct", field="current_password")
    user.password_hash = passwords.hash_password(new_password)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    ended = end_sessions(user.id, keep_token_hash=keep_token_hash)
    record("auth.password_changed", actor=user, target=user, detail={"sessions_ended": ended})


def sign_out(user, session_row=None):
    """End the user's current session (its row, when it has one); audited."""
    if session_row is not None:
        db.session.delete(session_row)
    record("auth.sign_out", actor=user, target=user)


def own_session(user, public_id):
    """The user's own session with this public id, or None (also when it is someone else's)."""
    row = db.session.execute(select(UserSession).where(UserSession.public_id == public_id)).scalar_one_or_none()
    return row if row is not None and row.user_id == user.id else None


def end_own_session(user, session_row):
    """End one of the user's sessions (from the account page); audited."""
    db.session.delete(session_row)
    record("auth.session_ended", actor=user, target=user)
