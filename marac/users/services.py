"""Creating, editing, deactivating and resetting user accounts (administrators' work)."""
from sqlalchemy import select

from marac.audit.services import record
from marac.auth.passwords import hash_password, one_time_password
from marac.auth.services import find_user_by_email, normalise_email
from marac.auth.sessions import end_sessions
from marac.core.changes import apply_changes
from marac.core.steps import StepRefused
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.users.models import User

PER_PAGE = 50
EMAIL_TAKEN = "Another user already has this email address"
OWN_ADMIN = "You cannot remove your own administrator access"
OWN_ACCOUNT = "You cannot deactivate your own account."


def users_page(page, agency_id=None):
    """One page of users by name, of one agency or of all, for the administrators' list."""
    stmt = select(User).order_by(User.full_name)
    if agency_id:
        stmt = stmt.where(User.agency_id == agency_id)
    return db.paginate(stmt, page=page, per_page=PER_PAGE, error_out=False)


def active_users():
    """The active users by name: who can be given a role on a panel."""
    return db.session.execute(select(User).where(User.is_active.is_(True)).order_by(User.full_name)).scalars().all()


def email_taken(email, exclude_id=None):
    """Whether another account already signs in with this email address (ignoring case)."""
    user = find_user_by_email(email)
    return user is not None and user.id != exclude_id


def check_details(actor, user, email, is_admin):
    """Refuse an email address another account uses (it is how a user signs in), and an administrator
    removing their own administrator access (nobody might be left to give it back). `user` is None
    for a new account."""
    if email_taken(email, exclude_id=user.id if user else None):
        raise StepRefused(EMAIL_TAKEN, field="email")
    if user is not None and actor is not None and user.id == actor.id and not is_admin:
        raise StepRefused(OWN_ADMIN, field="is_admin")


def create_user(actor, agency, email, full_name, job_title=None, is_admin=False, password=None):
    """Create an account with a one-time password; returns (user, password) so it can be shown once."""
    check_details(actor, None, email, is_admin)
    password = password or one_time_password()
    user = User(agency_id=agency.id, email=normalise_email(email), full_name=full_name.strip(),
                job_title=(job_title or "").strip() or None, is_admin=is_admin,
                password_hash=hash_password(password), must_change_password=True, is_active=True)
    db.session.add(user)
    db.session.flush()
    record("user.created", actor, user, detail={"is_admin": is_admin})
    return user, password


def update_user(actor, user, **values):
    """Change an account's details (checked as check_details does); audits the names of the fields changed."""
    if "email" in values:
        values["email"] = normalise_email(values["email"])
    check_details(actor, user, values.get("email", user.email), values.get("is_admin", user.is_admin))
    changed = apply_changes(user, values)
    if changed:
        record("user.updated", actor, user, detail={"fields": changed})
    return changed


def why_not_deactivate(actor, user):
    """Why the actor cannot deactivate this account (their own), or None."""
    return OWN_ACCOUNT if actor is not None and actor.id == user.id else None


def deactivate_user(actor, user):
    """Deactivate and end every session of the user at once (not one's own account)."""
    problem = why_not_deactivate(actor, user)
    if problem:
        raise StepRefused(problem)
    user.is_active = False
    user.deactivated_at = utcnow()
    ended = end_sessions(user.id)
    record("user.deactivated", actor, user, detail={"sessions_ended": ended})


def reactivate_user(actor, user):
    """Let a deactivated user sign in again."""
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
