"""Every write to an action: agreed at a hearing, reviewed at a later one, progress, completion and
chases; and the lists of actions (the agency's, the manager's, a case's open ones)."""
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from marac.actions.models import OPEN_FIRST, OVERDUE, Action, ActionCorrection, ActionStatus, ActionUpdate, UpdateKind
from marac.audit.services import record
from marac.cases import services as case_services
from marac.cases.models import VISIBLE_TO_PANEL, Case, CaseStatus
from marac.core.formatting import format_date
from marac.core.pagination import keyset_page
from marac.core.steps import StepRefused, check_version
from marac.core.timeutil import today, utcnow
from marac.extensions import db
from marac.meetings import services as meetings
from marac.notifications.models import EmailKind
from marac.notifications.services import absolute_link, notify, remind_once
from marac.panels.models import PanelMember, PanelRole, Role
from marac.sharing.models import WITHHELD, Category


# --- lists -----------------------------------------------------------------------------------

# Open actions first, the most overdue first; then the rest by due date (served by ix_actions_list*).
ORDER = ((OPEN_FIRST, False), (Action.due_on, False), (Action.id, False))


def _listed(stmt, filters, at, per_page, options):
    """One page of the actions that pass the filters (ActionFilterForm.filters), from the Cursor `at`."""
    status = filters.get("status")
    # Plain conditions on the status: the list walks its index (open first, by due date) in order and
    # stops at the page's end (is_open's equality on the order's own expression makes SQLite sort instead).
    if status == OVERDUE:
        stmt = stmt.where(Action.status == ActionStatus.OPEN, Action.due_on < today())
    elif status:
        stmt = stmt.where(Action.status == status)
    if filters.get("owner_agency_id"):
        stmt = stmt.where(Action.owner_agency_id == filters["owner_agency_id"])
    if filters.get("due_from"):
        stmt = stmt.where(Action.due_on >= filters["due_from"])
    if filters.get("due_to"):
        stmt = stmt.where(Action.due_on <= filters["due_to"])
    return keyset_page(stmt, ORDER, Action.id, at, per_page, options)


def _of_listed_cases(*conditions):
    """Actions whose case is on its panel's list (and meets `conditions`): a semi-join, so that the list
    is read in its own order from the actions' index and each row's case is looked up by its key."""
    return select(Case.id).where(Case.id == Action.case_id, Case.status.in_(VISIBLE_TO_PANEL), *conditions).exists()


def agency_actions(user, at, filters=None, per_page=50):
    """The user's agency's actions across the panels whose cases the user sees (as manager or chair, or
    as representative of a member agency: Action.can_view): open ones first, the most overdue first.
    A user without such a role (a steering-group member) sees none: actions are case information."""
    own_roles = select(PanelRole.panel_id).where(PanelRole.user_id == user.id)
    panels = or_(
        Action.panel_id.in_(own_roles.where(PanelRole.role.in_((Role.MANAGER, Role.CHAIR)))),
        Action.panel_id.in_(own_roles.join(PanelMember, PanelMember.panel_id == PanelRole.panel_id)
                            .where(PanelRole.role == Role.REPRESENTATIVE, PanelMember.agency_id == user.agency_id)))
    stmt = select(Action).where(Action.owner_agency_id == user.agency_id, panels, _of_listed_cases())
    return _listed(stmt, filters or {}, at, per_page, (selectinload(Action.case).selectinload(Case.panel),))


def panel_actions(panel, at, filters=None, per_page=50):
    """The actions on the panel's cases, for its manager: open ones first, the most overdue first."""
    stmt = select(Action).where(Action.panel_id == panel.id, _of_listed_cases(Case.panel_id == panel.id))
    return _listed(stmt, filters or {}, at, per_page, (selectinload(Action.case),))


def chase_actions(actor, panel, action_ids, note):
    """Record one chase, with one note, on each of the panel's open actions chosen (the manager); an id
    that is not an open action of the panel the actor may chase is refused, and nothing is recorded."""
    if not action_ids:
        raise StepRefused("Choose the actions to chase", field="action_ids")
    found = db.session.execute(select(Action).join(Case, Case.id == Action.case_id).where(
        Action.id.in_(action_ids), Case.panel_id == panel.id)).scalars().all()
    if len(found) != len(set(action_ids)) or not all(a.can_chase(actor) for a in found):
        raise StepRefused("Some of the actions chosen cannot be chased here: reload the list and choose again",
                          field="action_ids")
    closed = [a for a in found if a.status != ActionStatus.OPEN]
    if closed:
        raise StepRefused(f"Only open actions can be chased: {len(closed)} of those chosen "
                          f"{'is' if len(closed) == 1 else 'are'} closed", field="action_ids")
    for action in found:
        update_action(actor, action, UpdateKind.CHASE, note, None)
    return found


def open_actions_for(case, item=None):
    """Open actions of the case and of the earlier case it repeats: reviewed at this hearing.
    Actions agreed at this hearing itself (`item`) are not earlier ones and are left out."""
    case_ids = [case.id] + ([case.repeat_of_id] if case.repeat_of_id else [])
    stmt = (select(Action).join(Case, Case.id == Action.case_id)
            .where(Action.case_id.in_(case_ids), Action.status == ActionStatus.OPEN, Case.status.in_(VISIBLE_TO_PANEL)))
    if item is not None:
        stmt = stmt.where(Action.agenda_item_id != item.id)
    return db.session.execute(stmt.order_by(Action.due_on)).scalars().all()


def actions_agreed_at(item):
    """The actions agreed at this hearing, in the order they were agreed."""
    return db.session.execute(select(Action).where(Action.agenda_item_id == item.id)
                              .order_by(Action.created_at)).scalars().all()


def case_chronology(case, viewer, categories):
    """The case's actions for its chronology (cases.services.chronology_sources): each action the
    viewer may see when agreed, and its completion and reviews at later hearings, the text with
    `narrative` only."""
    Stage, Entry = case_services.ChronologyStage, case_services.ChronologyEntry
    narrative = Category.NARRATIVE in categories
    found = db.session.execute(select(Action).where(Action.case_id == case.id)
                               .options(selectinload(Action.updates), selectinload(Action.item))).scalars().all()
    entries = []
    for action in found:
        if not action.can_view(viewer):
            continue
        owner = action.owner_agency.name
        link = ("actions.detail", {"action_id": action.id})
        text = (action.description or "") if narrative else WITHHELD
        entries.append(Entry(action.created_at, Stage.ACTION,
                             f"Action agreed for {owner}, due {format_date(action.due_on)}", [("Action", text)],
                             link=link))
        for update in action.updates:
            if update.kind not in (UpdateKind.REVIEW, UpdateKind.COMPLETED):
                continue
            stage = Stage.REVIEW if update.kind == UpdateKind.REVIEW else Stage.ACTION
            verb = "reviewed at a hearing" if update.kind == UpdateKind.REVIEW else "completed"
            details = [("Note", (update.note or "") if narrative else WITHHELD)] if update.note else []
            entries.append(Entry(update.at, stage, f"Action for {owner} {verb}: {ActionStatus.label_of(update.status)}",
                                 details, link=link))
    return entries


case_services.chronology_sources.append(case_chronology)


# --- writes ----------------------------------------------------------------------------------

def _note(update, action, note):
    update.note = (note or "").strip() or None
    action.updates.append(update)


def add_action(actor, item, owner_agency_id, description, due_on, named_person):
    """Agree an action at a hearing, owned by a member agency of the panel; only while the case may
    be discussed (meetings.check_discussion)."""
    meetings.check_discussion(item.meeting)
    if not item.meeting.panel.is_member(owner_agency_id):
        raise StepRefused("The owner must be a member agency of the panel", field="owner_agency_id")
    if due_on < item.meeting.meets_on:
        raise StepRefused(f"The due date must be on or after the meeting ({format_date(item.meeting.meets_on)})",
                          field="due_on")
    action = Action(case_id=item.case_id, agenda_item_id=item.id, owner_agency_id=owner_agency_id, due_on=due_on,
                    named_person=(named_person or "").strip() or None, status=ActionStatus.OPEN)
    action.description = description.strip()
    _note(ActionUpdate(user_id=actor.id, at=utcnow(), kind=UpdateKind.CREATED, status=ActionStatus.OPEN), action, None)
    db.session.add(action)
    db.session.flush()
    record("action.created", actor, action, detail={"owner_agency_id": str(owner_agency_id)})
    return action


def review_action(actor, action, outcome, note):
    """At a hearing: done, not possible (circumstances changed) or not done by the agency closes the
    action; open keeps it open. The review stays in its history either way."""
    if outcome != ActionStatus.OPEN and outcome not in ActionStatus.review_outcomes():
        raise StepRefused("Choose the outcome of the review from the list")
    if outcome != ActionStatus.OPEN:
        action.status = outcome
        action.closed_at = utcnow()
    _note(ActionUpdate(action_id=action.id, user_id=actor.id, at=utcnow(), kind=UpdateKind.REVIEW, status=outcome),
          action, note)
    db.session.flush()
    record("action.reviewed", actor, action, detail={"outcome": outcome})


def update_action(actor, action, kind, note, expected_version):
    """Record progress, completion or a chase by the manager. A form opened before another update is
    refused, so two people updating one action never lose either change."""
    check_version(action, expected_version)
    if action.status != ActionStatus.OPEN and kind != UpdateKind.CHASE:
        raise StepRefused("This action is closed")
    if kind == UpdateKind.COMPLETED:
        action.status = ActionStatus.DONE
        action.closed_at = utcnow()
    elif kind == UpdateKind.CHASE:
        action.last_chased_at = utcnow()
    update = ActionUpdate(user_id=actor.id, at=utcnow(), kind=kind, status=action.status)
    _note(update, action, note)
    flag_modified(action, "due_on")  # write the row even for a note, so that its version moves on
    db.session.flush()
    record(f"action.{kind}", actor, action, detail={"status": action.status})
    if kind == UpdateKind.CHASE:
        notify(EmailKind.ACTION_CHASED, meetings.representatives(action.case.panel, action.owner_agency_id),
               absolute_link("actions.detail", action_id=action.id), action.case.panel.name, actor=actor)
    return update


# --- corrections before the minutes are final -------------------------------------------------

def why_not_correct(action):
    """Why the action cannot be corrected or removed (None when it can): until the minutes of the meeting
    it was agreed at are final, and while nothing but its agreement is in its history."""
    if action.item.meeting.minutes_locked:
        return "The minutes are final, so this action can no longer be corrected or removed."
    if any(u.kind != UpdateKind.CREATED for u in action.updates):
        return "Progress has been recorded on this action, so it can no longer be corrected or removed."
    return None


def _refuse_correction(action, reason, allowed):
    problem = why_not_correct(action)
    if problem:
        raise StepRefused(problem)
    if reason not in allowed:
        raise StepRefused("Choose the reason from the list", field="reason")


def correct_action(actor, action, owner_agency_id, description, due_on, named_person, reason, expected_version):
    """Correct an action agreed at a hearing (its wording, owner or due date) until the minutes are final;
    the reason (a code) and the fields corrected are audited, never their values."""
    _refuse_correction(action, reason, ActionCorrection.corrections())
    check_version(action, expected_version)
    meeting = action.item.meeting
    if not meeting.panel.is_member(owner_agency_id):
        raise StepRefused("The owner must be a member agency of the panel", field="owner_agency_id")
    if due_on < meeting.meets_on:
        raise StepRefused(f"The due date must be on or after the meeting ({format_date(meeting.meets_on)})",
                          field="due_on")
    before = {"owner_agency_id": action.owner_agency_id, "description": action.description, "due_on": action.due_on,
              "named_person": action.named_person}
    action.owner_agency_id, action.due_on = owner_agency_id, due_on
    action.description, action.named_person = description.strip(), (named_person or "").strip() or None
    changed = sorted(name for name, value in before.items() if value != getattr(action, name))
    if not changed:
        raise StepRefused("Nothing was changed. Correct the action, or go back to the hearing")
    db.session.flush()
    record("action.corrected", actor, action, detail={"reason": reason, "fields": changed})


def remove_action(actor, action, reason):
    """Remove an action agreed in error (or twice) until the minutes are final; the removal and its
    reason (a code) are audited."""
    _refuse_correction(action, reason, ActionCorrection.removals())
    detail = {"reason": reason, "agenda_item_id": str(action.agenda_item_id),
              "owner_agency_id": str(action.owner_agency_id)}
    record("action.removed", actor, action, detail=detail)
    db.session.delete(action)
    db.session.flush()
def send_overdue_digests(on=None):
    """Email each member agency's representatives, once a week (ISO week), how many of the agency's
    open actions on the panel are overdue: one digest per agency and panel, never one per action.
    Returns the number of emails sent."""
    day = on or today()
    week = "{0}-W{1:02d}".format(*day.isocalendar()[:2])
    counts = db.session.execute(
        select(Case.panel_id, Action.owner_agency_id, func.count()).join(Case, Case.id == Action.case_id)
        .where(Action.status == ActionStatus.OPEN, Action.due_on < day, Case.status.in_(VISIBLE_TO_PANEL))
        .group_by(Case.panel_id, Action.owner_agency_id)).all()
    sent = 0
    for panel_id, agency_id, count in counts:
        member = db.session.execute(select(PanelMember).where(
            PanelMember.panel_id == panel_id, PanelMember.agency_id == agency_id)).scalar_one_or_none()
        if member is None:
            continue
        sent += len(remind_once(EmailKind.ACTIONS_OVERDUE, member.id, week,
                                meetings.representatives(member.panel, agency_id),
                                absolute_link("actions.mine"), member.panel.name, count=count))
    return sent


def close_on_transfer(actor, case):
    """Close every open action of the case as transferred (its case went to another area's MARAC);
    each keeps the closure in its history. Returns how many were closed."""
    actions = db.session.execute(select(Action).where(Action.case_id == case.id, Action.status == ActionStatus.OPEN)
                                 ).scalars().all()
    now = utcnow()
    for action in actions:
        action.status, action.closed_at = ActionStatus.TRANSFERRED, now
        _note(ActionUpdate(action_id=action.id, user_id=actor.id, at=now, kind=UpdateKind.TRANSFERRED,
                           status=ActionStatus.TRANSFERRED), action, None)
    db.session.flush()
    for action in actions:
        record("action.transferred", actor, action, detail={"status": ActionStatus.TRANSFERRED})
    return len(actions)
