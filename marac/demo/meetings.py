"""Demo meetings: twelve months of past meetings (fortnightly MARAC, monthly MACE and ASB) with
agendas, registers (some agencies missing some meetings), minutes and actions (some overdue), and
upcoming meetings with the next agenda partly built. Runs through the same services as the pages;
only the times of past steps are set afterwards to when they would have happened."""
import datetime as dt
import random

from sqlalchemy import func, select

from marac.actions import services as actions
from marac.actions.models import ActionStatus, ActionUpdate, UpdateKind
from marac.agencies.models import AgencyKind
from marac.cases.models import CaseChange, CaseStatus, ChangeAction, ClosureOutcome
from marac.core.timeutil import today as today_
from marac.extensions import db
from marac.meetings import services
from marac.meetings.models import ATTENDED, AttendanceStatus, ItemStatus, LawfulBasis, Meeting, ResearchReturn
from marac.panels.models import Cadence, PanelKind, Role

# How reliably each kind of agency attends (the rest: deputy, apologies or absent).
ATTENDANCE_RATE = {AgencyKind.EDUCATION: 0.7, AgencyKind.PROBATION: 0.85, AgencyKind.SUBSTANCE_MISUSE: 0.8,
                   AgencyKind.HEALTH: 0.9}
ABSENCES = [AttendanceStatus.APOLOGIES_INFO, AttendanceStatus.APOLOGIES, AttendanceStatus.ABSENT]
# Reviews at the next hearing: mostly done.
REVIEWS = [ActionStatus.DONE, ActionStatus.DONE, ActionStatus.NOT_POSSIBLE, ActionStatus.NOT_DONE]
ACTIONS = ["Share the safety plan with the housing officer", "Flag the address for a priority police response",
           "Offer the victim an IDVA appointment", "Check school attendance and report back",
           "Review the tenancy and consider a management transfer", "Refer to the perpetrator programme",
           "Speak to the GP about disclosure on the next visit", "Check bail conditions and report any breach"]


def _at(day, hour=10):
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=dt.timezone.utc)


def _first_meeting(panel, today):
    """The panel's weekday a year ago (for monthly panels: the 2nd such weekday of that month)."""
    start = today - dt.timedelta(days=365)
    start += dt.timedelta(days=(panel.weekday - start.weekday()) % 7)
    if panel.cadence == Cadence.MONTHLY:
        start = start.replace(day=1)
        start += dt.timedelta(days=(panel.weekday - start.weekday()) % 7 + 7)
    return start


def _hold(rng, meeting, manager, chair, today):
    """Run a past meeting: list, publish, register, hear every case, add actions, close, finalise."""
    panel = meeting.panel
    for case in services.waiting_cases(panel):
        if case.referred_on <= meeting.meets_on - dt.timedelta(days=7) and len(meeting.items) < panel.capacity:
            services.list_case(manager, meeting, case)
    if not meeting.items:
        services.cancel_meeting(manager, meeting)  # nothing to hear: called off, so not left "to be held"
        return 0
    services.publish(manager, meeting)
    _research(meeting, manager)
    services.open_meeting(chair, meeting)
    statuses = {}
    for attendance in meeting.attendances:
        rate = ATTENDANCE_RATE.get(attendance.agency.kind, 0.95)
        roll = rng.random()
        statuses[attendance.agency_id] = (AttendanceStatus.PRESENT if roll < rate else
                                          AttendanceStatus.DEPUTY if roll < rate + 0.04 else rng.choice(ABSENCES))
    services.set_attendance(chair, meeting, statuses)
    for attendance in meeting.attendances:
        if statuses[attendance.agency_id] in ATTENDED:
            person = services.add_attendee(chair, meeting, f"Demo {attendance.agency.short_name} representative",
                                           "Representative", attendance.agency_id, False)
            services.agree_confidentiality(chair, meeting, person)
    member_ids = [m.agency_id for m in panel.members]
    for item in meeting.items:
        for action in actions.open_actions_for(item.case):
            actions.review_action(chair, action, rng.choice(REVIEWS), "Demo review note.")
            action.updates[-1].at = _at(meeting.meets_on, 11)
        for _ in range(rng.randint(1, 3)):
            due = meeting.meets_on + dt.timedelta(days=panel.action_due_days)
            action = actions.add_action(chair, item, rng.choice(member_ids), rng.choice(ACTIONS), due, None)
            if due < today and rng.random() < 0.8:
                action.status = rng.choice([ActionStatus.DONE] * 8 + [ActionStatus.NOT_POSSIBLE])
                action.closed_at = _at(due - dt.timedelta(days=rng.randint(0, 10)), 15)
                action.updates.append(ActionUpdate(user_id=manager.id, at=action.closed_at, kind=UpdateKind.COMPLETED,
                                                   status=action.status))
        services.record_hearing(chair, item, "Demo: risk remains high; agencies agreed the safety plan.",
                                "Demo minute: agencies shared what they hold; actions agreed.", ItemStatus.HEARD,
                                item.version)
        item.heard_at = _at(meeting.meets_on, 11)
        # Each step at the meeting's dates, not when the demo runs (the case's chronology reads them).
        item.created_at = max(_at(meeting.agenda_deadline - dt.timedelta(days=1), 9),
                              item.case.screened_at or item.case.submitted_at or item.created_at)
        for action in actions.actions_agreed_at(item):
            action.created_at = item.heard_at
            for update in action.updates:
                if update.kind == UpdateKind.CREATED:
                    update.at = item.heard_at
        if (today - meeting.meets_on).days > 90 and rng.random() < 0.7:
            item.case.status = CaseStatus.CLOSED
            item.case.closed_at = _at(meeting.meets_on + dt.timedelta(days=28), 12)
            item.case.closure_outcome = ClosureOutcome.RISK_REDUCED
            db.session.add(CaseChange(case_id=item.case_id, at=item.case.closed_at, action=ChangeAction.CLOSED,
                                      status=CaseStatus.CLOSED, fields=[]))
    services.close_meeting(chair, meeting)
    services.finalise_minutes(manager, meeting)
    meeting.agenda_published_at = _at(meeting.agenda_deadline, 9)
    meeting.opened_at, meeting.closed_at = _at(meeting.meets_on, 10), _at(meeting.meets_on, 15)
    late = rng.random() < 0.15
    meeting.minutes_finalised_at = _at(meeting.minutes_deadline + dt.timedelta(days=2 if late else 0), 16)
    for attendee in meeting.attendees:
        attendee.confidentiality_agreed_at = _at(meeting.meets_on, 10)
    return len(meeting.items)


def _research(meeting, manager):
    """Research returns from most member agencies for each listed case, most before the deadline (a
    random stream of its own, so that the rest of the demo stays as it was)."""
    rng = random.Random(f"research-{meeting.meets_on.isoformat()}")
    deadline = meeting.research_deadline
    for item in meeting.items:
        for member in meeting.panel.members:
            if rng.random() > 0.85:
                continue
            late = rng.random() < 0.1
            day = meeting.meets_on if late else deadline - dt.timedelta(days=rng.randint(0, 3))
            research = ResearchReturn(agenda_item_id=item.id, agency_id=member.agency_id, nothing_held=rng.random() < 0.4,
                                      updated_by_id=manager.id, updated_at=_at(day, 9), created_at=_at(day, 9),
                                      is_shared=True, shared_at=_at(day, 9))
            if not research.nothing_held:
                research.relevant = "Demo: what the agency holds that bears on current risk."
                research.to_share = "Demo: what the agency will share at the meeting."
                research.lawful_basis = LawfulBasis.PUBLIC_TASK
            item.returns.append(research)


def seed_meetings(panels, users, seed=2027):
    """Add demo meetings to the panels that have none and a manager and a chair; returns how many
    meetings were added."""
    rng = random.Random(seed)
    today = today_()
    added = 0
    for panel in panels.values():
        if db.session.execute(select(func.count()).select_from(Meeting).where(Meeting.panel_id == panel.id)).scalar():
            continue
        manager = next((u for u in users.values() if Role.MANAGER in panel.roles_of(u)), None)
        chair = next((u for u in users.values() if Role.CHAIR in panel.roles_of(u)), None)
        if manager is None or chair is None:
            continue  # nobody to run its meetings: the panel gets no demo meetings
        start = _first_meeting(panel, today)
        meetings = services.schedule(manager, panel, start, panel.meeting_time, until=today + dt.timedelta(days=90))
        added += len(meetings)
        for meeting in sorted(meetings, key=lambda m: m.meets_on):
            if meeting.meets_on < today:
                _hold(rng, meeting, manager, chair, today)
        upcoming = [m for m in sorted(meetings, key=lambda m: m.meets_on) if m.meets_on >= today]
        if panel.kind == PanelKind.MARAC:
            live = _running_today(panel, manager, chair, upcoming, today)
            added += live not in meetings
            upcoming = [m for m in upcoming if m is not live]
        if upcoming:  # the next agenda, partly built
            for case in services.waiting_cases(panel)[: max(1, panel.capacity // 2)]:
                services.list_case(manager, upcoming[0], case)
        db.session.flush()
    return added


def _running_today(panel, manager, chair, upcoming, today):
    """A meeting of the panel today, opened, with two waiting cases listed: the register offers the member
    agencies' representatives to tick, and the hearings are there to try (what nobody types is lost)."""
    meeting = next((m for m in upcoming if m.meets_on == today), None)
    if meeting is None:
        meeting = services.add_meeting(manager, panel, today, panel.meeting_time, anyway=True)
    for case in services.waiting_cases(panel)[:2]:
        services.list_case(manager, meeting, case)
    if meeting.items:
        services.publish(manager, meeting)
        services.open_meeting(chair, meeting)
    return meeting
