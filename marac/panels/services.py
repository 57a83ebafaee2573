"""Creating and editing panels, their member agencies and the roles users hold on them."""
from sqlalchemy import func, select

from marac.audit.services import record
from marac.core.changes import apply_changes
from marac.extensions import db
from marac.panels.models import Panel, PanelMember, PanelRole


def name_taken(name, exclude_id=None):
    stmt = select(Panel.id).where(func.lower(Panel.name) == (name or "").strip().lower())
    if exclude_id:
        stmt = stmt.where(Panel.id != exclude_id)
    return db.session.execute(stmt).first() is not None


def create_panel(actor, **values):
    panel = Panel(**values)
    db.session.add(panel)
    db.session.flush()
    record("panel.created", actor, panel, detail={"kind": panel.kind})
    return panel


def update_panel(actor, panel, **values):
    changed = apply_changes(panel, values)
    if changed:
        record("panel.updated", actor, panel, detail={"fields": changed})
    return changed


def member_of(panel, agency_id):
    return next((m for m in panel.members if m.agency_id == agency_id), None)


def add_member(actor, panel, agency, is_core):
    member = PanelMember(panel_id=panel.id, agency_id=agency.id, is_core=is_core)
    panel.members.append(member)
    db.session.flush()
    record("panel.member_added", actor, panel, detail={"agency_id": str(agency.id), "is_core": is_core})
    return member


def representatives_of(panel, agency_id):
    return [r for r in panel.roles if r.role == "representative" and r.user.agency_id == agency_id]


def remove_member(actor, panel, member):
    """Remove an agency from a panel. The caller checks representatives_of() first."""
    agency_id = member.agency_id
    panel.members.remove(member)
    db.session.flush()
    record("panel.member_removed", actor, panel, detail={"agency_id": str(agency_id)})


def role_problem(panel, user, role):
    """Why this role cannot be given, or None."""
    if not user.is_active:
        return "This user is deactivated"
    if any(r.user_id == user.id and r.role == role for r in panel.roles):
        return "This user already holds that role on this panel"
    if role == "representative" and member_of(panel, user.agency_id) is None:
        return "A representative must belong to a member agency of the panel; add the agency first"
    return None


def add_role(actor, panel, user, role):
    panel_role = PanelRole(panel_id=panel.id, user_id=user.id, role=role)
    panel.roles.append(panel_role)
    db.session.flush()
    record("panel.role_added", actor, panel, detail={"user_id": str(user.id), "role": role})
    return panel_role


def remove_role(actor, panel, panel_role):
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
    """Active panels the user's agency sits on: the panels they may refer to."""
    return db.session.execute(
        select(Panel).join(PanelMember, PanelMember.panel_id == Panel.id)
        .where(PanelMember.agency_id == user.agency_id, Panel.is_active.is_(True)).order_by(Panel.name)
    ).scalars().all()
