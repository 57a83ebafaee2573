"""Sign-in, second factor, password change and sign-out. Each writes its audit event."""
from flask import current_app
from sqlalchemy import func, select

from marac.audit.services import record
from marac.auth import passwords, totp
from marac.auth.sessions import end_sessions
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.users.models import User


def normalise_email(email):
    return (email or "").strip().lower()


def find_user_by_email(email):
    return db.session.execute(
        select(User).where(func.lower(User.email) == normalise_email(email))
    ).scalar_one_or_none()


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


def mfa_required_for(user):
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
    user.last_sign_in_at = utcnow()
    record("auth.sign_in", actor=user, target=user, detail={"mfa": user.has_mfa})


def change_password(user, new_password, keep_token_hash):
    """Set a new password and end every other session of the user."""
    user.password_hash = passwords.hash_password(new_password)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    ended = end_sessions(user.id, keep_token_hash=keep_token_hash)
    record("auth.password_changed", actor=user, target=user, detail={"sessions_ended": ended})


def sign_out(user):
    record("auth.sign_out", actor=user, target=user)


def end_own_session(user, session_row):
    db.session.delete(session_row)
    record("auth.session_ended", actor=user, target=user)
