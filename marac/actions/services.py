"""Progress, completion and chases of actions; the agency's and the manager's lists."""
from sqlalchemy import case as sql_case
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from marac.actions.models import Action, ActionUpdate
from marac.audit.services import record
from marac.cases.models import Case
from marac.core.steps import StepRefused, check_version
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.panels.models import PanelRole


def _open_first_then_overdue():
    return (sql_case((Action.status == "open", 0), else_=1), Action.due_on.asc())


def agency_actions(user, today, page, status=None, per_page=50):
    """The user's agency's actions across the panels the user works on (as manager, chair or
    representative): open ones first, the most overdue first. A user without such a role (a
    steering-group member) sees none: actions are case information."""
    panels = select(PanelRole.panel_id).where(PanelRole.user_id == user.id,
                                              PanelRole.role.in_(("manager", "chair", "representative")))
    stmt = (select(Action).join(Case, Case.id == Action.case_id)
            .where(Action.owner_agency_id == user.agency_id, Case.panel_id.in_(panels)))
    if status:
        stmt = stmt.where(Action.status == status)
    stmt = stmt.order_by(*_open_first_then_overdue()).options(
        selectinload(Action.case).selectinload(Case.panel))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def panel_actions(panel, today, page, status=None, per_page=50):
    stmt = select(Action).join(Case, Case.id == Action.case_id).where(Case.panel_id == panel.id)
    if status:
        stmt = stmt.where(Action.status == status)
    stmt = stmt.order_by(*_open_first_then_overdue()).options(selectinload(Action.case))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def update_action(actor, action, kind, note, expected_version):
    """Record progress, completion ('completed') or a chase by the manager ('chase'). A form opened
    before another update is refused, so two people updating one action never lose either change."""
    check_version(action, expected_version)
    if action.status != "open" and kind != "chase":
        raise StepRefused("This action is closed")
    if kind == "completed":
        action.status = "done"
        action.closed_at = utcnow()
    elif kind == "chase":
        action.last_chased_at = utcnow()
    update = ActionUpdate(user_id=actor.id, at=utcnow(), kind=kind, status=action.status)
    update.note = (note or "").strip() or None
    action.updates.append(update)
    flag_modified(action, "due_on")  # write the row even for a note, so that its version moves on
    db.session.flush()
    record(f"action.{kind}", actor, action, detail={"status": action.status})
    return update
