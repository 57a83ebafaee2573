"""Creating, editing, deactivating and resetting user accounts (administrators' work)."""
from marac.audit.services import record
from marac.auth.passwords import hash_password, one_time_password
from marac.auth.services import find_user_by_email, normalise_email
from marac.auth.sessions import end_sessions
from marac.core.changes import apply_changes
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.users.models import User


def email_taken(email, exclude_id=None):
    user = find_user_by_email(email)
    return user is not None and user.id != exclude_id


def create_user(actor, agency, email, full_name, job_title=None, is_admin=False, password=None):
    """Create an account with a one-time password; returns (user, password) so it can be shown once."""
    password = password or one_time_password()
    user = User(agency_id=agency.id, email=normalise_email(email), full_name=full_name.strip(),
                job_title=(job_title or "").strip() or None, is_admin=is_admin,
                password_hash=hash_password(password), must_change_password=True, is_active=True)
    db.session.add(user)
    db.session.flush()
    record("user.created", actor, user, detail={"is_admin": is_admin})
    return user, password


def update_user(actor, user, **values):
    if "email" in values:
        values["email"] = normalise_email(values["email"])
    changed = apply_changes(user, values)
    if changed:
        record("user.updated", actor, user, detail={"fields": changed})
    return changed


def deactivate_user(actor, user):
    """Deactivate and end every session of the user at once."""
    user.is_active = False
    user.deactivated_at = utcnow()
    ended = end_sessions(user.id)
    record("user.deactivated", actor, user, detail={"sessions_ended": ended})


def reactivate_user(actor, user):
    user.is_active = True
    user.deactivated_at = None
    record("user.reactivated", actor, user)


def reset_password(actor, user):
    """A new one-time password; the user's sessions end and they must choose a new one."""
    password = one_time_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    ended = end_sessions(user.id)
    record("user.password_reset", actor, user, detail={"sessions_ended": ended})
    return password


def reset_mfa(actor, user):
    """Remove the user's authenticator so they enrol again at next sign-in (lost phone)."""
    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    ended = end_sessions(user.id)
    record("user.mfa_reset", actor, user, detail={"sessions_ended": ended})
