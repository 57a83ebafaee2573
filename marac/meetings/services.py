"""The panel manager's cycle: schedule, agenda, research, register and confidentiality, hearings,
minutes. Every step writes its audit event in the caller's transaction; nothing here commits."""
import calendar
import datetime as dt

from sqlalchemy import exists, func, or_, select, true
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from marac.actions import services as actions
from marac.actions.models import ActionStatus
from marac.audit.services import record
from marac.cases import services as case_services
from marac.cases.models import Case, CaseParty, CaseStatus
from marac.core.formatting import format_date
from marac.core.pagination import ListPage
from marac.core.steps import StepRefused, check_version
from marac.core.timeutil import today, utcnow
from marac.core.workdays import add_working_days, why_not_a_working_day
from marac.extensions import db
from marac.meetings.models import (ATTENDED, AgendaItem, Attendance, AttendanceStatus, Attendee, ItemStatus, Meeting,
                                   MeetingStatus, MinuteAmendment, RegisterCorrection, ResearchReturn)
from marac.notifications.models import EmailKind
from marac.notifications.services import absolute_link, notify, remind_once
from marac.panels.models import Cadence, PanelMember, PanelRole, Role
from marac.sharing.models import WITHHELD, Category
from marac.users.models import User

SCHEDULE_HORIZON = dt.timedelta(days=183)


# --- schedule --------------------------------------------------------------------------------

def _nth_weekday(year, month, weekday, n):
    """The n-th (1-based) given weekday of a month, or the last one if the month has fewer."""
    days = [d for d in range(1, calendar.monthrange(year, month)[1] + 1)
            if dt.date(year, month, d).weekday() == weekday]
    return dt.date(year, month, days[min(n, len(days)) - 1])


def pattern_dates(cadence, start_on, until):
    """Meeting dates from start_on to until: every 7 or 14 days, or monthly on the same n-th weekday."""
    dates = []
    if cadence in (Cadence.WEEKLY, Cadence.FORTNIGHTLY):
        step = dt.timedelta(days=7 if cadence == Cadence.WEEKLY else 14)
        day = start_on
        while day <= until:
            dates.append(day)
            day += step
        return dates
    n = (start_on.day - 1) // 7 + 1
    year, month = start_on.year, start_on.month
    while True:
        day = _nth_weekday(year, month, start_on.weekday(), n)
        if day > until:
            return dates
        if day >= start_on:
            dates.append(day)
        month += 1
        if month > 12:
            year, month = year + 1, 1


def schedule(actor, panel, start_on, starts_at, until=None):
    """Create the meetings of the panel's pattern from start_on (up to six months ahead by default);
    dates that already have a meeting are left alone. Returns the meetings created."""
    until = until or start_on + SCHEDULE_HORIZON
    existing = set(db.session.execute(select(Meeting.meets_on).where(Meeting.panel_id == panel.id)).scalars())
    created = []
    for day in pattern_dates(panel.cadence, start_on, until):
        if day not in existing:
            meeting = Meeting(panel_id=panel.id, panel=panel, meets_on=day, starts_at=starts_at,
                              status=MeetingStatus.SCHEDULED)
            db.session.add(meeting)
            created.append(meeting)
    panel.meeting_time = starts_at
    db.session.flush()
    record("meetings.scheduled", actor, panel, detail={"created": len(created), "cadence": panel.cadence,
                                                       "from": start_on.isoformat(), "until": until.isoformat()})
    return created


def _check_date_free(panel_id, meets_on, meeting_id=None):
    """A panel meets at most once a day (cancelled meetings aside)."""
    clash = select(Meeting.id).where(Meeting.panel_id == panel_id, Meeting.meets_on == meets_on,
                                     Meeting.status != MeetingStatus.CANCELLED)
    if meeting_id is not None:
        clash = clash.where(Meeting.id != meeting_id)
    if db.session.execute(clash).first():
        raise StepRefused(f"The panel already has a meeting on that date ({format_date(meets_on)}). Choose another date",
                          field="meets_on")


def why_not_usual_day(meets_on):
    """Why a date needs confirming before a meeting is held on it ("Saturday 5 December 2026 is a
    Saturday", or a bank holiday), or None for a working day."""
    why = why_not_a_working_day(meets_on)
    return f"{format_date(meets_on, 'weekday')} is {why}" if why else None


def _check_date(panel_id, meets_on, anyway, meeting_id=None):
    """The date rules of a meeting: free for the panel, and a working day unless confirmed (`anyway`)."""
    _check_date_free(panel_id, meets_on, meeting_id)
    problem = why_not_usual_day(meets_on)
    if problem and not anyway:
        raise StepRefused(f"{problem}. Choose another date, or tick “Hold it on this date anyway”", field="meets_on")


def add_meeting(actor, panel, meets_on, starts_at, anyway=False):
    """Add one meeting outside the pattern, on a day the panel does not already meet; a weekend or a
    bank holiday only when confirmed (`anyway`)."""
    _check_date(panel.id, meets_on, anyway)
    meeting = Meeting(panel_id=panel.id, panel=panel, meets_on=meets_on, starts_at=starts_at,
                      status=MeetingStatus.SCHEDULED)
    db.session.add(meeting)
    db.session.flush()
    record("meeting.added", actor, meeting, detail={"meets_on": meets_on.isoformat(),
                                                    "not_a_working_day": bool(why_not_usual_day(meets_on))})
    return meeting


def move_meeting(actor, meeting, meets_on, starts_at, expected_version, anyway=False):
    """Move a meeting that has not started to another free day or time, not in the past; a weekend or a
    bank holiday only when confirmed (`anyway`). Its agenda goes with it."""
    check_version(meeting, expected_version)
    if meeting.status != MeetingStatus.SCHEDULED:
        raise StepRefused("Only a meeting that has not started can be moved")
    if meets_on < today():
        raise StepRefused("A meeting cannot be moved into the past. Choose today or a later date", field="meets_on")
    _check_date(meeting.panel_id, meets_on, anyway, meeting.id)
    old = meeting.meets_on
    meeting.meets_on, meeting.starts_at = meets_on, starts_at
    db.session.flush()
    record("meeting.moved", actor, meeting, detail={"from": old.isoformat(), "to": meets_on.isoformat(),
                                                    "not_a_working_day": bool(why_not_usual_day(meets_on))})


def _refuse(problem):
    """Refuse the step for the reason a why_not_* rule gave (None: go ahead)."""
    if problem:
        raise StepRefused(problem)


def why_not_cancel(meeting):
    """Why the meeting cannot be cancelled (None when it can): only one that has not started can."""
    if meeting.status != MeetingStatus.SCHEDULED:
        return "Only a meeting that has not started can be cancelled."
    if any(_has_actions(item) for item in meeting.items):
        return "Actions were agreed at this meeting, so it cannot be cancelled."
    return None


def _has_actions(item):
    """Whether actions were agreed at the item: it is then their record, and is never deleted."""
    return bool(actions.actions_agreed_at(item))


def cancel_meeting(actor, meeting):
    """Cancel a meeting that has not started; its listed cases go back to waiting."""
    _refuse(why_not_cancel(meeting))
    released = len(meeting.items)
    meeting.items = []
    meeting.status = MeetingStatus.CANCELLED
    db.session.flush()
    record("meeting.cancelled", actor, meeting, detail={"cases_released": released})


def upcoming_and_recent(panel, recent=26):
    """The panel's meetings still to come (soonest first) and the `recent` latest that are over. A meeting
    still to be held (scheduled or running) is upcoming whatever its date, so that neither it nor the cases
    listed at it ever drop out of sight; one over (held or cancelled) is recent once its day has passed.
    Two queries, each reading only the meetings it returns, however many years the panel has met."""
    upcoming = or_(Meeting.status.in_(_STILL_TO_HOLD), Meeting.meets_on >= today())
    mine = select(Meeting).where(Meeting.panel_id == panel.id)
    return (db.session.execute(mine.where(upcoming).order_by(Meeting.meets_on, Meeting.id)).scalars().all(),
            db.session.execute(mine.where(~upcoming).order_by(Meeting.meets_on.desc(), Meeting.id.desc())
                               .limit(recent)).scalars().all())


def cases_per_meeting(meetings):
    """{meeting id: cases listed} for the meetings, in one query rather than one a meeting."""
    return dict(db.session.execute(
        select(AgendaItem.meeting_id, func.count()).where(AgendaItem.meeting_id.in_([m.id for m in meetings]))
        .group_by(AgendaItem.meeting_id)).all())


def next_meeting_after(meeting):
    """The panel's next scheduled meeting after this one, or None."""
    return db.session.execute(
        select(Meeting).where(Meeting.panel_id == meeting.panel_id, Meeting.meets_on > meeting.meets_on,
                              Meeting.status == MeetingStatus.SCHEDULED)
        .order_by(Meeting.meets_on).limit(1)).scalar_one_or_none()


# --- agenda ----------------------------------------------------------------------------------

_STILL_TO_HOLD = (MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS)


def _waiting(panel):
    """The statement of the panel's waiting cases (accepted and waiting to be heard since: Case.awaits_hearing,
    not listed at a meeting still to be held), in the order they wait: incoming transfers from another
    area's MARAC first, then repeats, then by referral date. Read from an index (ix_cases_waiting): the
    cases the panel has heard, thousands, are never looked at."""
    listed = (select(AgendaItem.id).join(Meeting, Meeting.id == AgendaItem.meeting_id)
              .where(AgendaItem.case_id == Case.id, AgendaItem.status == ItemStatus.LISTED,
                     Meeting.status.in_(_STILL_TO_HOLD)))
    return (select(Case).where(Case.panel_id == panel.id, Case.status == CaseStatus.ACCEPTED,
                               Case.awaits_hearing == true(), ~exists(listed))
            .order_by(Case.is_transfer_in.desc(), Case.is_repeat.desc(), Case.referred_on.asc(), Case.reference.asc(),
                      Case.id))


_WAITING_LOADS = (selectinload(Case.parties), selectinload(Case.repeat_of))


def waiting_cases(panel, only=None):
    """The panel's waiting cases in the order they wait (_waiting); with `only` (case ids), those of them
    that are still waiting."""
    stmt = _waiting(panel) if only is None else _waiting(panel).where(Case.id.in_(list(only)))
    return db.session.execute(stmt.options(*_WAITING_LOADS)).scalars().all()


def waiting_page(panel, page, per_page=50):
    """One page of the panel's waiting cases (a ListPage of cases, with the number waiting): the order
    is worked out on the ids, and only the page's cases are loaded, with their people. A busy panel has
    hundreds waiting (675 at 100,000 cases), and the agenda builder showed, disclosed and rendered every
    one of them (390 ms)."""
    ids = db.session.execute(_waiting(panel).with_only_columns(Case.id)).scalars().all()
    shown = ListPage(ids, page, per_page)
    loaded = {case.id: case for case in db.session.execute(
        select(Case).where(Case.id.in_(shown.items)).options(*_WAITING_LOADS)).scalars()} if shown.items else {}
    shown.items = [loaded[case_id] for case_id in shown.items if case_id in loaded]
    return shown


def listed_to_be_heard(case):
    """Why the case cannot close yet: it is listed at a meeting still to be held (None if it is not).
    Registered with cases.services.closure_blockers below."""
    meets_on = db.session.execute(
        select(Meeting.meets_on).join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
        .where(AgendaItem.case_id == case.id, AgendaItem.status == ItemStatus.LISTED,
               Meeting.status.in_(_STILL_TO_HOLD))).scalars().first()
    if meets_on is None:
        return None
    return (f"The case is listed for the meeting on {format_date(meets_on)}. Take it off that agenda (or hear it) "
            "before closing it.")


case_services.closure_blockers.append(listed_to_be_heard)


def case_chronology(case, viewer, categories):
    """The case's listings and hearings for its chronology (cases.services.chronology_sources): each
    listing the viewer may see, and each hearing with its risk summary and minute (`narrative`)."""
    Stage, Entry = case_services.ChronologyStage, case_services.ChronologyEntry
    narrative = Category.NARRATIVE in categories
    items = db.session.execute(select(AgendaItem).where(AgendaItem.case_id == case.id)
                               .options(selectinload(AgendaItem.meeting))).scalars().all()
    entries = []
    for item in items:
        if not item.can_view(viewer):
            continue
        meeting = item.meeting
        link = ("meetings.detail", {"meeting_id": meeting.id})
        on = format_date(meeting.meets_on)
        cancelled = " (the meeting was cancelled)" if meeting.status == MeetingStatus.CANCELLED else ""
        entries.append(Entry(item.created_at, Stage.LISTING, f"Listed for the meeting on {on}{cancelled}", link=link))
        if item.status == ItemStatus.HEARD and item.heard_at:
            entries.append(Entry(item.heard_at, Stage.HEARING, f"Heard at the meeting on {on}", [
                ("Risk summary", (item.risk_summary or "Not recorded") if narrative else WITHHELD),
                ("Minute", (item.minute or "Not recorded") if narrative else WITHHELD)], link=link))
        elif item.status == ItemStatus.DEFERRED:
            entries.append(Entry(meeting.closed_at or item.created_at, Stage.HEARING,
                                 f"Deferred at the meeting on {on}", link=link))
    return entries


case_services.chronology_sources.append(case_chronology)


def agenda_items(meeting, subjects=False, returns=False):
    """The meeting's items in order, each with its case (and, when asked, the case's people and the
    research returns) loaded in a fixed number of queries however many cases are listed; they also
    become meeting.items, so that pages reading them issue no query per case."""
    case = selectinload(AgendaItem.case)
    options = [case.selectinload(Case.parties).joinedload(CaseParty.person) if subjects else case]
    options.append(selectinload(AgendaItem.case).selectinload(Case.repeat_of))  # for Case.repeat_shown
    if returns:
        options.append(selectinload(AgendaItem.returns))
    items = db.session.execute(select(AgendaItem).where(AgendaItem.meeting_id == meeting.id)
                               .order_by(AgendaItem.position).options(*options)).scalars().all()
    set_committed_value(meeting, "items", items)
    return items


def _editable_agenda(meeting):
    if meeting.status != MeetingStatus.SCHEDULED:
        raise StepRefused("The agenda of a meeting that has started cannot be changed")


def list_case(actor, meeting, case):
    """List an accepted case of the panel at the end of the agenda (an incoming transfer after the other
    transfers, before every other case), unless it is listed already (here or at another meeting still
    to be held)."""
    _editable_agenda(meeting)
    if case.panel_id != meeting.panel_id or case.status != CaseStatus.ACCEPTED:
        raise StepRefused("Only accepted cases of this panel can be listed")
    if any(item.case_id == case.id for item in meeting.items):
        raise StepRefused("That case is already on this agenda")
    elsewhere = db.session.execute(
        select(Meeting.meets_on).join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
        .where(AgendaItem.case_id == case.id, AgendaItem.status == ItemStatus.LISTED,
               Meeting.status.in_(_STILL_TO_HOLD), Meeting.id != meeting.id)).scalars().first()
    if elsewhere is not None:
        raise StepRefused(f"That case is already listed for the meeting on {format_date(elsewhere)}")
    position = len(meeting.items) + 1
    if case.is_transfer_in:
        position = 1 + sum(1 for listed in meeting.items if listed.case.is_transfer_in)
        for listed in meeting.items:
            if listed.position >= position:
                listed.position += 1
    item = AgendaItem(meeting_id=meeting.id, case_id=case.id, case=case, position=position)
    meeting.items.append(item)
    db.session.flush()
    record("agenda.case_listed", actor, meeting, detail={"case_id": str(case.id)})
    return item


def list_cases(actor, meeting, case_ids):
    """List several waiting cases at once, in the order they wait (waiting_cases); refused, and nothing
    listed, if any of them is not waiting for this panel's agenda any more."""
    _editable_agenda(meeting)
    if not case_ids:
        raise StepRefused("Tick the cases to list", field="case_ids")
    waiting = {case.id: case for case in waiting_cases(meeting.panel, only=case_ids)}
    if not set(case_ids) <= set(waiting):
        raise StepRefused("Some of the cases ticked are no longer waiting: look at the list again and tick them again",
                          field="case_ids")
    chosen = set(case_ids)
    return [list_case(actor, meeting, case) for case_id, case in waiting.items() if case_id in chosen]


def unlist_case(actor, meeting, item):
    """Take a case off the agenda (it waits again) and close the gap in the order."""
    _editable_agenda(meeting)
    if _has_actions(item):
        raise StepRefused("Actions were agreed for this case at this meeting, so it stays on the agenda")
    meeting.items.remove(item)
    _renumber(meeting)
    db.session.flush()
    record("agenda.case_removed", actor, meeting, detail={"case_id": str(item.case_id)})


def listed_at(case):
    """The meetings still to be held whose agenda lists the case, soonest first."""
    return db.session.execute(
        select(Meeting).join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
        .where(AgendaItem.case_id == case.id, AgendaItem.status == ItemStatus.LISTED,
               Meeting.status.in_(_STILL_TO_HOLD)).order_by(Meeting.meets_on)).scalars().all()


def withdraw_from_agendas(actor, case):
    """Take a case off the agendas of the meetings still to be held, as it leaves the panel (transferred
    to another area's MARAC); refused while a meeting that lists it is running. Returns how many."""
    items = db.session.execute(
        select(AgendaItem).join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(AgendaItem.case_id == case.id, AgendaItem.status == ItemStatus.LISTED,
               Meeting.status.in_(_STILL_TO_HOLD))).scalars().all()
    if any(item.meeting.status != MeetingStatus.SCHEDULED for item in items):
        raise StepRefused("The case is listed at a meeting in progress. Transfer it once the meeting has closed.")
    for item in items:
        meeting = item.meeting
        meeting.items.remove(item)
        _renumber(meeting)
        db.session.flush()
        record("agenda.case_removed", actor, meeting, detail={"case_id": str(case.id), "transferred": True})
    return len(items)


def _renumber(meeting):
    for position, item in enumerate(sorted(meeting.items, key=lambda i: i.position), start=1):
        item.position = position


def move_item(actor, meeting, item, direction):
    """Swap an item with its neighbour above (-1) or below (+1)."""
    _editable_agenda(meeting)
    items = sorted(meeting.items, key=lambda i: i.position)
    index = items.index(item)
    other = index + direction
    if 0 <= other < len(items):
        items[index].position, items[other].position = items[other].position, items[index].position
        db.session.flush()
        record("agenda.reordered", actor, meeting, detail={"case_id": str(item.case_id), "position": other + 1})


def publish(actor, meeting):
    """Publish the agenda: member agencies' representatives then see the listed cases."""
    _editable_agenda(meeting)
    if not meeting.items:
        raise StepRefused("List at least one case before publishing the agenda")
    deadline = meeting.agenda_deadline
    meeting.agenda_published_at = utcnow()
    meeting.agenda_due_on = deadline
    db.session.flush()
    late = meeting.agenda_is_late(today())
    record("agenda.published", actor, meeting, detail={"cases": len(meeting.items), "late": late,
                                                       "over_capacity": len(meeting.items) > meeting.panel.capacity})
    notify(EmailKind.AGENDA_PUBLISHED, representatives(meeting.panel), absolute_link("meetings.detail",
           meeting_id=meeting.id), meeting.panel.name, on=meeting.meets_on, actor=actor)


def representatives(panel, agency_id=None):
    """The active users who represent a member agency of the panel (or this one member agency)."""
    stmt = (select(User).join(PanelRole, PanelRole.user_id == User.id)
            .join(PanelMember, (PanelMember.panel_id == PanelRole.panel_id) & (PanelMember.agency_id == User.agency_id))
            .where(PanelRole.panel_id == panel.id, PanelRole.role == Role.REPRESENTATIVE, User.is_active.is_(True))
            .order_by(User.email))
    if agency_id is not None:
        stmt = stmt.where(User.agency_id == agency_id)
    return db.session.execute(stmt).scalars().unique().all()


def research_reminder_day(meeting):
    """The day a missing return is chased: two working days before research is due."""
    return add_working_days(meeting.research_deadline, -2)


def send_research_reminders(on=None):
    """Email the representatives of each member agency whose research is missing (not shared) for any
    case on a published agenda, once, from two working days before it is due until it is due.
    Returns the number of emails sent."""
    day = on or today()
    sent = 0
    meetings = db.session.execute(select(Meeting).where(
        Meeting.status == MeetingStatus.SCHEDULED, Meeting.agenda_published_at.is_not(None),
        Meeting.meets_on >= day).options(selectinload(Meeting.items).selectinload(AgendaItem.returns))).scalars()
    for meeting in meetings:
        if not research_reminder_day(meeting) <= day <= meeting.research_deadline:
            continue
        for member in meeting.panel.members:
            missing = sum(1 for item in meeting.items
                          if not any(r.agency_id == member.agency_id and r.is_shared for r in item.returns))
            if missing:
                sent += len(remind_once(EmailKind.RESEARCH_DUE, meeting.id, meeting.meets_on.isoformat(),
                                        representatives(meeting.panel, member.agency_id),
                                        absolute_link("meetings.research_grid", meeting_id=meeting.id),
                                        meeting.panel.name, on=meeting.meets_on, count=missing))
    return sent


def carry_over(actor, meeting):
    """Move the items not heard (listed or deferred) of a held meeting to the next scheduled one."""
    if meeting.status != MeetingStatus.HELD:
        raise StepRefused("Close the meeting before carrying its unheard cases to the next one")
    target = next_meeting_after(meeting)
    if target is None:
        raise StepRefused("There is no later scheduled meeting to carry cases to; schedule one first")
    moved = 0
    present = {i.case_id for i in target.items}
    for item in meeting.unheard_items:
        if item.case_id not in present:
            target.items.append(AgendaItem(meeting_id=target.id, case_id=item.case_id, position=len(target.items) + 1))
            moved += 1
    db.session.flush()
    record("agenda.carried_over", actor, meeting, detail={"to_meeting": str(target.id), "cases": moved})
    return target, moved


# --- research --------------------------------------------------------------------------------

def return_of(item, agency_id):
    """The agency's research return for the item, or None."""
    return next((r for r in item.returns if r.agency_id == agency_id), None)


def why_research_closed(meeting):
    """Why research cannot be changed (None while it can): not after the meeting."""
    if meeting.status == MeetingStatus.HELD:
        return "Research cannot be changed after the meeting"
    return None


def save_return(actor, item, values, expected_version=None):
    """Create or update the actor's agency's research return for an agenda item."""
    _refuse(why_research_closed(item.meeting))
    research = return_of(item, actor.agency_id)
    if research is None:
        research = ResearchReturn(agenda_item_id=item.id, agency_id=actor.agency_id, updated_by_id=actor.id,
                                  updated_at=utcnow())
        item.returns.append(research)
    else:
        check_version(research, expected_version)
    research.nothing_held = values["nothing_held"]
    for field in ("relevant", "to_share", "withheld", "withheld_reason"):
        setattr(research, field, None if values["nothing_held"] else (values.get(field) or "").strip() or None)
    research.lawful_basis = None if values["nothing_held"] else values.get("lawful_basis") or None
    research.updated_by_id, research.updated_at = actor.id, utcnow()
    db.session.flush()
    record("research.saved", actor, item.case, detail={"agenda_item_id": str(item.id),
                                                       "nothing_held": research.nothing_held})
    return research


def share_return(actor, item):
    """Share the actor's agency's research for the item with the panel (what it withholds stays hidden)."""
    _refuse(why_research_closed(item.meeting))
    research = return_of(item, actor.agency_id)
    if research is None:
        raise StepRefused("Save your agency's research before sharing it")
    if not research.is_shared:
        research.is_shared, research.shared_at = True, utcnow()
    db.session.flush()
    record("research.shared", actor, item.case, detail={"agency_id": str(research.agency_id)},
           recipient_agency_id=None, purpose=research.lawful_basis)


def save_and_share(actor, item, values, expected_version=None):
    """The research page's "Share with the panel": what is typed is saved first, then shared."""
    save_return(actor, item, values, expected_version)
    share_return(actor, item)


def visible_returns(item, user):
    """The returns the user may read (ResearchReturn.can_view): their own agency's, and others' once
    shared. An unshared return is its agency's alone, the panel manager's neither."""
    return [r for r in item.returns if r.can_view(user)]


def research_grid(meeting):
    """{(agenda item id, agency id): return} for the manager's grid, in one query."""
    rows = db.session.execute(select(ResearchReturn).join(AgendaItem)
                              .where(AgendaItem.meeting_id == meeting.id)).scalars().all()
    return {(r.agenda_item_id, r.agency_id): r for r in rows}


# --- register and confidentiality ------------------------------------------------------------

def why_not_open(meeting):
    """Why the meeting cannot be opened (None when it can): once, published, and not before its day."""
    if meeting.status != MeetingStatus.SCHEDULED:
        return "This meeting has already been opened"
    if not meeting.is_published:
        return "Publish the agenda before opening the meeting"
    if today() < meeting.meets_on:
        return f"The meeting is on {format_date(meeting.meets_on, 'weekday')}: it can be opened on that day"
    return None


def open_meeting(actor, meeting):
    """Open a published meeting on (or after) its day: the register starts with every member agency absent."""
    _refuse(why_not_open(meeting))
    meeting.status = MeetingStatus.IN_PROGRESS
    meeting.opened_at = utcnow()
    for member in meeting.panel.members:
        meeting.attendances.append(Attendance(agency_id=member.agency_id, status=AttendanceStatus.ABSENT,
                                              is_core=member.is_core))
    db.session.flush()
    record("meeting.opened", actor, meeting)


def _running(meeting):
    if meeting.status != MeetingStatus.IN_PROGRESS:
        raise StepRefused("The meeting is not in progress")


def set_attendance(actor, meeting, statuses, quiet=False):
    """Record how each member agency attends. statuses: {agency id: status}; an agency left out (or
    None) keeps its status. `quiet`: record an event only when something changed (the register's
    other buttons save the agencies' statuses as shown, so that no choice made on the page is lost)."""
    _running(meeting)
    if any(status and status not in AttendanceStatus.values() for status in statuses.values()):
        raise StepRefused("Choose an attendance status from the list")
    changed = 0
    for attendance in meeting.attendances:
        status = statuses.get(attendance.agency_id)
        if status and status != attendance.status:
            attendance.status = status
            changed += 1
    db.session.flush()
    if changed or not quiet:
        record("meeting.register_recorded", actor, meeting, detail={"changed": changed})


def add_attendee(actor, meeting, name, role, agency_id, is_observer):
    """Name someone at the meeting, for an agency (which then counts as present) or as an observer."""
    _running(meeting)
    attendee = Attendee(meeting_id=meeting.id, name=name.strip(), role=(role or "").strip() or None,
                        agency_id=agency_id, is_observer=is_observer)
    meeting.attendees.append(attendee)
    if agency_id:
        _mark_present(meeting, agency_id)
    db.session.flush()
    record("meeting.attendee_added", actor, meeting, detail={"observer": is_observer,
                                                             "agency_id": str(agency_id) if agency_id else None})
    return attendee


def agree_confidentiality(actor, meeting, attendee):
    """Record that the attendee agreed to the panel's confidentiality statement."""
    _running(meeting)
    attendee.confidentiality_agreed_at = utcnow()
    db.session.flush()
    record("meeting.confidentiality_agreed", actor, meeting, detail={"attendee_id": str(attendee.id)})


def agree_all(actor, meeting):
    """After the chair reads the statement, everyone on the register agrees at once ("everyone present
    agrees"): each attendee not yet recorded as agreeing is recorded now."""
    _running(meeting)
    waiting = [a for a in meeting.attendees if not a.confidentiality_agreed_at]
    if not meeting.attendees:
        raise StepRefused("Add the people here before recording their agreement")
    now = utcnow()
    for attendee in waiting:
        attendee.confidentiality_agreed_at = now
    db.session.flush()
    record("meeting.confidentiality_agreed", actor, meeting,
           detail={"attendee_ids": [str(a.id) for a in waiting], "everyone": True})
    return len(waiting)


def expected_representatives(meeting):
    """[(agency, [users])]: each member agency's representatives on the panel (by agency name) who are
    not on the register yet, to add with one tick. Names of staff are not a case's personal data."""
    members = {m.agency_id: m.agency for m in meeting.panel.members}
    on_register = {(a.agency_id, a.name) for a in meeting.attendees}
    reps = db.session.execute(select(PanelRole).where(PanelRole.panel_id == meeting.panel_id,
                                                      PanelRole.role == Role.REPRESENTATIVE)).scalars().all()
    grouped = {}
    for role in reps:
        user = role.user
        if user.agency_id in members and user.is_active and (user.agency_id, user.full_name) not in on_register:
            grouped.setdefault(user.agency_id, []).append(user)
    return [(members[agency_id], sorted(users, key=lambda u: u.full_name))
            for agency_id, users in sorted(grouped.items(), key=lambda kv: members[kv[0]].name)]


def add_expected(actor, meeting, user_ids):
    """Add the ticked representatives (expected_representatives) to the register as present."""
    _running(meeting)
    expected = {u.id: u for _, users in expected_representatives(meeting) for u in users}
    chosen = [expected[i] for i in user_ids if i in expected]
    if not chosen:
        raise StepRefused("Tick the representatives who are here", field="expected")
    for user in chosen:
        add_attendee(actor, meeting, user.full_name, None, user.agency_id, False)
    return len(chosen)


def why_register_locked(meeting):
    """Why the people on the register cannot be corrected or removed (None while they can): from the
    opening of the meeting until its minutes are final."""
    if meeting.minutes_locked:
        return "The minutes are final, so the register can no longer be corrected."
    if meeting.status not in (MeetingStatus.IN_PROGRESS, MeetingStatus.HELD):
        return "The meeting has not been opened, so there is no register to correct."
    return None


def _check_reason(reason, allowed):
    if reason not in allowed:
        raise StepRefused("Choose the reason from the list", field="reason")


def correct_attendee(actor, attendee, name, role, agency_id, is_observer, reason):
    """Correct someone on the register (a misspelt name, the wrong agency) until the minutes are final;
    the reason (a code) is audited with the fields corrected, never their values."""
    meeting = attendee.meeting
    _refuse(why_register_locked(meeting))
    _check_reason(reason, RegisterCorrection.corrections())
    before = {"name": attendee.name, "role": attendee.role, "agency_id": attendee.agency_id,
              "is_observer": attendee.is_observer}
    attendee.name, attendee.role = name.strip(), (role or "").strip() or None
    attendee.agency_id, attendee.is_observer = (None if is_observer else agency_id), is_observer
    changed = sorted(k for k, v in before.items() if v != getattr(attendee, k))
    if not changed:
        raise StepRefused("Nothing was changed. Correct the details, or go back to the register")
    if attendee.agency_id:
        _mark_present(meeting, attendee.agency_id)
    if before["agency_id"] and before["agency_id"] != attendee.agency_id:
        _absent_if_nobody_named(meeting, before["agency_id"], attendee)
    db.session.flush()
    record("meeting.attendee_corrected", actor, meeting, detail={"attendee_id": str(attendee.id), "reason": reason,
                                                                 "fields": changed})


def remove_attendee(actor, attendee, reason):
    """Take someone off the register (added in error, did not come) until the minutes are final; their
    agency is absent again when nobody else is named for it. The reason (a code) is audited."""
    meeting = attendee.meeting
    _refuse(why_register_locked(meeting))
    _check_reason(reason, RegisterCorrection.removals())
    if attendee.agency_id:
        _absent_if_nobody_named(meeting, attendee.agency_id, attendee)
    meeting.attendees.remove(attendee)
    db.session.flush()
    record("meeting.attendee_removed", actor, meeting, detail={"attendee_id": str(attendee.id), "reason": reason,
                                                               "agency_id": str(attendee.agency_id or "") or None})


def _mark_present(meeting, agency_id):
    attendance = next((a for a in meeting.attendances if a.agency_id == agency_id), None)
    if attendance is not None and attendance.status not in ATTENDED:
        attendance.status = AttendanceStatus.PRESENT


def _absent_if_nobody_named(meeting, agency_id, leaving):
    """The agency attended through the one leaving the register: nobody is there for it any more."""
    if any(a.agency_id == agency_id for a in meeting.attendees if a is not leaving):
        return
    attendance = next((a for a in meeting.attendances if a.agency_id == agency_id), None)
    if attendance is not None and attendance.status in ATTENDED:
        attendance.status = AttendanceStatus.ABSENT


def discussion_blockers(meeting):
    """Why case discussion cannot start yet (empty when it can)."""
    problems = []
    if meeting.status != MeetingStatus.IN_PROGRESS:
        problems.append("Open the meeting first")
        return problems
    if not meeting.attendees:
        problems.append("Record who is present")
    named = {a.agency_id for a in meeting.attendees if a.agency_id}
    for attendance in meeting.attendances:
        if attendance.status in ATTENDED and attendance.agency_id not in named:
            problems.append(f"Name who is here for {attendance.agency.name}")
    waiting = [a.name for a in meeting.attendees if not a.confidentiality_agreed_at]
    if waiting:
        problems.append("Record the confidentiality agreement of " + ", ".join(waiting))
    return problems


# --- hearing ---------------------------------------------------------------------------------

def why_hearing_locked(meeting):
    """Why the hearings of the meeting cannot be changed (None while they can): only while it runs,
    before its minutes are final. Each reason says what comes next."""
    if meeting.minutes_locked:
        return ("The minutes of this meeting are final, so the hearing cannot be changed here: it is read-only. "
                "The panel manager corrects a minute as an amendment, from the meeting page.")
    if meeting.status == MeetingStatus.HELD:
        return ("The meeting is closed, so the hearing cannot be changed here: it is read-only. The panel manager "
                "finalises the minutes next; the register can be corrected until then.")
    if meeting.status == MeetingStatus.CANCELLED:
        return "The meeting was cancelled, so the hearing cannot be changed here."
    if meeting.status != MeetingStatus.IN_PROGRESS:
        return ("The meeting is not in progress, so the hearing cannot be changed here. Open it from the register on "
                "its day to hear cases.")
    return None


def check_hearing_open(meeting):
    """Refuse unless the meeting's hearings can still change (why_hearing_locked)."""
    _refuse(why_hearing_locked(meeting))


def check_discussion(meeting):
    """Refuse unless a case may be discussed now: the meeting runs and everyone there is named and
    has agreed to confidentiality. Hearings and new actions both need it."""
    check_hearing_open(meeting)
    blockers = discussion_blockers(meeting)
    if blockers:
        raise StepRefused("Case discussion cannot start: " + "; ".join(blockers))


def record_hearing(actor, item, risk_summary, minute, outcome, expected_version, reviews=()):
    """Save the risk summary and minute, with the reviews of earlier actions ((action, outcome, note);
    an empty outcome keeps the action open, and a note typed with it is recorded as a review); outcome heard, deferred or None (save only). A deferred
    case goes first on the next scheduled agenda."""
    meeting = item.meeting
    check_discussion(meeting)
    check_version(item, expected_version)
    for action, review, note in reviews:
        if review or (note or "").strip():  # a note with "Still open" is kept in the action's history
            actions.review_action(actor, action, review or ActionStatus.OPEN, note)
    item.risk_summary = (risk_summary or "").strip() or None
    item.minute = (minute or "").strip() or None
    if outcome in (ItemStatus.HEARD, ItemStatus.DEFERRED):
        item.status = outcome
        item.heard_at = utcnow() if outcome == ItemStatus.HEARD else None
    db.session.flush()
    record("agenda.case_" + (outcome or "minuted"), actor, item.case, detail={"meeting_id": str(meeting.id)})
    if outcome == ItemStatus.DEFERRED:
        target = next_meeting_after(meeting)
        if target is not None and not any(i.case_id == item.case_id for i in target.items):
            target.items.insert(0, AgendaItem(meeting_id=target.id, case_id=item.case_id, position=0))
            _renumber(target)
            db.session.flush()


def save_draft(actor, item, risk_summary, minute, expected_version):
    """Save the risk summary and minute as typed (encrypted, as they are once final), without an
    outcome: what every other button of the hearing page does first, so that nothing typed is lost."""
    check_hearing_open(item.meeting)
    check_version(item, expected_version)
    risk_summary, minute = (risk_summary or "").strip() or None, (minute or "").strip() or None
    if (risk_summary, minute) == (item.risk_summary, item.minute):
        return False
    item.risk_summary, item.minute = risk_summary, minute
    db.session.flush()
    record("agenda.case_draft_saved", actor, item.case, detail={"meeting_id": str(item.meeting_id)})
    return True


def add_action_at_hearing(actor, item, draft, owner_agency_id, description, due_on, named_person):
    """The hearing page's "Add action": the typed risk summary and minute (draft: (risk summary, minute,
    version), or None when the post carried none) are saved first (save_draft), then the action is agreed."""
    if draft is not None:
        save_draft(actor, item, *draft)
    return actions.add_action(actor, item, owner_agency_id, description, due_on, named_person)


def why_not_close(meeting):
    """Why the meeting cannot be closed (None when it can): only one in progress."""
    if meeting.status != MeetingStatus.IN_PROGRESS:
        return "Only a meeting in progress can be closed."
    return None


def close_meeting(actor, meeting):
    """Close the meeting: the register and hearings are then read-only."""
    _refuse(why_not_close(meeting))
    meeting.status = MeetingStatus.HELD
    meeting.closed_at = utcnow()
    db.session.flush()
    record("meeting.closed", actor, meeting, detail={
        "heard": sum(1 for i in meeting.items if i.status == ItemStatus.HEARD),
        "attended": sum(1 for a in meeting.attendances if a.status in ATTENDED)})


def why_not_finalise(meeting):
    """Why the minutes cannot be finalised (None when they can): the meeting is closed, once."""
    if meeting.status != MeetingStatus.HELD:
        return "Close the meeting before finalising its minutes."
    if meeting.minutes_locked:
        return "The minutes are already final."
    return None


def finalise_minutes(actor, meeting):
    """Finalise and lock the minutes: a later correction is an amendment that keeps the earlier text."""
    _refuse(why_not_finalise(meeting))
    meeting.minutes_finalised_at = utcnow()
    meeting.minutes_finalised_by_id = actor.id
    db.session.flush()
    record("minutes.finalised", actor, meeting)
    notify(EmailKind.MINUTES_READY, representatives(meeting.panel), absolute_link("meetings.detail",
           meeting_id=meeting.id), meeting.panel.name, on=meeting.meets_on, actor=actor)


def amend_minute(actor, item, new_minute, reason, expected_version):
    """After finalising, a correction keeps the earlier text and the reason."""
    if not item.meeting.minutes_locked:
        raise StepRefused("Edit the minute in the hearing page until the minutes are final")
    check_version(item, expected_version)
    amendment = MinuteAmendment(agenda_item_id=item.id, user_id=actor.id, at=utcnow())
    amendment.previous_minute = item.minute
    amendment.reason = reason.strip()
    item.amendments.append(amendment)
    item.minute = new_minute.strip()
    db.session.flush()
    record("minutes.amended", actor, item.case, detail={"agenda_item_id": str(item.id)})
