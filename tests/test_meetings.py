"""The meeting cycle, through the services and the pages, checked by what a user would notice:
the schedule, the agenda and its publication, research visibility, the register and the
confidentiality gate, hearings with action reviews, minutes locking and amendments, actions and
their lists, lost updates, and the audit events every step writes."""
import calendar
import datetime as dt

import pytest
from sqlalchemy import func, select

from marac.actions import services as actions
from marac.actions.models import Action, ActionStatus, UpdateKind
from marac.agencies.models import AgencyKind
from marac.audit.models import AuditEvent
from marac.cases.models import Case, CaseStatus, ClosureOutcome
from marac.cases.services import close_case, reopen_case
from marac.core.steps import StepRefused
from marac.core.timeutil import today
from marac.extensions import db
from marac.meetings import services
from marac.meetings.models import (AgendaItem, Attendance, AttendanceStatus, Attendee, ItemStatus, LawfulBasis, Meeting,
                                   MeetingStatus, MinuteAmendment, ResearchReturn)
from marac.panels.models import Cadence, Role
from marac.sharing.models import SharingRecord
from marac.core.formatting import format_date
from marac.core.workdays import add_working_days
from tests.factories import (ActionFactory, AgencyFactory, CaseFactory, MeetingFactory, PanelFactory,
                             PanelMemberFactory, PanelRoleFactory, UserFactory, open_on_its_day)
from tests.helpers import (another_panel, audit_events, fresh, on_the_day, page_of, post_form, row_with, selected_value, sign_in,
                           signed_in, soup, tags_in, textarea_value, title_of, version_in)
from tests.referrals import date_parts

TODAY = today()
DAY = dt.timedelta(days=1)


# --- helpers ---------------------------------------------------------------------------------

def follow(client, response):
    """The page a POST redirected to (with its flashed message)."""
    assert response.status_code == 302, page_of(response)[:3000]
    return page_of(client.get(response.headers["Location"]))


def next_weekday(day, weekday):
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def meeting_with(world, days, cases=(), publish=True, panel=None):
    """A meeting of the world's panel `days` from today listing `cases`, published unless told otherwise."""
    return MeetingFactory(panel=panel or world.panel, manager=world.users["manager"],
                          meets_on=TODAY + dt.timedelta(days=days), cases=cases, published=publish)


def start(world, meeting, *agencies):
    """Open the meeting and name an attendee for each agency (the IDVA by default), all agreed."""
    manager = world.users["manager"]
    open_on_its_day(manager, meeting)
    for agency in agencies or (world.agencies.idva,):
        attendee = services.add_attendee(manager, meeting, f"Named for {agency.short_name}", "", agency.id, False)
        services.agree_confidentiality(manager, meeting, attendee)
    db.session.commit()


def accepted(world, **values):
    """An accepted case of the world's panel, referred by its representative."""
    return CaseFactory(panel=world.panel, referrer=world.users["representative"], status=CaseStatus.ACCEPTED, **values)


def listed_order(page, references):
    """The references in the order they appear on the page."""
    positions = {ref: page.find(ref) for ref in references}
    assert all(p >= 0 for p in positions.values()), positions
    return sorted(references, key=positions.get)


def section(page, start_marker, end_marker=None):
    begin = page.index(start_marker)
    end = page.index(end_marker, begin) if end_marker else len(page)
    return page[begin:end]


def last_seq():
    return db.session.execute(select(func.max(AuditEvent.seq))).scalar() or 0


def events_since(seq):
    return db.session.execute(select(AuditEvent).where(AuditEvent.seq > seq)
                              .order_by(AuditEvent.seq)).scalars().all()


def hearing_post(client, item, version, **values):
    data = {"risk_summary": "", "minute": "", "outcome": "", "version": str(version)}
    data.update(values)
    return post_form(client, f"/agenda-items/{item.id}/hearing", data)


# --- schedule --------------------------------------------------------------------------------

def test_fortnightly_schedule_gives_every_other_tuesday_for_six_months(app, client, world):
    panel = world.panel
    assert panel.cadence == Cadence.FORTNIGHTLY
    first = next_weekday(TODAY + 21 * DAY, 1)  # a Tuesday after world.meeting
    sign_in(client, world.users["manager"])
    response = post_form(client, f"/panels/{panel.id}/meetings/schedule",
                         {**date_parts("start_on", first), "starts_at": "10:30"})
    assert "14 meetings scheduled." in follow(client, response)

    meetings = db.session.execute(select(Meeting).where(Meeting.panel_id == panel.id, Meeting.meets_on >= first)
                                  .order_by(Meeting.meets_on)).scalars().all()
    expected = [first + dt.timedelta(days=14 * n) for n in range(14)]
    assert [m.meets_on for m in meetings] == expected
    assert expected[-1] <= first + dt.timedelta(days=183) < expected[-1] + dt.timedelta(days=14)
    assert {m.meets_on.weekday() for m in meetings} == {1}
    assert {(m.starts_at, m.status) for m in meetings} == {(dt.time(10, 30), MeetingStatus.SCHEDULED)}
    assert fresh(type(panel), panel.id).meeting_time == dt.time(10, 30)

    index = page_of(client.get(f"/panels/{panel.id}/meetings"))
    for day in (expected[0], expected[1], expected[-1]):
        assert format_date(day, "short_weekday") in index
    skipped = expected[0] + dt.timedelta(days=7)
    assert format_date(skipped, "short_weekday") not in index


def test_monthly_schedule_keeps_the_second_wednesday(world):
    panel = PanelFactory(cadence=Cadence.MONTHLY, weekday=2)
    month_start = (TODAY.replace(day=1) + dt.timedelta(days=62)).replace(day=1)
    first = next_weekday(month_start, 2) + dt.timedelta(days=7)
    assert 8 <= first.day <= 14 and first.weekday() == 2

    created = services.schedule(world.users["manager"], panel, first, dt.time(14))
    db.session.commit()

    def second_wednesday(year, month):
        wednesdays = [week[calendar.WEDNESDAY] for week in calendar.monthcalendar(year, month)
                      if week[calendar.WEDNESDAY]]
        return dt.date(year, month, wednesdays[1])

    expected, year, month = [], first.year, first.month
    while (day := second_wednesday(year, month)) <= first + dt.timedelta(days=183):
        expected.append(day)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    assert len(expected) in (6, 7)
    assert sorted(m.meets_on for m in created) == expected
    assert all(d.weekday() == 2 and 8 <= d.day <= 14 for d in expected)
    assert len({(d.year, d.month) for d in expected}) == len(expected), "one meeting a month"


def test_scheduling_again_does_not_duplicate_existing_dates(app, client, world):
    panel = world.panel
    first = next_weekday(TODAY + 21 * DAY, 1)
    added = meeting_with(world, (first - TODAY).days + 28, publish=False)  # on the pattern, added by hand
    sign_in(client, world.users["manager"])
    url = f"/panels/{panel.id}/meetings/schedule"
    form = {**date_parts("start_on", first), "starts_at": "10:00"}
    assert "13 meetings scheduled." in follow(client, post_form(client, url, form))
    assert "0 meetings scheduled." in follow(client, post_form(client, url, form))

    per_day = db.session.execute(select(Meeting.meets_on, func.count()).where(Meeting.panel_id == panel.id)
                                 .group_by(Meeting.meets_on)).all()
    assert all(count == 1 for _, count in per_day), per_day
    assert len([d for d, _ in per_day if d >= first]) == 14
    assert fresh(Meeting, added.id).meets_on == first + 28 * DAY
    assert [e.detail["created"] for e in audit_events("meetings.scheduled")] == [13, 0]


def test_move_a_meeting(app, client, world):
    meeting = meeting_with(world, 21, [accepted(world)])
    other = meeting_with(world, 35, publish=False)
    sign_in(client, world.users["manager"])
    url = f"/meetings/{meeting.id}/edit"
    new_day = add_working_days(TODAY + 21 * DAY, 1)  # a working day: weekends and bank holidays need confirming
    moved = post_form(client, url, {"version": version_in(client.get(url)), **date_parts("meets_on", new_day),
                                    "starts_at": "13:15"})
    assert "Meeting moved." in follow(client, moved)
    stored = fresh(Meeting, meeting.id)
    assert (stored.meets_on, stored.starts_at) == (new_day, dt.time(13, 15))
    assert len(stored.items) == 1, "its agenda goes with it"
    assert len(audit_events("meeting.moved", meeting.id)) == 1

    # Not onto the day of another meeting of the panel.
    clash = post_form(client, url, {"version": version_in(client.get(url)), **date_parts("meets_on", other.meets_on),
                                    "starts_at": "10:00"})
    assert clash.status_code == 200
    assert "The panel already has a meeting on that date" in page_of(clash)
    assert fresh(Meeting, meeting.id).meets_on == new_day

    # A form opened before someone else moved it is refused.
    stale = post_form(client, url, {"version": "1", **date_parts("meets_on", new_day + DAY), "starts_at": "10:00"})
    assert "Someone else saved this" in page_of(stale)
    assert fresh(Meeting, meeting.id).meets_on == new_day


def test_cancel_releases_listed_cases_back_to_waiting(app, client, world):
    case = accepted(world)
    meeting = meeting_with(world, 21, [case])
    later = meeting_with(world, 35, publish=False)
    assert case.id not in {c.id for c in services.waiting_cases(world.panel)}
    sign_in(client, world.users["manager"])
    confirm = page_of(client.get(f"/meetings/{meeting.id}/cancel"))
    assert "Its 1 listed case will wait to be listed at another meeting." in confirm
    page = follow(client, post_form(client, f"/meetings/{meeting.id}/cancel"))
    assert "Meeting cancelled. Its cases are waiting to be listed again." in page

    stored = fresh(Meeting, meeting.id)
    assert stored.status == MeetingStatus.CANCELLED and stored.items == []
    assert db.session.execute(select(AgendaItem).where(AgendaItem.case_id == case.id)).first() is None
    assert case.id in {c.id for c in services.waiting_cases(world.panel)}
    waiting = section(page_of(client.get(f"/meetings/{later.id}/agenda")), "Waiting to be heard")
    assert case.reference in waiting
    [event] = audit_events("meeting.cancelled")
    assert event.detail == {"cases_released": 1}


def test_a_started_meeting_cannot_be_moved_or_cancelled(app, client, world):
    meeting = meeting_with(world, 21, [accepted(world)])
    start(world, meeting)
    sign_in(client, world.users["manager"])
    url = f"/meetings/{meeting.id}/edit"
    refused = post_form(client, url, {"version": version_in(client.get(url)),
                                      **date_parts("meets_on", TODAY + 30 * DAY), "starts_at": "10:00"})
    assert "Only a meeting that has not started can be moved" in page_of(refused)
    cancel = page_of(client.get(f"/meetings/{meeting.id}/cancel"))
    assert "Only a meeting that has not started can be cancelled." in cancel
    assert post_form(client, f"/meetings/{meeting.id}/cancel").status_code == 200
    stored = fresh(Meeting, meeting.id)
    assert (stored.status, stored.meets_on, len(stored.items)) == (MeetingStatus.IN_PROGRESS, TODAY + 21 * DAY, 1)
    with pytest.raises(StepRefused):
        services.cancel_meeting(world.users["manager"], stored)


# --- agenda ----------------------------------------------------------------------------------

def test_waiting_cases_repeats_first_then_by_referral_date(app, client, world):
    old = accepted(world, referred_on=TODAY - 60 * DAY)
    new = accepted(world, referred_on=TODAY - 5 * DAY)
    # A repeat links the earlier case it repeats (the tag shows to those who may see that case).
    repeat_new = accepted(world, referred_on=TODAY - 2 * DAY, is_repeat=True, repeat_of_id=world.accepted.id)
    repeat_old = accepted(world, referred_on=TODAY - 30 * DAY, is_repeat=True, repeat_of_id=world.accepted.id)
    heard_before = accepted(world, referred_on=TODAY - 90 * DAY)
    past = meeting_with(world, -14, [heard_before])
    start(world, past)
    services.record_hearing(world.users["manager"], past.items[0], "Invented risk", "Invented minute", ItemStatus.HEARD,
                            None)
    services.close_meeting(world.users["manager"], past)
    db.session.commit()

    expected = [repeat_old, repeat_new, old, new]
    assert [c.id for c in services.waiting_cases(world.panel)] == [c.id for c in expected]

    meeting = meeting_with(world, 21, publish=False)
    sign_in(client, world.users["manager"])
    waiting = section(page_of(client.get(f"/meetings/{meeting.id}/agenda")), "Waiting to be heard")
    assert "Waiting to be heard (4)" in waiting
    refs = [c.reference for c in expected]
    assert listed_order(waiting, refs) == refs
    for absent in (world.accepted, world.case, heard_before):  # listed elsewhere, not accepted, heard
        assert absent.reference not in waiting
    assert waiting.count('govuk-tag--orange">Repeat') == 2


def test_a_case_waits_until_heard_and_again_once_reopened_or_its_hearing_deferred(app, client, world):
    """Heard: it leaves the waiting list for good, whatever becomes of the meeting. Reopened after its
    closure: it waits again ("open again and waits for a meeting"), though a meeting heard it before.
    Recorded deferred after being recorded heard: it waits again."""
    manager = world.users["manager"]
    heard, corrected = accepted(world, referred_on=TODAY - 40 * DAY), accepted(world, referred_on=TODAY - 30 * DAY)
    meeting = meeting_with(world, 0, [heard, corrected])
    start(world, meeting)
    assert not {heard.id, corrected.id} & {c.id for c in services.waiting_cases(world.panel)}  # listed
    first, second = sorted(meeting.items, key=lambda i: i.position)
    versions = (heard.version, corrected.version)
    for item in (first, second):
        services.record_hearing(manager, item, "Invented risk", "Invented minute", ItemStatus.HEARD, None)
    db.session.commit()
    # hearing a case is no edit of it: a manager's form opened before the hearing still saves
    assert (fresh(Case, heard.id).version, fresh(Case, corrected.id).version) == versions
    assert not fresh(Case, heard.id).awaits_hearing
    services.record_hearing(manager, second, "Invented risk", "Invented minute", ItemStatus.DEFERRED, None)
    services.close_meeting(manager, meeting)
    db.session.commit()
    assert heard.id not in {c.id for c in services.waiting_cases(world.panel)}
    # the deferred case went first on the next agenda (record_hearing), and waits when taken off it
    [listed] = [i for i in services.next_meeting_after(meeting).items if i.case_id == corrected.id]
    services.unlist_case(manager, listed.meeting, listed)
    db.session.commit()
    assert corrected.id in {c.id for c in services.waiting_cases(world.panel)}
    close_case(manager, heard, ClosureOutcome.RISK_REDUCED, "")
    reopen_case(manager, heard, "Invented: a new incident")
    db.session.commit()
    assert heard.id in {c.id for c in services.waiting_cases(world.panel)}
    later = meeting_with(world, 21, publish=False)
    sign_in(client, manager)
    assert heard.reference in section(page_of(client.get(f"/meetings/{later.id}/agenda")), "Waiting to be heard")


def test_a_long_waiting_list_is_shown_and_disclosed_a_page_at_a_time(app, client, world):
    """55 waiting: the agenda builder shows the 50 that have waited longest, says how many wait, and
    discloses (writes sharing records for) only the cases it shows; the next page has the other 5, and a
    case ticked there is listed."""
    first = world.accepted  # listed elsewhere in the world: not waiting
    waiting = [accepted(world, referred_on=TODAY - (100 - n) * DAY) for n in range(55)]
    meeting = meeting_with(world, 21, publish=False)
    db.session.commit()
    sign_in(client, world.users["manager"])
    before = db.session.execute(select(func.count()).select_from(SharingRecord)).scalar_one()
    page = section(page_of(client.get(f"/meetings/{meeting.id}/agenda")), "Waiting to be heard")
    assert "Waiting to be heard (55)" in page and "Showing 1 to 50 of 55" in page
    assert listed_order(page, [c.reference for c in waiting[:50]]) == [c.reference for c in waiting[:50]]
    assert not any(c.reference in page for c in waiting[50:]) and first.reference not in page
    shown = db.session.execute(select(SharingRecord.case_id).where(SharingRecord.purpose == "agenda builder viewed")
                               ).scalars().all()
    assert set(shown) == {c.id for c in waiting[:50]}
    assert db.session.execute(select(func.count()).select_from(SharingRecord)).scalar_one() == before + len(shown)
    second = section(page_of(client.get(f"/meetings/{meeting.id}/agenda?page=2")), "Waiting to be heard")
    assert "Showing 51 to 55 of 55" in second
    assert [c.reference for c in waiting[50:]] == listed_order(second, [c.reference for c in waiting[50:]])
    assert not any(c.reference in second for c in waiting[:50])
    response = post_form(client, f"/meetings/{meeting.id}/cases/list", {"case_ids": [str(waiting[53].id)]},
                         token_from=f"/meetings/{meeting.id}/agenda?page=2")
    assert response.status_code == 302
    assert [item.case_id for item in fresh(Meeting, meeting.id).items] == [waiting[53].id]
    assert "Waiting to be heard (54)" in page_of(client.get(f"/meetings/{meeting.id}/agenda"))


def test_capacity_warning_on_the_agenda_page(app, client, world):
    world.panel.capacity = 2
    db.session.commit()
    cases = [accepted(world) for _ in range(3)]
    meeting = meeting_with(world, 21, publish=False)
    sign_in(client, world.users["manager"])
    agenda = f"/meetings/{meeting.id}/agenda"
    for case in cases[:2]:
        listed = post_form(client, f"/meetings/{meeting.id}/cases/list", {"case_ids": [str(case.id)]}, token_from=agenda)
        assert "1 case listed." in follow(client, listed)
    assert "over the panel's capacity" not in page_of(client.get(agenda))
    post_form(client, f"/meetings/{meeting.id}/cases/list", {"case_ids": [str(cases[2].id)]}, token_from=agenda)
    page = page_of(client.get(agenda))
    assert "3 cases listed: 1 over the panel's capacity of 2." in page
    assert "govuk-warning-text" in page
    follow(client, post_form(client, f"/meetings/{meeting.id}/publish", token_from=agenda))
    event = audit_events("agenda.published")[-1]
    assert event.detail == {"cases": 3, "over_capacity": True, "late": False}


def test_reorder_the_agenda_with_up_and_down(app, client, world):
    a, b, c = (accepted(world) for _ in range(3))
    meeting = meeting_with(world, 21, [a, b, c], publish=False)
    sign_in(client, world.users["manager"])
    agenda = f"/meetings/{meeting.id}/agenda"

    def order():
        listed = section(page_of(client.get(agenda)), "Listed (", "Waiting to be heard")
        return listed_order(listed, [a.reference, b.reference, c.reference])

    def item_of(case):
        return next(i for i in fresh(Meeting, meeting.id).items if i.case_id == case.id)

    assert order() == [a.reference, b.reference, c.reference]
    post_form(client, f"/agenda-items/{item_of(a).id}/down", token_from=agenda)
    assert order() == [b.reference, a.reference, c.reference]
    post_form(client, f"/agenda-items/{item_of(c).id}/up", token_from=agenda)
    assert order() == [b.reference, c.reference, a.reference]
    post_form(client, f"/agenda-items/{item_of(b).id}/up", token_from=agenda)  # already first: no change
    assert order() == [b.reference, c.reference, a.reference]
    assert [i.position for i in sorted(fresh(Meeting, meeting.id).items, key=lambda i: i.position)] == [1, 2, 3]
    removed = follow(client, post_form(client, f"/agenda-items/{item_of(c).id}/remove", token_from=agenda))
    assert f"{c.reference} removed from the agenda." in removed
    assert listed_order(section(removed, "Listed (", "Waiting"), [b.reference, a.reference]) == [
        b.reference, a.reference]
    assert c.reference not in section(removed, "Listed (", "Waiting")
    assert sorted(i.position for i in fresh(Meeting, meeting.id).items) == [1, 2]
    assert c.reference in section(removed, "Waiting to be heard")


def test_publishing_shows_the_agenda_to_member_agencies(app, client, world):
    case = accepted(world)
    meeting = meeting_with(world, 21, [case], publish=False)
    rep = signed_in(app, world.users["representative"])
    outsider = signed_in(app, world.users["nonmember"])
    page = f"/meetings/{meeting.id}"
    item = meeting.items[0]
    assert rep.get(page).status_code == 403
    assert rep.get(f"/agenda-items/{item.id}/research").status_code == 403
    index = page_of(rep.get(f"/panels/{world.panel.id}/meetings"))
    assert f'href="{page}"' not in index

    sign_in(client, world.users["manager"])
    empty = meeting_with(world, 49, publish=False)
    refused = follow(client, post_form(client, f"/meetings/{empty.id}/publish",
                                       token_from=f"/meetings/{empty.id}/agenda"))
    assert "List at least one case before publishing the agenda" in refused
    published = follow(client, post_form(client, f"/meetings/{meeting.id}/publish",
                                         token_from=f"/meetings/{meeting.id}/agenda"))
    assert "Agenda published" in published
    assert fresh(Meeting, meeting.id).agenda_published_at is not None

    response = rep.get(page)
    assert response.status_code == 200
    assert case.reference in page_of(response)
    assert f'href="{page}"' in page_of(rep.get(f"/panels/{world.panel.id}/meetings"))
    assert rep.get(f"/agenda-items/{item.id}/research").status_code == 200
    assert outsider.get(page).status_code == 403
    steering = signed_in(app, world.users["steering"])
    assert steering.get(page).status_code == 403
    assert rep.get(f"/meetings/{meeting.id}/agenda").status_code == 403


def test_carry_over_unheard_cases_to_the_next_meeting(app, client, world):
    heard, unheard, kept = accepted(world), accepted(world), accepted(world)
    meeting = meeting_with(world, 21, [heard, unheard])
    nxt = meeting_with(world, 35, [kept], publish=False)
    meeting_with(world, 49, publish=False)
    start(world, meeting)
    manager = world.users["manager"]
    sign_in(client, manager)
    agenda = f"/meetings/{meeting.id}/agenda"

    # Not while the meeting can still hear them.
    refused = follow(client, post_form(client, f"/meetings/{meeting.id}/carry-over", token_from=agenda))
    assert "Close the meeting" in refused
    assert len(fresh(Meeting, nxt.id).items) == 1

    meeting = fresh(Meeting, meeting.id)
    item = next(i for i in meeting.items if i.case_id == heard.id)
    services.record_hearing(manager, item, "Invented risk", "Invented minute", ItemStatus.HEARD, None)
    services.close_meeting(manager, meeting)
    db.session.commit()
    detail = page_of(client.get(f"/meetings/{meeting.id}"))
    assert "Carry unheard cases to the next meeting" in detail
    page = follow(client, post_form(client, f"/meetings/{meeting.id}/carry-over", token_from=f"/meetings/{meeting.id}"))
    assert f"1 case carried to {nxt.meets_on:%d %B %Y}." in page
    target = fresh(Meeting, nxt.id)
    assert [i.case_id for i in sorted(target.items, key=lambda i: i.position)] == [kept.id, unheard.id]
    again = follow(client, post_form(client, f"/meetings/{meeting.id}/carry-over", token_from=agenda))
    assert f"0 cases carried to {nxt.meets_on:%d %B %Y}." in again
    assert len(fresh(Meeting, nxt.id).items) == 2
    assert unheard.id not in {c.id for c in services.waiting_cases(world.panel)}


def test_carry_over_needs_a_later_meeting(app, client, world):
    meeting = meeting_with(world, 70, [accepted(world)])
    start(world, meeting)
    services.close_meeting(world.users["manager"], fresh(Meeting, meeting.id))
    db.session.commit()
    sign_in(client, world.users["manager"])
    page = follow(client, post_form(client, f"/meetings/{meeting.id}/carry-over", token_from=f"/meetings/{meeting.id}"))
    assert "There is no later scheduled meeting to carry cases to; schedule one first" in page


def test_a_deferred_case_is_listed_first_at_the_next_meeting(app, client, world):
    deferred, other = accepted(world), accepted(world)
    first, second = accepted(world), accepted(world)
    meeting = meeting_with(world, 21, [deferred, other])
    nxt = meeting_with(world, 35, [first, second], publish=False)
    start(world, meeting)
    sign_in(client, world.users["manager"])
    item = next(i for i in meeting.items if i.case_id == deferred.id)
    response = hearing_post(client, item, item.version, minute="Invented: the IDVA was not ready",
                            outcome=ItemStatus.DEFERRED)
    assert f"{deferred.reference} deferred." in follow(client, response)
    assert fresh(AgendaItem, item.id).status == ItemStatus.DEFERRED
    target = fresh(Meeting, nxt.id)
    assert [i.case_id for i in sorted(target.items, key=lambda i: i.position)] == [deferred.id, first.id, second.id]
    assert [i.position for i in sorted(target.items, key=lambda i: i.position)] == [1, 2, 3]
    listed = section(page_of(client.get(f"/meetings/{nxt.id}/agenda")), "Listed (", "Waiting")
    assert listed_order(listed, [first.reference, deferred.reference, second.reference]) == [
        deferred.reference, first.reference, second.reference]


# --- register and the confidentiality gate ---------------------------------------------------

def test_hearing_is_refused_until_everyone_named_has_agreed(app, client, world):
    case = accepted(world)
    meeting = meeting_with(world, 0, [case])
    item = meeting.items[0]
    police, idva = world.agencies.police, world.agencies.idva
    sign_in(client, world.users["manager"])
    register = f"/meetings/{meeting.id}/register"
    hearing = f"/agenda-items/{item.id}/hearing"

    def refused_with(reason):
        response = hearing_post(client, item, fresh(AgendaItem, item.id).version, risk_summary="Invented risk",
                                minute="Invented minute", outcome=ItemStatus.HEARD)
        assert response.status_code == 200
        assert "Case discussion cannot start" in page_of(response) and reason in page_of(response), reason
        stored = fresh(AgendaItem, item.id)
        assert (stored.status, stored.risk_summary, stored.minute) == (ItemStatus.LISTED, None, None)

    # Before the meeting is open the hearing page is read-only.
    early = hearing_post(client, item, item.version, risk_summary="Invented risk", outcome=ItemStatus.HEARD)
    assert "The meeting is not in progress, so the hearing cannot be changed here." in follow(client, early)
    assert "Case discussion cannot start: Open the meeting first" in page_of(client.get(hearing))
    follow(client, post_form(client, f"/meetings/{meeting.id}/open", token_from=register))
    # Nobody recorded.
    refused_with("Record who is present")
    action = post_form(client, f"/agenda-items/{item.id}/actions", token_from=hearing, data={
                                         "action-owner_agency_id": str(idva.id),
                                         "action-description": "Invented: too early",
                                         **date_parts("action-due_on", TODAY + 28 * DAY)})
    refusal = follow(client, action)
    assert "Case discussion cannot start" in refusal
    banner = section(refusal, 'id="notification-problem-title"', "</div>\n      </div>")
    assert "Important" in banner and "Case discussion cannot start" in banner
    assert "Success" not in refusal
    assert db.session.execute(select(func.count()).select_from(Action)
                              .where(Action.agenda_item_id == item.id)).scalar() == 0
    # Someone recorded who has not agreed.
    follow(client, post_form(client, f"/meetings/{meeting.id}/attendees", token_from=register, data={
        "name": "Ivy Idva-Test", "role": "IDVA", "agency_id": str(idva.id)}))
    refused_with("Record the confidentiality agreement of Ivy Idva-Test")
    ivy = db.session.execute(select(Attendee).where(Attendee.meeting_id == meeting.id)).scalar_one()
    follow(client, post_form(client, f"/attendees/{ivy.id}/agree", token_from=register))
    # An agency marked present without anyone named for it.
    follow(client, post_form(client, f"/meetings/{meeting.id}/attendance", token_from=register, data={
        f"status-{police.id}": AttendanceStatus.PRESENT, f"status-{idva.id}": AttendanceStatus.PRESENT}))
    refused_with(f"Name who is here for {police.name}")
    register_page = page_of(client.get(register))
    assert f"Case discussion cannot start: Name who is here for {police.name}." in register_page

    follow(client, post_form(client, f"/meetings/{meeting.id}/attendees", token_from=register, data={
        "name": "Pat Police-Test", "role": "DS", "agency_id": str(police.id)}))
    refused_with("Record the confidentiality agreement of Pat Police-Test")
    # Names are encrypted: found by reading them, not by a query on the column.
    [pat] = [a for a in db.session.execute(select(Attendee).where(Attendee.meeting_id == meeting.id)).scalars()
             if a.name == "Pat Police-Test"]
    follow(client, post_form(client, f"/attendees/{pat.id}/agree", token_from=register))
    assert "Everyone present has agreed to the confidentiality statement." in page_of(client.get(register))

    response = hearing_post(client, item, fresh(AgendaItem, item.id).version, risk_summary="Invented risk",
                            minute="Invented minute", outcome=ItemStatus.HEARD)
    assert f"{case.reference} heard." in follow(client, response)
    stored = fresh(AgendaItem, item.id)
    assert (stored.status, stored.risk_summary, stored.minute) == (ItemStatus.HEARD, "Invented risk",
                                                                   "Invented minute")
    assert stored.heard_at is not None


def test_register_statuses_are_stored_per_agency_and_observers_can_be_added(app, client, world):
    panel = world.panel
    extra = [AgencyFactory(kind=AgencyKind.HEALTH, name="Pretend Health Trust"),
             AgencyFactory(kind=AgencyKind.HOUSING, name="Invented Homes"),
             AgencyFactory(kind=AgencyKind.EDUCATION, name="Sample School")]
    PanelMemberFactory(panel=panel, agency=extra[0])
    PanelMemberFactory(panel=panel, agency=extra[1])
    PanelMemberFactory(panel=panel, agency=extra[2], is_core=False)
    meeting = meeting_with(world, 0, [accepted(world)])
    sign_in(client, world.users["manager"])
    register = f"/meetings/{meeting.id}/register"
    follow(client, post_form(client, f"/meetings/{meeting.id}/open", token_from=register))
    stored = {a.agency_id: a for a in fresh(Meeting, meeting.id).attendances}
    assert {a.status for a in stored.values()} == {AttendanceStatus.ABSENT} and len(stored) == 5
    assert not stored[extra[2].id].is_core

    wanted = {world.agencies.police.id: AttendanceStatus.PRESENT, world.agencies.idva.id: AttendanceStatus.DEPUTY,
              extra[0].id: AttendanceStatus.APOLOGIES_INFO, extra[1].id: AttendanceStatus.APOLOGIES,
              extra[2].id: AttendanceStatus.ABSENT}
    follow(client, post_form(client, f"/meetings/{meeting.id}/attendance", token_from=register, data={
                                                **{f"status-{k}": v for k, v in wanted.items()}}))
    stored = {a.agency_id: a.status for a in fresh(Meeting, meeting.id).attendances}
    assert stored == wanted
    response = client.get(register)
    assert selected_value(response, f"status-{extra[0].id}") == AttendanceStatus.APOLOGIES_INFO
    assert "Sample School</label> <span class=\"govuk-body-s\">(not core)</span>" in page_of(response)
    bad = post_form(client, f"/meetings/{meeting.id}/attendance", token_from=register,
                    data={f"status-{extra[0].id}": "asleep"})
    assert bad.status_code == 400
    assert fresh(Attendance, next(a.id for a in fresh(Meeting, meeting.id).attendances
                                  if a.agency_id == extra[0].id)).status == AttendanceStatus.APOLOGIES_INFO

    follow(client, post_form(client, f"/meetings/{meeting.id}/attendees", token_from=register, data={
        "name": "Olive Observer-Test", "role": "Student social worker", "agency_id": "observer"}))
    olive = db.session.execute(select(Attendee).where(Attendee.meeting_id == meeting.id)).scalar_one()
    assert (olive.is_observer, olive.agency_id, olive.role) == (True, None, "Student social worker")
    page = page_of(client.get(register))
    assert "Olive Observer-Test, Student social worker" in page and "Observer" in page
    assert "Record the confidentiality agreement of Olive Observer-Test" in page
    follow(client, post_form(client, f"/attendees/{olive.id}/agree", token_from=register))
    assert fresh(Attendee, olive.id).confidentiality_agreed_at is not None
    # Every agency still marked as attending needs a name: the observer does not count for any.
    blockers = services.discussion_blockers(fresh(Meeting, meeting.id))
    assert blockers == [f"Name who is here for {world.agencies.police.name}",
                        f"Name who is here for {world.agencies.idva.name}"]

    # After closing, the register is read-only and says who came.
    follow(client, post_form(client, f"/meetings/{meeting.id}/close", token_from=register))
    page = page_of(client.get(register))
    assert f"{extra[0].name}: Apologies, information sent" in page
    assert f"{world.agencies.idva.name}: Deputy sent" in page
    assert f'action="/meetings/{meeting.id}/attendance"' not in page


# --- action reviews at a hearing -------------------------------------------------------------

def test_open_actions_are_reviewed_at_the_next_hearing(app, client, world):
    manager = world.users["manager"]
    police, idva = world.agencies.police, world.agencies.idva
    earlier = world.accepted
    from_earlier_done = world.action  # IDVA, agreed when the earlier case was listed
    from_earlier_kept = ActionFactory(item=world.item, owner_agency=police, due_on=TODAY + 3 * DAY,
                                      description="Invented: police keep an eye on it")
    repeat = accepted(world, is_repeat=True, repeat_of_id=earlier.id)
    past = meeting_with(world, -14, [repeat])
    start(world, past, idva, police)
    past_item = past.items[0]
    not_possible = actions.add_action(manager, past_item, idva.id, "Invented: offer refuge space",
                                      TODAY - 2 * DAY, "Ivy")
    not_done = actions.add_action(manager, past_item, police.id, "Invented: check bail", TODAY - DAY, None)
    services.record_hearing(manager, past_item, "Invented risk", "Invented minute", ItemStatus.HEARD, None)
    services.close_meeting(manager, past)
    db.session.commit()

    meeting = meeting_with(world, 21, [repeat])
    start(world, meeting, idva, police)
    item = meeting.items[0]
    sign_in(client, manager)
    hearing = f"/agenda-items/{item.id}/hearing"
    response = client.get(hearing)
    reviewed = section(page_of(response), "Open actions from earlier hearings", "Discussion")
    for description in ("Invented action for tests", "Invented: police keep an eye on it",
                        "Invented: offer refuge space", "Invented: check bail"):
        assert description in reviewed

    response = hearing_post(client, item, version_in(response), risk_summary="Invented: risk lower",
                            minute="Invented: reviewed", outcome=ItemStatus.HEARD, **{
                                f"review-{from_earlier_done.id}": ActionStatus.DONE,
                                f"review-note-{from_earlier_done.id}": "Invented: safety plan in place",
                                f"review-{not_possible.id}": ActionStatus.NOT_POSSIBLE,
                                f"review-note-{not_possible.id}": "Invented: she moved out of area",
                                f"review-{not_done.id}": ActionStatus.NOT_DONE,
                                f"review-note-{not_done.id}": "Invented: no officer available",
                                f"review-{from_earlier_kept.id}": "",
                                f"review-note-{from_earlier_kept.id}": ""})
    follow(client, response)

    expected = {from_earlier_done.id: (ActionStatus.DONE, "Invented: safety plan in place"),
                not_possible.id: (ActionStatus.NOT_POSSIBLE, "Invented: she moved out of area"),
                not_done.id: (ActionStatus.NOT_DONE, "Invented: no officer available")}
    for action_id, (status, note) in expected.items():
        action = fresh(Action, action_id)
        assert action.status == status and action.closed_at is not None
        review = [u for u in action.updates if u.kind == UpdateKind.REVIEW]
        assert [(u.status, u.note, u.user_id) for u in review] == [(status, note, manager.id)]
    kept = fresh(Action, from_earlier_kept.id)
    assert kept.status == ActionStatus.OPEN and kept.closed_at is None
    assert not [u for u in kept.updates if u.kind == UpdateKind.REVIEW]
    assert sorted(e.detail["outcome"] for e in audit_events("action.reviewed")) \
        == [ActionStatus.DONE, ActionStatus.NOT_DONE, ActionStatus.NOT_POSSIBLE]
    case_page = page_of(client.get(f"/actions/{not_possible.id}"))
    assert "Not possible (circumstances changed)" in case_page
    assert "Reviewed at meeting by" in case_page and "Invented: she moved out of area" in case_page


def test_actions_agreed_at_this_hearing_are_not_reviewed_as_earlier_ones(app, client, world):
    meeting = meeting_with(world, 21, [accepted(world)])
    start(world, meeting)
    item = meeting.items[0]
    sign_in(client, world.users["manager"])
    hearing = f"/agenda-items/{item.id}/hearing"
    added = post_form(client, f"/agenda-items/{item.id}/actions", token_from=hearing, data={
                                        "action-owner_agency_id": str(world.agencies.idva.id),
                                        "action-description": "Invented: agreed just now",
                                        "action-named_person": "Ivy",
                                        **date_parts("action-due_on", TODAY + 28 * DAY)})
    page = follow(client, added)
    assert "Action added." in page
    assert "Invented: agreed just now" in section(page, "Actions agreed")
    assert "Invented: agreed just now" not in section(page, "Open actions from earlier hearings", "Discussion")
    assert "No open actions from earlier hearings." in page
    action = db.session.execute(select(Action).where(Action.agenda_item_id == item.id)).scalar_one()
    assert (action.status, action.named_person, action.due_on) == (ActionStatus.OPEN, "Ivy", TODAY + 28 * DAY)
    assert [u.kind for u in action.updates] == [UpdateKind.CREATED]


# --- minutes ---------------------------------------------------------------------------------

def test_finalising_locks_the_minutes_and_amendments_keep_the_earlier_text(app, client, world):
    manager = world.users["manager"]
    meeting = meeting_with(world, 21, [accepted(world)])
    start(world, meeting)
    item = meeting.items[0]
    services.record_hearing(manager, item, "Invented risk", "Invented minute: first version", ItemStatus.HEARD, None)
    db.session.commit()
    sign_in(client, manager)
    finalise = f"/meetings/{meeting.id}/finalise"

    # Not before the meeting is closed.
    assert "Close the meeting before finalising its minutes." in page_of(client.get(finalise))
    assert post_form(client, finalise).status_code == 200
    assert fresh(Meeting, meeting.id).minutes_finalised_at is None
    with pytest.raises(StepRefused, match="Close the meeting"):
        services.finalise_minutes(manager, fresh(Meeting, meeting.id))
    # Nor can a minute be amended before it is final.
    with pytest.raises(StepRefused, match="until the minutes are final"):
        services.amend_minute(manager, fresh(AgendaItem, item.id), "x", "y", None)
    db.session.rollback()

    follow(client, post_form(client, f"/meetings/{meeting.id}/close", token_from=f"/meetings/{meeting.id}/register"))
    assert "Minutes finalised and locked." in follow(client, post_form(client, finalise))
    stored = fresh(Meeting, meeting.id)
    assert stored.minutes_locked and stored.minutes_finalised_by_id == manager.id
    assert "The minutes are already final." in page_of(client.get(finalise))

    # The hearing page refuses changes.
    hearing = f"/agenda-items/{item.id}/hearing"
    response = client.get(hearing)
    page = page_of(response)
    # Read-only, and it says so (the issue: it used to show editable boxes and "Open the meeting first").
    assert 'name="risk_summary"' not in page and ">Save</button>" not in page and "<textarea" not in page
    assert "The minutes of this meeting are final" in page and "read-only" in page
    assert "Invented minute: first version" in page and "Open the meeting first" not in page
    refused = hearing_post(client, item, fresh(AgendaItem, item.id).version, risk_summary="Changed",
                           minute="Changed afterwards")
    assert "the hearing cannot be changed here" in follow(client, refused)
    action = post_form(client, f"/agenda-items/{item.id}/actions", token_from=hearing, data={
                                         "action-owner_agency_id": str(world.agencies.idva.id),
                                         "action-description": "Invented: too late",
                                         **date_parts("action-due_on", TODAY + 28 * DAY)})
    assert action.status_code == 302
    assert fresh(AgendaItem, item.id).minute == "Invented minute: first version"
    assert db.session.execute(select(Action).where(Action.agenda_item_id == item.id)).first() is None

    # An amendment keeps the earlier minute and the reason.
    amend = f"/agenda-items/{item.id}/amend"
    response = client.get(amend)
    assert "Invented minute: first version" in page_of(response)
    done = post_form(client, amend, {"version": version_in(response), "minute": "Invented minute: corrected",
                                     "reason": "Invented reason: the wrong agency was named"})
    assert "Minute amended" in follow(client, done)
    item = fresh(AgendaItem, item.id)
    assert item.minute == "Invented minute: corrected"
    [amendment] = item.amendments
    assert (amendment.previous_minute, amendment.reason, amendment.user_id) == (
        "Invented minute: first version", "Invented reason: the wrong agency was named", manager.id)
    assert "Invented minute: corrected" in page_of(client.get(f"/meetings/{meeting.id}"))
    history = page_of(client.get(amend))
    assert "Earlier amendments" in history and "Invented reason: the wrong agency was named" in history

    table = MinuteAmendment.__table__
    raw_previous, raw_reason = db.session.execute(
        select(table.c.previous_minute, table.c.reason).where(table.c.id == amendment.id)).one()
    raw_minute = db.session.execute(select(AgendaItem.__table__.c.minute)
                                    .where(AgendaItem.__table__.c.id == item.id)).scalar_one()
    for raw in (raw_previous, raw_reason, raw_minute):
        assert isinstance(raw, bytes) and raw[0] == 1
    assert b"first version" not in raw_previous and b"Invented" not in raw_previous
    assert b"wrong agency" not in raw_reason and b"Invented" not in raw_reason
    assert b"corrected" not in raw_minute

    # A stale amendment form is refused.
    stale = post_form(client, amend, {"version": "1", "minute": "Invented: stale", "reason": "Invented: stale"})
    assert "Someone else saved this" in page_of(stale)
    assert len(fresh(AgendaItem, item.id).amendments) == 1


# --- research visibility ---------------------------------------------------------------------

RESEARCH = {"relevant": "Invented: three call-outs since May", "to_share": "Invented: call-out dates",
            "lawful_basis": LawfulBasis.PUBLIC_TASK, "withheld": "Invented: a sealed family court matter",
            "withheld_reason": "Invented: court order forbids disclosure", "version": ""}


def test_research_visibility_before_and_after_sharing(app, client, world):
    item, police = world.item, world.agencies.police
    research = f"/agenda-items/{item.id}/research"
    idva = signed_in(app, world.users["representative"])
    saved = post_form(idva, research, RESEARCH)
    assert "Research saved. It stays visible to your agency only until you share it." in follow(idva, saved)
    colleague = UserFactory(agency=police, full_name="Petra Police-Rep")
    PanelRoleFactory(panel=world.panel, user=colleague, role=Role.REPRESENTATIVE)
    other = signed_in(app, colleague)
    sign_in(client, world.users["manager"])
    chair = signed_in(app, world.users["chair"])

    def shown(who):
        page = page_of(who.get(research))
        return {key: RESEARCH[key] in page for key in ("relevant", "to_share", "withheld", "withheld_reason")}

    nothing = dict.fromkeys(("relevant", "to_share", "withheld", "withheld_reason"), False)
    everything = dict.fromkeys(nothing, True)
    assert shown(idva) == everything
    assert shown(other) == nothing
    assert shown(chair) == nothing
    # Internal until shared, for the panel manager too: not on the research page, not at the hearing.
    assert shown(client) == nothing
    hearing = page_of(chair.get(f"/agenda-items/{item.id}/hearing"))
    assert RESEARCH["to_share"] not in hearing and RESEARCH["relevant"] not in hearing
    hearing = page_of(client.get(f"/agenda-items/{item.id}/hearing"))
    assert RESEARCH["to_share"] not in hearing and RESEARCH["relevant"] not in hearing

    page = follow(idva, post_form(idva, f"{research}/share", token_from=research))
    assert "Your research is now shared with the panel." in page
    assert fresh(ResearchReturn, db.session.execute(select(ResearchReturn.id)).scalar_one()).is_shared

    shared = {"relevant": True, "to_share": True, "withheld": False, "withheld_reason": False}
    assert shown(other) == shared
    assert shown(chair) == shared
    assert shown(client) == everything
    assert shown(idva) == everything
    hearing = page_of(chair.get(f"/agenda-items/{item.id}/hearing"))
    assert RESEARCH["to_share"] in hearing
    assert RESEARCH["withheld"] not in hearing and RESEARCH["withheld_reason"] not in hearing
    assert RESEARCH["withheld"] not in page_of(client.get(f"/agenda-items/{item.id}/hearing"))
    # Nothing of it in the meeting page of any of them.
    for who in (other, chair, idva):
        page = page_of(who.get(f"/meetings/{world.meeting.id}"))
        assert not any(value in page for key, value in RESEARCH.items() if value and key != "lawful_basis")


def test_research_needs_an_answer_and_a_lawful_basis_to_share(app, world):
    idva = signed_in(app, world.users["representative"])
    research = f"/agenda-items/{world.item.id}/research"
    page = page_of(post_form(idva, research, {"version": "", "to_share": "Invented: something", "withheld": "x"}))
    for message in ("Say what your agency holds, or tick that it holds nothing relevant",
                    "Choose the lawful basis for sharing", "Say why you will not share what you hold"):
        assert message in page
    assert db.session.execute(select(ResearchReturn)).first() is None


def test_research_grid_shows_who_returned(app, client, world):
    police, idva = world.agencies.police, world.agencies.idva
    quiet = accepted(world)
    services.list_case(world.users["manager"], world.meeting, quiet)
    db.session.commit()
    rep = signed_in(app, world.users["representative"])
    research = f"/agenda-items/{world.item.id}/research"
    follow(rep, post_form(rep, research, RESEARCH))
    colleague = UserFactory(agency=police)
    PanelRoleFactory(panel=world.panel, user=colleague, role=Role.REPRESENTATIVE)
    other = signed_in(app, colleague)
    follow(other, post_form(other, research, {"nothing_held": "y", "version": ""}))
    sign_in(client, world.users["manager"])

    def grid():
        page = client.get(f"/meetings/{world.meeting.id}/research")
        headers = [th.get_text() for th in soup(page).select('th.govuk-table__header[scope="col"]')]
        assert headers[0] == "Case"
        cells = {}
        for case in (world.accepted, quiet):
            row = row_with(page, case.reference)
            values = [td.get_text().strip() for td in row.select("td.govuk-table__cell")]
            cells[case.id] = dict(zip(headers[1:], values))
        return cells

    cells = grid()
    # Before sharing, the manager learns that a return exists, not what it says (nothing held included).
    assert cells[world.accepted.id] == {idva.short_name: "R", police.short_name: "R"}
    assert cells[quiet.id] == {idva.short_name: "–", police.short_name: "–"}
    follow(rep, post_form(rep, f"{research}/share", token_from=research))
    assert grid()[world.accepted.id] == {idva.short_name: "RS", police.short_name: "R"}
    follow(other, post_form(other, f"{research}/share", token_from=research))
    assert grid()[world.accepted.id] == {idva.short_name: "RS", police.short_name: "NS"}
    assert rep.get(f"/meetings/{world.meeting.id}/research").status_code == 403
    nothing = db.session.execute(select(ResearchReturn).where(ResearchReturn.agency_id == police.id)).scalar_one()
    assert nothing.nothing_held and nothing.relevant is None


# --- actions ---------------------------------------------------------------------------------

def test_two_people_updating_one_action_lose_nothing(app, world):
    action = world.action
    colleague = UserFactory(agency=world.agencies.idva, full_name="Ida Colleague-Test")
    PanelRoleFactory(panel=world.panel, user=colleague, role=Role.REPRESENTATIVE)
    first, second = signed_in(app, world.users["representative"]), signed_in(app, colleague)
    url = f"/actions/{action.id}"
    first_version = version_in(first.get(url), "update-version")
    second_version = version_in(second.get(url), "update-version")
    assert first_version == second_version

    saved = post_form(first, url, {"update-kind": UpdateKind.PROGRESS,
                                   "update-note": "Invented: first note, called the victim",
                                   "update-version": first_version})
    assert "Action updated." in follow(first, saved)

    stale = post_form(second, url, {"update-kind": UpdateKind.PROGRESS,
                                    "update-note": "Invented: second note, wrote to the GP",
                                    "update-version": second_version})
    assert stale.status_code == 200
    page = page_of(stale)
    assert "Someone else updated this action" in page
    assert "Invented: first note, called the victim" in section(page, "History", "Record progress")
    textarea = textarea_value(stale, "update-note")
    assert textarea == "Invented: second note, wrote to the GP"
    notes = [u.note for u in fresh(Action, action.id).updates]
    assert "Invented: second note, wrote to the GP" not in notes
    assert len(audit_events("action.progress")) == 1

    again = post_form(second, url, {"update-kind": UpdateKind.PROGRESS,
                                    "update-note": textarea, "update-version": version_in(stale, "update-version")})
    follow(second, again)
    notes = [u.note for u in fresh(Action, action.id).updates]
    assert "Invented: first note, called the victim" in notes and "Invented: second note, wrote to the GP" in notes
    assert fresh(Action, action.id).status == ActionStatus.OPEN


def test_representatives_see_their_agency_actions_across_panels_overdue_first(app, world):
    idva, police = world.agencies.idva, world.agencies.police
    other_panel = another_panel(world, name="Other Borough MARAC Test", agencies=["idva"], roles=[Role.REPRESENTATIVE])
    other_case = CaseFactory(panel=other_panel, referrer=world.users["representative"], status=CaseStatus.ACCEPTED)
    other_meeting = meeting_with(world, 10, [other_case], panel=other_panel)
    overdue_elsewhere = ActionFactory(item=other_meeting.items[0], owner_agency=idva, due_on=TODAY - 10 * DAY,
                                      description="Invented: overdue elsewhere")
    ActionFactory(item=world.item, owner_agency=idva, due_on=TODAY - 3 * DAY, description="Invented: overdue here")
    later = ActionFactory(item=world.item, owner_agency=idva, due_on=TODAY + 40 * DAY,
                          description="Invented: due much later")
    ActionFactory(item=world.item, owner_agency=police, due_on=TODAY - 20 * DAY,
                  description="Invented: police own this")
    ActionFactory(item=world.item, owner_agency=idva, due_on=TODAY - 30 * DAY,
                  description="Invented: already done", status=ActionStatus.DONE)

    rep = signed_in(app, world.users["representative"])
    response = rep.get("/actions")
    page = page_of(response)
    open_order = ["Invented: overdue elsewhere", "Invented: overdue here", "Invented action for tests",
                  "Invented: due much later"]
    assert listed_order(page, open_order) == open_order
    assert "4 actions, open and most overdue first" in page
    assert "Invented: police own this" not in page and "Invented: already done" not in page
    assert other_panel.name in row_with(response, "Invented: overdue elsewhere").get_text()
    assert "Overdue" in row_with(response, "Invented: overdue here").get_text()

    everything = page_of(rep.get("/actions?status=all"))
    assert listed_order(everything, open_order + ["Invented: already done"]) == open_order + ["Invented: already done"]
    closed = page_of(rep.get("/actions?status=done"))
    assert "Invented: already done" in closed and "Invented: overdue here" not in closed
    assert f'href="/actions/{later.id}"' in page
    assert "Invented: overdue elsewhere" in page_of(rep.get(f"/actions/{overdue_elsewhere.id}"))


def test_manager_sees_rag_tags_on_the_panel_actions(app, client, world):
    idva, police = world.agencies.idva, world.agencies.police
    ActionFactory(item=world.item, owner_agency=idva, due_on=TODAY - 3 * DAY, description="Invented: late one")
    ActionFactory(item=world.item, owner_agency=police, due_on=TODAY + 30 * DAY, description="Invented: plenty of time")
    ActionFactory(item=world.item, owner_agency=idva, due_on=TODAY - 30 * DAY,
                  description="Invented: finished", status=ActionStatus.DONE)
    other_panel = another_panel(world, agencies=["idva"], roles=[])
    other_case = CaseFactory(panel=other_panel, referrer=world.users["representative"], status=CaseStatus.ACCEPTED)
    other_meeting = meeting_with(world, 10, [other_case], panel=other_panel)
    ActionFactory(item=other_meeting.items[0], owner_agency=idva, due_on=TODAY - 5 * DAY,
                  description="Invented: another panel")
    sign_in(client, world.users["manager"])
    url = f"/panels/{world.panel.id}/actions"
    response = client.get(url)
    page = page_of(response)

    def tag(description, page=response):
        found = tags_in(row_with(page, description))
        return found[0] if found else None

    assert tag("Invented: late one") == ("red", "Overdue")
    assert tag("Invented action for tests") == ("yellow", "Due soon")  # due in 7 days
    assert tag("Invented: plenty of time") == ("green", "On track")
    assert "Invented: another panel" not in page and "Invented: finished" not in page
    assert world.agencies.police.short_name in row_with(response, "Invented: plenty of time").get_text()
    everything = client.get(url + "?status=all")
    assert tag("Invented: finished", everything) is None
    rep = signed_in(app, world.users["representative"])
    assert rep.get(url).status_code == 403


def test_completing_and_chasing_an_action(app, client, world):
    action = world.action
    sign_in(client, world.users["manager"])
    url = f"/actions/{action.id}"
    chased = post_form(client, f"{url}/chase", token_from=url, data={
        "chase-note": "Invented: emailed the IDVA manager",
        "chase-version": version_in(client.get(url), "chase-version")})
    assert "Chase recorded." in follow(client, chased)
    assert fresh(Action, action.id).last_chased_at is not None
    rep = signed_in(app, world.users["representative"])
    response = rep.get(url)
    assert 'name="chase-note"' not in page_of(response), "only the manager chases"
    forbidden = post_form(rep, f"{url}/chase", token_from=url, data={
        "chase-note": "x", "chase-version": version_in(response, "update-version")})
    assert forbidden.status_code == 403
    done = post_form(rep, url, {"update-kind": UpdateKind.COMPLETED, "update-note": "Invented: all done",
                                "update-version": version_in(response, "update-version")})
    follow(rep, done)
    stored = fresh(Action, action.id)
    assert stored.status == ActionStatus.DONE and stored.closed_at is not None
    assert [u.kind for u in stored.updates][-2:] == [UpdateKind.CHASE, UpdateKind.COMPLETED]
    page = page_of(rep.get(url))
    assert "Record progress" not in page and "Done" in page
    outsider = signed_in(app, world.users["nonmember"])
    assert outsider.get(url).status_code == 403


# --- audit -----------------------------------------------------------------------------------

def test_every_step_writes_an_audit_event(app, client, world, clock):
    manager, rep_user = world.users["manager"], world.users["representative"]
    panel, idva = world.panel, world.agencies.idva
    case = accepted(world)
    sign_in(client, manager)
    rep = signed_in(app, rep_user)

    def step(expected, actor, response):
        """The request has been made: its events are those after the previous step's."""
        assert response.status_code == 302, page_of(response)[:2000]
        events = events_since(step.seq)
        step.seq = last_seq()
        assert expected in [e.action for e in events], (expected, [e.action for e in events])
        event = next(e for e in events if e.action == expected)
        assert event.actor_user_id == actor.id
        return event

    step.seq = last_seq()
    first = next_weekday(TODAY + 21 * DAY, 1)
    step("meetings.scheduled", manager, post_form(client, f"/panels/{panel.id}/meetings/schedule",
                                                  {**date_parts("start_on", first), "starts_at": "10:00"}))
    meeting = db.session.execute(select(Meeting).where(Meeting.meets_on == first)).scalar_one()
    agenda = f"/meetings/{meeting.id}/agenda"
    step("agenda.case_listed", manager,
         post_form(client, f"/meetings/{meeting.id}/cases/list", {"case_ids": [str(case.id)]}, token_from=agenda))
    published = step("agenda.published", manager,
                     post_form(client, f"/meetings/{meeting.id}/publish", token_from=agenda))
    assert published.object_id == str(meeting.id)
    item = fresh(Meeting, meeting.id).items[0]
    research = f"/agenda-items/{item.id}/research"
    saved = step("research.saved", rep_user, post_form(rep, research, RESEARCH))
    assert saved.detail == {"agenda_item_id": str(item.id), "nothing_held": False}
    shared = step("research.shared", rep_user, post_form(rep, f"{research}/share", token_from=research))
    assert shared.purpose == LawfulBasis.PUBLIC_TASK
    register = f"/meetings/{meeting.id}/register"
    on_the_day(clock, meeting.meets_on, (client, manager), (rep, rep_user))
    step("meeting.opened", manager, post_form(client, f"/meetings/{meeting.id}/open", token_from=register))
    step("meeting.attendee_added", manager, post_form(
        client, f"/meetings/{meeting.id}/attendees", token_from=register,
        data={"name": "Ivy Idva-Test", "role": "", "agency_id": str(idva.id)}))
    attendee = fresh(Meeting, meeting.id).attendees[0]
    agreed = step("meeting.confidentiality_agreed", manager,
                  post_form(client, f"/attendees/{attendee.id}/agree", token_from=register))
    assert agreed.detail == {"attendee_id": str(attendee.id)}
    step("meeting.register_recorded", manager, post_form(
        client, f"/meetings/{meeting.id}/attendance", token_from=register,
        data={f"status-{idva.id}": AttendanceStatus.PRESENT}))
    hearing = f"/agenda-items/{item.id}/hearing"
    created = step("action.created", manager, post_form(
        client, f"/agenda-items/{item.id}/actions", token_from=hearing,
        data={"action-owner_agency_id": str(idva.id), "action-description": "Invented: call her",
              **date_parts("action-due_on", first + 28 * DAY)}))
    action = db.session.execute(select(Action).where(Action.agenda_item_id == item.id)).scalar_one()
    assert created.object_id == str(action.id) and created.object_type == "actions"
    step("agenda.case_heard", manager, hearing_post(client, item, fresh(AgendaItem, item.id).version,
                                                    risk_summary="Invented risk", minute="Invented minute",
                                                    outcome=ItemStatus.HEARD))
    step("meeting.closed", manager, post_form(client, f"/meetings/{meeting.id}/close", token_from=register))
    step("minutes.finalised", manager, post_form(client, f"/meetings/{meeting.id}/finalise"))
    amend = f"/agenda-items/{item.id}/amend"
    step("minutes.amended", manager, post_form(client, amend, {
        "version": str(fresh(AgendaItem, item.id).version), "minute": "Invented minute, corrected",
        "reason": "Invented reason"}))
    step("action.progress", rep_user, post_form(rep, f"/actions/{action.id}", {
        "update-kind": UpdateKind.PROGRESS, "update-note": "Invented: called",
        "update-version": str(fresh(Action, action.id).version)}))
    step("action.completed", rep_user, post_form(rep, f"/actions/{action.id}", {
        "update-kind": UpdateKind.COMPLETED, "update-note": "Invented: done",
        "update-version": str(fresh(Action, action.id).version)}))

    # No personal data in any of these events' details; and the chain still verifies.
    events = events_since(0)
    for event in events:
        assert "Invented" not in str(event.detail)
    from marac.audit.services import verify

    count, seq, _ = verify()
    assert seq == last_seq() and count == seq


# --- pages with two forms; queries per page --------------------------------------------------

def test_errors_in_a_second_form_are_summarised_and_named_in_the_title(app, client, world):
    meeting = meeting_with(world, 21, [accepted(world)])
    start(world, meeting)
    sign_in(client, world.users["manager"])

    register = post_form(client, f"/meetings/{meeting.id}/attendees", token_from=f"/meetings/{meeting.id}/register",
                         data={"name": "", "agency_id": ""})
    assert title_of(register).startswith("Error: ")
    summary = section(page_of(register), "There is a problem", "</div>")
    assert "Enter the attendee's name" in summary and "Choose the agency, or observer" in summary

    hearing = post_form(client, f"/agenda-items/{meeting.items[0].id}/actions",
                        token_from=f"/agenda-items/{meeting.items[0].id}/hearing")
    assert title_of(hearing).startswith("Error: ") and "Choose the agency that owns the action" in page_of(hearing)

    url = f"/actions/{world.action.id}"
    chase = post_form(client, f"{url}/chase", token_from=url, data={
        "chase-note": "", "chase-version": version_in(client.get(url), "chase-version")})
    assert title_of(chase).startswith("Error: ") and "Say how you chased it" in page_of(chase)
    assert title_of(client.get(url)).startswith("Action")


def test_meeting_pages_issue_no_query_per_case(app, client, world):
    """The meeting, agenda and research-grid pages issue as many statements for 6 cases as for 2."""
    from sqlalchemy import event

    from marac.cases.models import CaseParty, PartyRole
    from marac.people.models import Person

    def with_subject(case, n):
        person = Person(first_names="Testina", last_name=f"Fakeperson{n}")
        db.session.add(person)
        db.session.add(CaseParty(case_id=case.id, person=person, role=PartyRole.VICTIM))
        db.session.commit()
        return case

    small = meeting_with(world, 21, [with_subject(accepted(world), n) for n in range(2)])
    large = meeting_with(world, 35, [with_subject(accepted(world), n) for n in range(2, 8)])
    sign_in(client, world.users["manager"])
    rep = signed_in(app, world.users["representative"])
    count = {"n": 0}

    def counter(*args):
        count["n"] += 1

    def statements(who, url):
        who.get(url)  # once to warm caches (keys, sharing rules)
        count["n"] = 0
        assert who.get(url).status_code == 200
        return count["n"]

    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        for who, path in ((client, "/meetings/{}"), (rep, "/meetings/{}"), (client, "/meetings/{}/agenda"),
                          (client, "/meetings/{}/research")):
            few, many = statements(who, path.format(small.id)), statements(who, path.format(large.id))
            assert many == few, (path, few, many)
        index = f"/panels/{world.panel.id}/meetings"
        few = statements(client, index)
        for days in (49, 63, 77, 91):
            meeting_with(world, days, [accepted(world)])
        assert statements(client, index) == few
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    assert "Fakeperson7" in page_of(client.get(f"/meetings/{large.id}"))


def test_users_without_a_case_role_see_no_actions(app, world):
    """Actions are case information: a steering member, or a colleague with no role on the panel,
    sees none of their agency's actions."""
    colleague = UserFactory(agency=world.agencies.idva)
    steering = world.users["steering"]
    ActionFactory(item=world.item, owner_agency=steering.agency, due_on=TODAY + 3 * DAY,
                  description="Invented: council action")
    for user in (colleague, steering):
        page = page_of(signed_in(app, user).get("/actions"))
        assert "Invented action for tests" not in page and "Invented: council action" not in page
        assert "No actions" in page


def test_a_case_cannot_be_on_two_agendas(app, world):
    from marac.meetings import services as meetings

    later = meetings.add_meeting(world.users["manager"], world.panel, TODAY + 40 * DAY, dt.time(10), anyway=True)
    with pytest.raises(StepRefused, match="already listed for the meeting on"):
        meetings.list_case(world.users["manager"], later, world.accepted)


def test_an_agenda_item_with_actions_agreed_at_it_is_never_deleted(client, world):
    """Cancelling the meeting or taking the case off the agenda would delete the item the actions were
    agreed at (the database refused it: a server error); both are refused with a reason instead."""
    sign_in(client, world.users["manager"])
    meeting, item = world.meeting, world.item
    assert actions.actions_agreed_at(item)
    refused = post_form(client, f"/meetings/{meeting.id}/cancel")
    assert refused.status_code == 200
    assert "Actions were agreed at this meeting, so it cannot be cancelled." in page_of(refused)
    agenda = f"/meetings/{meeting.id}/agenda"
    kept = follow(client, post_form(client, f"/agenda-items/{item.id}/remove", token_from=agenda))
    assert "Actions were agreed for this case at this meeting, so it stays on the agenda" in kept
    assert fresh(Meeting, meeting.id).status == MeetingStatus.SCHEDULED
    assert fresh(AgendaItem, item.id) is not None
