"""Creating, editing, deactivating and resetting user accounts (administrators' work), and the
requests for a second administrator's approval that the acts able to take an account over wait for.

The approval of a request is panels' (marac/panels/services.py): panels is the lowest layer that
knows every such act, the resets here and the panel roles there.
"""
from sqlalchemy import func, select, update

from marac.audit.services import record
from marac.auth.passwords import hash_password, one_time_password
from marac.auth.services import find_user_by_email, normalise_email
from marac.auth.sessions import end_sessions
from marac.core.changes import apply_changes
from marac.core.steps import StepRefused
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.users.models import ApprovalKind, ApprovalRequest, ApprovalStatus, User

PER_PAGE = 50
EMAIL_TAKEN = "Another user already has this email address"
OWN_ADMIN = "You cannot remove your own administrator access"
OWN_ACCOUNT = "You cannot deactivate your own account."
ALREADY_REQUESTED = "This is already waiting for another administrator's approval"
ALREADY_DECIDED = "This request has already been approved or rejected"
OWN_REQUEST = "You asked for this, so another administrator must approve or reject it"


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


def create_user(actor, agency, email, full_name, job_title=None, is_admin=False, password=None, is_dpo=False):
    """Create an account with a one-time password; returns (user, password) so it can be shown once.
    Administrator access asked for by an administrator waits for another one's approval (see
    grants_admin_later); the first administrator, made from the command line (no actor), has it at once."""
    check_details(actor, None, email, is_admin)
    password = password or one_time_password()
    later = grants_admin_later(actor, is_admin)
    dpo_later = grants_admin_later(actor, is_dpo)
    user = User(agency_id=agency.id, email=normalise_email(email), full_name=full_name.strip(),
                job_title=(job_title or "").strip() or None, is_admin=is_admin and not later,
                is_dpo=is_dpo and not dpo_later,
                password_hash=hash_password(password), must_change_password=True, is_active=True)
    db.session.add(user)
    db.session.flush()
    record("user.created", actor, user, detail={"is_admin": user.is_admin, "is_dpo": user.is_dpo})
    if later:
        request_approval(actor, ApprovalKind.ADMIN_GRANT, user)
    if dpo_later:
        request_approval(actor, ApprovalKind.DPO_GRANT, user)
    return user, password


def update_user(actor, user, **values):
    """Change an account's details (checked as check_details does); audits the names of the fields
    changed. Giving administrator or data protection officer access waits for another administrator's
    approval instead (taking it away does not)."""
    if "email" in values:
        values["email"] = normalise_email(values["email"])
    check_details(actor, user, values.get("email", user.email), values.get("is_admin", user.is_admin))
    if not user.is_admin and grants_admin_later(actor, values.get("is_admin")):
        values["is_admin"] = False
        if not is_waiting(ApprovalKind.ADMIN_GRANT, user):
            request_approval(actor, ApprovalKind.ADMIN_GRANT, user)
    if not user.is_dpo and grants_admin_later(actor, values.get("is_dpo")):
        values["is_dpo"] = False
        if not is_waiting(ApprovalKind.DPO_GRANT, user):
            request_approval(actor, ApprovalKind.DPO_GRANT, user)
    changed = apply_changes(user, values)
    if changed:
        record("user.updated", actor, user, detail={"fields": changed})
    return changed


def grants_admin_later(actor, is_admin):
    """Whether administrator access, asked for, must wait for a second administrator: always when an
    administrator asks, or one administrator could make an account of their own into a second one
    and approve their own requests with it."""
    return bool(is_admin) and actor is not None


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


def is_privileged(user):
    """An administrator or a panel manager (of any panel): an account that one administrator alone
    may not reset. (`User.panel_roles` is the backref panels declares; each role says if it manages.)"""
    return user.is_admin or user.is_dpo or any(panel_role.is_manager for panel_role in user.panel_roles)


def reset_needs_approval(user):
    """Whether resetting this account's password or authenticator waits for a second administrator:
    whoever asks, even the account's owner, so that one administrator's session cannot take over
    an administrator's or a manager's account."""
    return is_privileged(user)


def reset_password(actor, user):
    """A new one-time password; the user's sessions end and they must choose a new one. Returns the
    password, or, for an administrator or a panel manager, the request for approval it waits on."""
    if reset_needs_approval(user):
        return request_approval(actor, ApprovalKind.PASSWORD_RESET, user)
    return _reset_password(actor, user)


def reset_mfa(actor, user):
    """Remove the user's authenticator so they enrol again at next sign-in (lost phone). Returns None,
    or, for an administrator or a panel manager, the request for approval it waits on."""
    if reset_needs_approval(user):
        return request_approval(actor, ApprovalKind.MFA_RESET, user)
    return _reset_mfa(actor, user)


def _reset_password(actor, user, approval=None):
    password = one_time_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    ended = end_sessions(user.id)
    record("user.password_reset", actor, user, detail={"sessions_ended": ended, **approved_as(approval)})
    return password


def _reset_mfa(actor, user, approval=None):
    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    ended = end_sessions(user.id)
    record("user.mfa_reset", actor, user, detail={"sessions_ended": ended, **approved_as(approval)})


def perform_approved(approval):
    """Do what an approved request about an account asked for, as its requester's act: the one-time
    password of a password reset (for the approver to pass on), else None. (Panel roles are panels'.)"""
    requester, user = approval.requested_by, approval.target_user
    if approval.kind == ApprovalKind.PASSWORD_RESET:
        return _reset_password(requester, user, approval)
    if approval.kind == ApprovalKind.MFA_RESET:
        return _reset_mfa(requester, user, approval)
    if approval.kind in (ApprovalKind.ADMIN_GRANT, ApprovalKind.DPO_GRANT):
        field = "is_admin" if approval.kind == ApprovalKind.ADMIN_GRANT else "is_dpo"
        setattr(user, field, True)
        record("user.updated", requester, user, detail={"fields": [field], **approved_as(approval)})
        return None
    raise ValueError(f"not an account's request: {approval.kind}")


# --- approval by a second administrator ------------------------------------------------------

def approved_as(approval):
    """The audit detail that ties an act to the request it was approved as ({} for an act done at once)."""
    if approval is None:
        return {}
    return {"approval_id": str(approval.id), "approved_by": str(approval.decided_by_id)}


def request_approval(actor, kind, target, panel_id=None, role=None):
    """Ask for an act that waits for another administrator's approval (ApprovalKind); refused when
    the same is already waiting; audited. Returns the request."""
    waiting = db.session.execute(select(ApprovalRequest.id).where(
        ApprovalRequest.status == ApprovalStatus.PENDING, ApprovalRequest.kind == kind,
        ApprovalRequest.target_user_id == target.id, ApprovalRequest.panel_id == panel_id,
        ApprovalRequest.role == role)).first()
    if waiting is not None:
        raise StepRefused(ALREADY_REQUESTED)
    approval = ApprovalRequest(kind=kind, status=ApprovalStatus.PENDING, requested_by_id=actor.id,
                               target_user_id=target.id, panel_id=panel_id, role=role)
    db.session.add(approval)
    db.session.flush()
    record("approval.requested", actor, approval, detail={
        "kind": kind, "target_user_id": str(target.id), "panel_id": str(panel_id) if panel_id else None,
        "role": role})
    return approval


def is_waiting(kind, target):
    """Whether a request of this kind about this account waits for approval."""
    return db.session.execute(select(ApprovalRequest.id).where(
        ApprovalRequest.status == ApprovalStatus.PENDING, ApprovalRequest.kind == kind,
        ApprovalRequest.target_user_id == target.id)).first() is not None


def pending_approvals():
    """The requests waiting for a decision, oldest first."""
    return db.session.execute(select(ApprovalRequest).where(ApprovalRequest.status == ApprovalStatus.PENDING)
                              .order_by(ApprovalRequest.created_at)).scalars().all()


def recent_decisions(limit=20):
    """The latest approved or rejected requests, newest first."""
    return db.session.execute(select(ApprovalRequest).where(ApprovalRequest.status != ApprovalStatus.PENDING)
                              .order_by(ApprovalRequest.decided_at.desc()).limit(limit)).scalars().all()


def active_admin_count():
    """How many active administrators there are (a request needs one besides its requester)."""
    return db.session.execute(select(func.count()).select_from(User).where(
        User.is_admin.is_(True), User.is_active.is_(True))).scalar_one()


def why_not_decide(actor, approval):
    """Why the actor cannot approve or reject this request (already decided, or their own), or None."""
    if not approval.is_pending:
        return ALREADY_DECIDED
    if approval.requested_by_id == actor.id:
        return OWN_REQUEST
    return None


def decide(actor, approval, status):
    """Mark a pending request approved or rejected by the actor, who must not be its requester;
    exactly once, even when two administrators decide at the same moment; audited. The act itself
    is the caller's to do (panels' approve())."""
    problem = why_not_decide(actor, approval)
    if problem:
        raise StepRefused(problem)
    marked = db.session.execute(
        update(ApprovalRequest).where(ApprovalRequest.id == approval.id,
                                      ApprovalRequest.status == ApprovalStatus.PENDING)
        .values(status=status, decided_by_id=actor.id, decided_at=utcnow())
        .execution_options(synchronize_session=False))
    if marked.rowcount != 1:
        raise StepRefused(ALREADY_DECIDED)
    db.session.refresh(approval)
    action = "approval.approved" if status == ApprovalStatus.APPROVED else "approval.rejected"
    record(action, actor, approval, detail={"kind": approval.kind, "requested_by": str(approval.requested_by_id)})


def reject(actor, approval):
    """Reject a pending request: nothing happens; audited."""
    decide(actor, approval, ApprovalStatus.REJECTED)
