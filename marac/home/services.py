"""What needs the user on their home page: for a panel manager, the counts of their panel's cycle (referrals
to screen, the next agenda against its deadline, research still to come, minutes due, overdue actions by
agency); for a representative, the cases their agency must research and its actions falling due. Counts
and references only: nothing personal is read."""
import datetime as dt
from types import SimpleNamespace

from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from marac.actions.models import Action, is_open
from marac.agencies.models import Agency
from marac.cases.models import VISIBLE_TO_PANEL, Case, CaseStatus
from marac.core.pagination import capped_count
from marac.extensions import db
from marac.meetings.models import AgendaItem, ItemStatus, Meeting, MeetingStatus, ResearchReturn
from marac.panels.models import PanelMember

# The meetings whose agenda and research are still ahead: a meeting already running is past both.
AHEAD = (MeetingStatus.SCHEDULED,)
DUE_SOON = dt.timedelta(days=7)


def _next_meeting(panel, on):
    return db.session.execute(
        select(Meeting).where(Meeting.panel_id == panel.id, Meeting.status.in_(AHEAD), Meeting.meets_on >= on)
        .order_by(Meeting.meets_on).limit(1)).scalar_one_or_none()


def _published_to_hold(panel, on):
    """The panel's meetings still to be held whose agenda is out, soonest first."""
    return db.session.execute(
        select(Meeting).where(Meeting.panel_id == panel.id, Meeting.status.in_(AHEAD), Meeting.meets_on >= on,
                              Meeting.agenda_published_at.is_not(None)).order_by(Meeting.meets_on)).scalars().all()


def manager_summary(panel, on):
    """The manager's counts for the panel as of the date `on`."""
    to_screen = db.session.execute(select(func.count()).select_from(Case).where(
        Case.panel_id == panel.id, Case.status == CaseStatus.SUBMITTED)).scalar_one()
    upcoming = _next_meeting(panel, on)
    members = db.session.execute(select(func.count()).select_from(PanelMember).where(
        PanelMember.panel_id == panel.id)).scalar_one()
    research = []
    for meeting in _published_to_hold(panel, on):
        items = db.session.execute(select(func.count()).select_from(AgendaItem).where(
            AgendaItem.meeting_id == meeting.id, AgendaItem.status == ItemStatus.LISTED)).scalar_one()
        shared = db.session.execute(select(func.count()).select_from(ResearchReturn).join(
            AgendaItem, AgendaItem.id == ResearchReturn.agenda_item_id).where(
            AgendaItem.meeting_id == meeting.id, AgendaItem.status == ItemStatus.LISTED,
            ResearchReturn.is_shared.is_(True))).scalar_one()
        research.append(SimpleNamespace(meeting=meeting, missing=max(items * members - shared, 0), expected=items * members,
                                        overdue=on > meeting.research_deadline))
    minutes = db.session.execute(
        select(Meeting).where(Meeting.panel_id == panel.id, Meeting.status == MeetingStatus.HELD,
                              Meeting.minutes_finalised_at.is_(None)).order_by(Meeting.meets_on)).scalars().all()
    overdue = db.session.execute(
        select(Agency.name, func.count()).select_from(Action).join(Case, Case.id == Action.case_id)
        .join(Agency, Agency.id == Action.owner_agency_id)
        .where(Action.panel_id == panel.id, Case.status.in_(VISIBLE_TO_PANEL), is_open(due_before=on))
        .group_by(Agency.name).order_by(func.count().desc(), Agency.name)).all()
    return SimpleNamespace(
        to_screen=to_screen,
        agenda=None if upcoming is None else SimpleNamespace(
            meeting=upcoming, deadline=upcoming.agenda_deadline, published=upcoming.is_published,
            late=upcoming.agenda_is_late(on)),
        research=research,
        minutes=[SimpleNamespace(meeting=m, deadline=m.minutes_deadline, overdue=on > m.minutes_deadline)
                 for m in minutes],
        overdue_actions=[SimpleNamespace(agency=name, count=count) for name, count in overdue])


# The representative's actions listed on the home page (the most overdue first).
ACTIONS_SHOWN = 10


def representative_summary(user, panel, on):
    """What the representative's agency must do for the panel: the listed cases of published meetings still
    to be held whose research it has not shared, and its open actions overdue or due within a week."""
    research = []
    if panel.is_member(user.agency_id):
        rows = db.session.execute(
            select(AgendaItem, ResearchReturn).join(Meeting, Meeting.id == AgendaItem.meeting_id)
            .outerjoin(ResearchReturn, and_(ResearchReturn.agenda_item_id == AgendaItem.id,
                                            ResearchReturn.agency_id == user.agency_id))
            .where(Meeting.panel_id == panel.id, Meeting.status.in_(AHEAD), Meeting.meets_on >= on,
                   Meeting.agenda_published_at.is_not(None), AgendaItem.status == ItemStatus.LISTED)
            .order_by(Meeting.meets_on, AgendaItem.position)
            .options(selectinload(AgendaItem.case), selectinload(AgendaItem.meeting))).all()
        for item, research_return in rows:
            if research_return is not None and research_return.is_shared:
                continue
            research.append(SimpleNamespace(item=item, meeting=item.meeting, reference=item.case.reference,
                                            started=research_return is not None,
                                            overdue=on > item.meeting.research_deadline))
    due = (select(Action).join(Case, Case.id == Action.case_id)
           .where(Action.panel_id == panel.id, Case.status.in_(VISIBLE_TO_PANEL),
                  Action.owner_agency_id == user.agency_id, is_open(due_before=on + DUE_SOON + dt.timedelta(days=1))))
    # The most overdue first, ACTIONS_SHOWN of them (the agency's actions list has the rest), with the
    # counts of all: a home page reads what it shows, however far behind an agency is.
    actions = db.session.execute(
        due.order_by(Action.due_on, Action.id).limit(ACTIONS_SHOWN)
        # Action.can_view reads the case and the hearing's meeting: loaded with the list, not one by one
        .options(selectinload(Action.case), selectinload(Action.item).selectinload(AgendaItem.meeting))
        ).scalars().all()
    actions = [a for a in actions if a.can_view(user)]
    total, capped = capped_count(due)
    overdue, overdue_capped = capped_count(due.where(Action.due_on < on))
    return SimpleNamespace(research=research, actions=actions, total=total, total_capped=capped,
                           overdue=overdue, overdue_capped=overdue_capped)


def minutes_to_read(user, panel, limit=5):
    """The latest final minutes of the panel's meetings the user may read (Meeting.can_read_minutes)."""
    meetings = db.session.execute(
        select(Meeting).where(Meeting.panel_id == panel.id, Meeting.minutes_finalised_at.is_not(None))
        .order_by(Meeting.meets_on.desc()).limit(limit * 3)
        # Meeting.sat_on reads the register: loaded with the meetings, not one meeting at a time
        .options(selectinload(Meeting.attendances))).scalars().all()
    return [m for m in meetings if m.can_read_minutes(user)][:limit]
