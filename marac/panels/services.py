"""Creating and editing panels, their member agencies and the roles users hold on them; and the
approval of an administrator's request by a second one (panels is the lowest layer that knows every
act that waits for approval: the account resets in users, the panel roles here)."""
from sqlalchemy import func, select

from marac.agencies.services import active_agencies
from marac.audit.services import record
from marac.core.changes import apply_changes
from marac.core.steps import StepRefused
from marac.extensions import db
from marac.panels.models import Panel, PanelMember, PanelRole, Role
from marac.users import services as users
from marac.users.models import ApprovalKind, ApprovalStatus

PER_PAGE = 50
NAME_TAKEN = "Another panel already has this name"
REPRESENTATIVES_REMAIN = "This agency's representatives still hold roles on the panel. Remove their roles first"


def panels_page(page):
    """One page of every panel by name, for the administrators' list."""
    return db.paginate(select(Panel).order_by(Panel.name), page=page, per_page=PER_PAGE, error_out=False)


def name_taken(name, exclude_id=None):
    """Whether another panel already has this name (ignoring case and outer spaces)."""
    stmt = select(Panel.id).where(func.lower(Panel.name) == (name or "").strip().lower())
    if exclude_id:
        stmt = stmt.where(Panel.id != exclude_id)
    return db.session.execute(stmt).first() is not None


def check_name(name, exclude_id=None):
    """Refuse a name another panel has: people tell panels apart by it."""
    if name_taken(name, exclude_id):
        raise StepRefused(NAME_TAKEN, field="name")


def create_panel(actor, **values):
    """Add a panel with its settings, refusing a name already in use; audited."""
    check_name(values.get("name"))
    panel = Panel(**values)
    db.session.add(panel)
    db.session.flush()
    record("panel.created", actor, panel, detail={"kind": panel.kind})
    return panel


def update_panel(actor, panel, **values):
    """Change a panel's settings, refusing a name already in use; audits the names of the fields changed."""
    check_name(values.get("name", panel.name), exclude_id=panel.id)
    changed = apply_changes(panel, values)
    if changed:
        record("panel.updated", actor, panel, detail={"fields": changed})
    return changed


def member_of(panel, agency_id):
    """The panel's membership of this agency, or None."""
    return next((m for m in panel.members if m.agency_id == agency_id), None)


def agencies_to_add(panel):
    """The active agencies not yet on the panel, by name: the choices for a new member."""
    present = {m.agency_id for m in panel.members}
    return [a for a in active_agencies() if a.id not in present]


def add_member(actor, panel, agency, is_core):
    """Seat an agency on the panel (core or when needed); audited."""
    member = PanelMember(panel_id=panel.id, agency_id=agency.id, is_core=is_core)
    panel.members.append(member)
    db.session.flush()
    record("panel.member_added", actor, panel, detail={"agency_id": str(agency.id), "is_core": is_core})
    return member


def representatives_of(panel, agency_id):
    """The representative roles on the panel held by people of this agency."""
    return [r for r in panel.roles if r.role == Role.REPRESENTATIVE and r.user.agency_id == agency_id]


def why_not_remove_member(panel, member):
    """Why the agency cannot leave the panel now (its representatives still hold roles), or None."""
    return REPRESENTATIVES_REMAIN if representatives_of(panel, member.agency_id) else None


def remove_member(actor, panel, member):
    """Remove an agency from a panel, unless its representatives still hold roles there; audited."""
    problem = why_not_remove_member(panel, member)
    if problem:
        raise StepRefused(problem)
    agency_id = member.agency_id
    panel.members.remove(member)
    db.session.flush()
    record("panel.member_removed", actor, panel, detail={"agency_id": str(agency_id)})


def role_problem(panel, user, role):
    """Why this role cannot be given to the user, or None."""
    if not user.is_active:
        return "This user is deactivated"
    if any(r.user_id == user.id and r.role == role for r in panel.roles):
        return "This user already holds that role on this panel"
    if role == Role.REPRESENTATIVE and member_of(panel, user.agency_id) is None:
        return "A representative must belong to a member agency of the panel; add the agency first"
    return None


def add_role(actor, panel, user, role):
    """Give a user a role on the panel, refused (on the user field) when role_problem() says why not;
    audited. Returns the PanelRole; or, when administrators give themselves a role (which would open
    the panel's cases to them), the request for another administrator's approval it waits on."""
    problem = role_problem(panel, user, role)
    if problem:
        raise StepRefused(problem, field="user_id")
    if user.id == actor.id:
        return users.request_approval(actor, ApprovalKind.PANEL_ROLE, user, panel_id=panel.id, role=role)
    return _grant_role(actor, panel, user, role)


def _grant_role(actor, panel, user, role, approval=None):
    panel_role = PanelRole(panel_id=panel.id, user_id=user.id, role=role)
    panel.roles.append(panel_role)
    db.session.flush()
    record("panel.role_added", actor, panel, detail={"user_id": str(user.id), "role": role,
                                                     **users.approved_as(approval)})
    return panel_role


def approve(actor, approval):
    """Approve another administrator's pending request and do what it asks, as the requester's act
    (its audit event names the approval); refused for one's own request, for a decided one, and for
    a role that can no longer be given. Returns the act's result: a password reset's one-time
    password (for the approver to pass on), the PanelRole, or None. (The acts on accounts are
    users' perform_approved; a panel role is given here.)"""
    users.decide(actor, approval, ApprovalStatus.APPROVED)
    if approval.kind != ApprovalKind.PANEL_ROLE:
        return users.perform_approved(approval)
    panel = db.session.get(Panel, approval.panel_id)
    problem = role_problem(panel, approval.target_user, approval.role)
    if problem:
        raise StepRefused(f"This can no longer be done: {problem[0].lower()}{problem[1:]}. Reject the request instead")
    return _grant_role(approval.requested_by, panel, approval.target_user, approval.role, approval)


def panels_of(approvals):
    """The panels the requests name, by id (for the approvals page)."""
    ids = {approval.panel_id for approval in approvals if approval.panel_id}
    if not ids:
        return {}
    return {panel.id: panel for panel in db.session.execute(select(Panel).where(Panel.id.in_(ids))).scalars()}


def remove_role(actor, panel, panel_role):
    """Take a role away from a user on the panel; audited."""
    user_id, role = panel_role.user_id, panel_role.role
    panel.roles.remove(panel_role)
    db.session.flush()
    record("panel.role_removed", actor, panel, detail={"user_id": str(user_id), "role": role})


def panels_for(user):
    """The active panels the user holds roles on, with the roles, for the home page."""
    rows = db.session.execute(
        select(Panel, PanelRole.role).join(PanelRole, PanelRole.panel_id == Panel.id)
        .where(PanelRole.user_id == user.id, Panel.is_active.is_(True)).order_by(Panel.name)
    ).all()
    grouped = {}
    for panel, role in rows:
        grouped.setdefault(panel, set()).add(role)
    return list(grouped.items())


def referrable_panels(user):
    """The panels the user may refer to: every active panel of the area (Panel.can_refer)."""
    return db.session.execute(select(Panel).where(Panel.is_active.is_(True)).order_by(Panel.name)).scalars().all()
