"""In the meeting (issue 12): nothing typed is ever lost, a quick register that can be corrected until the
minutes are final, a read-only hearing afterwards, a confirmed close, and dates that make sense."""
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from marac.actions.models import Action
from marac.cases.models import CaseStatus
from marac.core.formatting import format_date
from marac.core.timeutil import today
from marac.core.workdays import add_working_days, is_working_day
from marac.extensions import db
from marac.meetings import services
from marac.meetings.models import AgendaItem, AttendanceStatus, Attendee, ItemStatus, Meeting, MeetingStatus, RegisterCorrection
from marac.panels.models import Role
from tests.factories import (ActionFactory, AgendaItemFactory, CaseFactory, HeldMeetingFactory, MeetingFactory,
                             PanelRoleFactory, UserFactory, open_on_its_day)
from tests.helpers import audit_events, fresh, page_of, post_form, sign_in, signed_in, soup, version_in
from tests.referrals import date_parts
from tests.test_access_matrix import MATRIX

DAY = dt.timedelta(days=1)
ROOT = Path(__file__).resolve().parent.parent


def accepted(world):
    return CaseFactory(panel=world.panel, referrer=world.users["representative"], status=CaseStatus.ACCEPTED)


def running_meeting(world, with_earlier_action=True):
    """A meeting today, opened, the IDVA's representative named and agreed; its case has an open action
    from an earlier hearing (to review) when asked."""
    manager = world.users["manager"]
    case = accepted(world)
    earlier = None
    if with_earlier_action:
        held = HeldMeetingFactory(panel=world.panel, meets_on=today() - 28 * DAY)
        old_item = AgendaItemFactory(meeting=held, case=case, position=1)
        earlier = ActionFactory(item=old_item, owner_agency=world.agencies.police,
                                description="Invented: earlier action to review")
    meeting = MeetingFactory(panel=world.panel, manager=manager, meets_on=today(), cases=[case], published=True)
    services.open_meeting(manager, meeting)
    attendee = services.add_attendee(manager, meeting, "Invented Idva-Person", "", world.agencies.idva.id, False)
    services.agree_confidentiality(manager, meeting, attendee)
    db.session.commit()
    return meeting, meeting.items[0], earlier


def action_data(world, description, named=""):
    return {"action-owner_agency_id": str(world.agencies.idva.id), "action-description": description,
            "action-named_person": named, **date_parts("action-due_on", today() + 28 * DAY)}


def typed_boxes(page):
    """{name: value} of every text box and text area on the page."""
    html = soup(page)
    boxes = {t["name"]: t.get("value", "") for t in html.find_all("input", attrs={"name": True})
             if t.get("type", "text") == "text"}
    boxes.update({t["name"]: t.get_text() for t in html.find_all("textarea")})
    return boxes


# --- nothing typed is ever lost: the class ------------------------------------------------------

TYPED = ("textarea", "input")


def _post_forms(page):
    """The page's POST forms but the header's "Sign out" (which leaves the page by design)."""
    return [f for f in soup(page).find_all("form") if (f.get("method") or "get").lower() == "post"
            and not (f.get("action") or "").endswith("/sign-out")]


def _holds_text(form):
    return bool(form.find_all("textarea")) or any(
        i.get("type", "text") == "text" for i in form.find_all("input"))


def _has_button(form):
    return bool(form.find_all("button", attrs={"type": "submit"})) or bool(
        form.find_all("input", attrs={"type": "submit"}))


def text_losing_pages(page):
    """Why a page would lose typed text: a form with text boxes beside another form with a button (the
    button posts its own form only, and the text is dropped)."""
    forms = [f for f in _post_forms(page) if _has_button(f)]
    holding = [f for f in forms if _holds_text(f)]
    if holding and len(forms) > 1:
        return [f"{len(forms)} forms with buttons, {len(holding)} holding text"]
    return []


def test_the_walker_finds_a_page_that_splits_text_from_a_button():
    split = ('<form method="post" action="/a"><textarea name="minute"></textarea><button type="submit">Save</button>'
             '</form><form method="post" action="/b"><button type="submit">Add action</button></form>')
    one = ('<form method="post" action="/a"><textarea name="minute"></textarea><button type="submit">Save</button>'
           '<button type="submit" formaction="/b">Add action</button></form>')
    assert text_losing_pages(split) and not text_losing_pages(one)


def test_no_page_has_a_button_that_drops_what_is_typed_in_another_form(app, world):
    """Every page of the matrix, as every role that works in a meeting, with a meeting running (register,
    hearing), a published agenda (research) and open actions (progress and chase)."""
    meeting, item, _ = running_meeting(world)
    failures, with_text_and_buttons = [], set()
    for kind in ("manager", "chair", "representative"):
        client = signed_in(app, world.users[kind])
        for endpoint, (method, url_of, _) in MATRIX.items():
            if method != "GET" or endpoint == "static":
                continue
            urls = [url_of(world)]
            if endpoint in ("meetings.register", "meetings.close"):
                urls.append(f"/meetings/{meeting.id}/{endpoint.split('.')[1]}")
            if endpoint == "meetings.hearing":
                urls.append(f"/agenda-items/{item.id}/hearing")
            for url in urls:
                response = client.get(url)
                if response.status_code != 200 or "text/html" not in response.content_type:
                    continue
                page = page_of(response)
                problems = text_losing_pages(page)
                failures += [f"{kind} {endpoint} {url}: {p}" for p in problems]
                buttons = sum(len(f.find_all("button")) for f in _post_forms(page))
                if buttons > 1 and any(_holds_text(f) for f in _post_forms(page)):
                    with_text_and_buttons.add(endpoint)
    assert not failures, "\n".join(failures)
    # Not vacuous: the pages the issue is about were walked, each with text and several buttons.
    assert {"meetings.hearing", "meetings.register", "meetings.research", "actions.detail"} <= with_text_and_buttons


# --- nothing typed is ever lost: each page ------------------------------------------------------

def test_add_action_saves_the_typed_hearing_and_shows_it_all_again(app, client, world):
    meeting, item, earlier = running_meeting(world)
    sign_in(client, world.users["manager"])
    hearing = f"/agenda-items/{item.id}/hearing"
    typed = {"risk_summary": "Invented: risk remains high", "minute": "Invented: the panel discussed it",
             "outcome": ItemStatus.HEARD, f"review-{earlier.id}": "", f"review-note-{earlier.id}":
             "Invented: police still checking", "version": version_in(client.get(hearing))}
    first = post_form(client, f"/agenda-items/{item.id}/actions", {**typed, **action_data(world, "Invented: one")},
                      token_from=hearing)
    assert first.status_code == 200
    page = page_of(first)
    assert "Action added." in page
    boxes = typed_boxes(page)
    assert boxes["risk_summary"].strip() == typed["risk_summary"] and boxes["minute"].strip() == typed["minute"]
    assert boxes[f"review-note-{earlier.id}"] == typed[f"review-note-{earlier.id}"]
    assert 'value="heard" checked' in page
    assert boxes["action-description"] == "", "the action boxes are ready for the next action"
    # The draft is saved (encrypted, as the minute), but the case is not yet heard.
    stored = fresh(AgendaItem, item.id)
    assert (stored.risk_summary, stored.minute, stored.status) == (typed["risk_summary"], typed["minute"],
                                                                   ItemStatus.LISTED)
    assert audit_events("agenda.case_draft_saved")

    # A second action from the page as it came back: its version is the current one.
    again = {**typed, "version": version_in(first), "minute": typed["minute"] + " More."}
    second = client.post(f"/agenda-items/{item.id}/actions", data={
        **{i["name"]: i["value"] for i in soup(first).find_all("input", attrs={"type": "hidden", "value": True})},
        **again, **action_data(world, "Invented: two")})
    assert second.status_code == 200 and "Action added." in page_of(second)
    assert typed_boxes(page_of(second))["minute"].strip() == again["minute"]
    db.session.expire_all()
    assert sorted(a.description for a in db.session.execute(select(Action).where(Action.agenda_item_id == item.id))
                  .scalars()) == ["Invented: one", "Invented: two"]


def test_an_invalid_action_keeps_the_hearing_and_the_action_typed(app, client, world):
    meeting, item, _ = running_meeting(world, with_earlier_action=False)
    sign_in(client, world.users["manager"])
    hearing = f"/agenda-items/{item.id}/hearing"
    data = {"risk_summary": "Invented: typed risk", "minute": "Invented: typed minute", "outcome": "",
            "version": version_in(client.get(hearing)), **action_data(world, "Invented: due too early")}
    data.update(date_parts("action-due_on", today() - 3 * DAY))
    response = post_form(client, f"/agenda-items/{item.id}/actions", data, token_from=hearing)
    assert response.status_code == 200
    page = page_of(response)
    assert "The due date must be on or after the meeting" in page
    boxes = typed_boxes(page)
    assert boxes["minute"].strip() == "Invented: typed minute"
    assert boxes["action-description"].strip() == "Invented: due too early"
    assert not db.session.execute(select(Action).where(Action.agenda_item_id == item.id)).first()


def test_save_with_an_action_typed_but_not_added_keeps_the_action(app, client, world):
    meeting, item, _ = running_meeting(world, with_earlier_action=False)
    sign_in(client, world.users["manager"])
    hearing = f"/agenda-items/{item.id}/hearing"
    data = {"risk_summary": "Invented: risk", "minute": "Invented: minute", "outcome": "",
            "version": version_in(client.get(hearing)), **action_data(world, "Invented: not added yet")}
    response = post_form(client, hearing, data)
    assert response.status_code == 200
    page = page_of(response)
    assert "This action is not added yet" in page
    assert typed_boxes(page)["action-description"].strip() == "Invented: not added yet"
    assert fresh(AgendaItem, item.id).minute == "Invented: minute"


def test_register_buttons_keep_the_name_being_typed(app, client, world):
    meeting, _, _ = running_meeting(world, with_earlier_action=False)
    sign_in(client, world.users["manager"])
    register = f"/meetings/{meeting.id}/register"
    pending = {"name": "Invented Halfway-Typed", "role": "Invented role", "agency_id": ""}
    for url in (f"/meetings/{meeting.id}/agree-all", f"/meetings/{meeting.id}/attendance",
                f"/attendees/{fresh(Meeting, meeting.id).attendees[0].id}/agree"):
        response = post_form(client, url, pending, token_from=register)
        assert response.status_code == 200, url
        boxes = typed_boxes(page_of(response))
        assert (boxes["name"], boxes["role"]) == (pending["name"], pending["role"]), url
    # Nothing typed: the button goes back to the register.
    assert post_form(client, f"/meetings/{meeting.id}/agree-all", token_from=register).status_code == 302


def test_research_share_saves_what_was_typed_first(app, client, world):
    rep = world.users["representative"]
    sign_in(client, rep)
    research = f"/agenda-items/{world.item.id}/research"
    shared = post_form(client, f"{research}/share", {
        "relevant": "Invented: typed and shared at once", "to_share": "Invented: outline", "lawful_basis":
        "public_task", "withheld": "", "withheld_reason": "", "version": ""}, token_from=research)
    assert shared.status_code == 302
    mine = services.return_of(fresh(AgendaItem, world.item.id), rep.agency_id)
    assert mine.is_shared and mine.relevant == "Invented: typed and shared at once"
    # Invalid: nothing shared, everything typed still there.
    other = signed_in(app, world.users["chair"])
    refused = post_form(other, f"{research}/share", {"relevant": "", "to_share": "Invented: chair's outline",
                                                     "lawful_basis": "", "version": ""}, token_from=research)
    assert refused.status_code == 200
    assert typed_boxes(page_of(refused))["to_share"].strip() == "Invented: chair's outline"


def test_each_button_of_the_action_page_keeps_the_other_box(app, client, world):
    sign_in(client, world.users["manager"])
    url = f"/actions/{world.action.id}"
    version = version_in(client.get(url), "update-version")
    chased = post_form(client, f"{url}/chase", {"update-kind": "progress", "update-note": "Invented: half a note",
                                                "update-version": version, "chase-note": "Invented: phoned",
                                                "chase-version": version}, token_from=url)
    assert chased.status_code == 200 and "Chase recorded." in page_of(chased)
    assert typed_boxes(page_of(chased))["update-note"].strip() == "Invented: half a note"
    version = version_in(chased, "update-version")
    updated = post_form(client, url, {"update-kind": "progress", "update-note": "Invented: progress",
                                      "update-version": version, "chase-note": "Invented: second chase",
                                      "chase-version": version})
    assert updated.status_code == 200 and "Action updated." in page_of(updated)
    assert typed_boxes(page_of(updated))["chase-note"].strip() == "Invented: second chase"


# --- the register ----------------------------------------------------------------------------

def test_the_register_offers_each_member_agencys_representatives_and_everyone_agrees_at_once(app, client, world):
    police_rep = UserFactory(agency=world.agencies.police, full_name="Invented Police-Rep")
    PanelRoleFactory(panel=world.panel, user=police_rep, role=Role.REPRESENTATIVE)
    meeting = MeetingFactory(panel=world.panel, manager=world.users["manager"], meets_on=today(),
                             cases=[accepted(world)], published=True)
    sign_in(client, world.users["chair"])
    register = f"/meetings/{meeting.id}/register"
    follow = post_form(client, f"/meetings/{meeting.id}/open", token_from=register)
    assert follow.status_code == 302
    page = page_of(client.get(register))
    assert world.users["representative"].full_name in page and "Invented Police-Rep" in page
    assert world.agencies.police.name in page and world.agencies.idva.name in page
    ids = [str(world.users["representative"].id), str(police_rep.id)]
    added = post_form(client, f"/meetings/{meeting.id}/expected", {"expected": ids}, token_from=register)
    assert added.status_code == 302
    stored = fresh(Meeting, meeting.id)
    assert sorted(a.name for a in stored.attendees) == sorted([world.users["representative"].full_name,
                                                               "Invented Police-Rep"])
    assert {a.status for a in stored.attendances} == {AttendanceStatus.PRESENT}
    assert "Invented Police-Rep" not in section_of(page_of(client.get(register)), "Representatives of")
    assert post_form(client, f"/meetings/{meeting.id}/agree-all", token_from=register).status_code == 302
    stored = fresh(Meeting, meeting.id)
    assert all(a.confidentiality_agreed_at for a in stored.attendees)
    assert services.discussion_blockers(stored) == []
    event = audit_events("meeting.confidentiality_agreed", meeting.id)[-1]
    assert event.detail["everyone"] is True and len(event.detail["attendee_ids"]) == 2


def section_of(page, marker):
    return page[page.index(marker):] if marker in page else ""


def test_register_corrections_and_removals_are_audited_with_a_reason_until_the_minutes_are_final(app, client,
                                                                                                 world):
    meeting, item, _ = running_meeting(world, with_earlier_action=False)
    manager = world.users["manager"]
    sign_in(client, manager)
    attendee = fresh(Meeting, meeting.id).attendees[0]
    correct = f"/attendees/{attendee.id}/correct"
    assert "Invented Idva-Person" in page_of(client.get(correct))
    no_reason = post_form(client, correct, {"name": "Invented Idva-Persson", "role": "",
                                            "agency_id": str(world.agencies.idva.id)})
    assert no_reason.status_code == 200 and "Choose why you are correcting this" in page_of(no_reason)
    done = post_form(client, correct, {"name": "Invented Idva-Persson", "role": "IDVA",
                                       "agency_id": str(world.agencies.idva.id), "reason": RegisterCorrection.MISSPELT})
    assert done.status_code == 302
    assert fresh(Attendee, attendee.id).name == "Invented Idva-Persson"
    event = audit_events("meeting.attendee_corrected", meeting.id)[-1]
    assert event.detail == {"attendee_id": str(attendee.id), "reason": "misspelt", "fields": ["name", "role"]}
    assert "Persson" not in str(event.detail), "no name in the trail"

    extra = services.add_attendee(manager, fresh(Meeting, meeting.id), "Invented Wrong-Person", "",
                                  world.agencies.police.id, False)
    db.session.commit()
    removed = post_form(client, f"/attendees/{extra.id}/remove", {"reason": RegisterCorrection.ADDED_IN_ERROR})
    assert removed.status_code == 302
    assert db.session.get(Attendee, extra.id) is None
    event = audit_events("meeting.attendee_removed", meeting.id)[-1]
    assert event.detail["reason"] == "added_in_error" and event.detail["attendee_id"] == str(extra.id)
    police = next(a for a in fresh(Meeting, meeting.id).attendances if a.agency_id == world.agencies.police.id)
    assert police.status == AttendanceStatus.ABSENT, "nobody else was there for the police"

    # Closed: still correctable. Final: refused, and the pages say so.
    services.close_meeting(manager, fresh(Meeting, meeting.id))
    db.session.commit()
    assert post_form(client, correct, {"name": "Invented Idva-Person", "role": "IDVA", "agency_id":
                                       str(world.agencies.idva.id), "reason": "misspelt"}).status_code == 302
    services.finalise_minutes(manager, fresh(Meeting, meeting.id))
    db.session.commit()
    refused = post_form(client, f"/attendees/{attendee.id}/remove", {"reason": "did_not_attend"})
    assert refused.status_code == 200 and "The minutes are final" in page_of(refused)
    assert db.session.get(Attendee, attendee.id) is not None
    assert "Correct<" not in page_of(client.get(f"/meetings/{meeting.id}/register"))


# --- after the meeting -----------------------------------------------------------------------

def test_closing_asks_first_says_it_is_closed_and_what_comes_next(app, client, world):
    meeting, item, _ = running_meeting(world, with_earlier_action=False)
    sign_in(client, world.users["chair"])
    close = f"/meetings/{meeting.id}/close"
    page = page_of(client.get(close))
    assert "Close the meeting?" in page and "What happens next" in page and "1 case not heard yet" in page
    assert fresh(Meeting, meeting.id).status == MeetingStatus.IN_PROGRESS, "a GET closes nothing"
    done = post_form(client, close)
    assert done.status_code == 302
    assert "Meeting closed." in page_of(client.get(done.headers["Location"]))
    assert fresh(Meeting, meeting.id).status == MeetingStatus.HELD
    hearing = page_of(client.get(f"/agenda-items/{item.id}/hearing"))
    assert "The meeting is closed" in hearing and "read-only" in hearing and "<textarea" not in hearing
    assert "Open the meeting first" not in hearing
    assert "Only a meeting in progress can be closed." in page_of(client.get(close))


# --- dates -----------------------------------------------------------------------------------

def next_non_working(start, weekend):
    day = start
    while is_working_day(day) or ((day.weekday() >= 5) != weekend):
        day += DAY
    return day


@pytest.mark.parametrize("weekend", [True, False], ids=["weekend", "bank-holiday"])
def test_a_weekend_or_bank_holiday_needs_confirming(app, client, world, weekend):
    sign_in(client, world.users["manager"])
    day = next_non_working(today() + 30 * DAY, weekend)
    url = f"/panels/{world.panel.id}/meetings/new"
    first = post_form(client, url, {**date_parts("meets_on", day), "starts_at": "10:00"})
    assert first.status_code == 200
    page = page_of(first)
    assert ("a Saturday" in page or "a Sunday" in page) if weekend else "a bank holiday" in page
    assert "Hold it on this date anyway" in page and 'name="anyway"' in page
    assert not db.session.execute(select(Meeting).where(Meeting.meets_on == day)).first()
    confirmed = post_form(client, url, {**date_parts("meets_on", day), "starts_at": "10:00", "anyway": "y"})
    assert confirmed.status_code == 302
    meeting = db.session.execute(select(Meeting).where(Meeting.meets_on == day)).scalar_one()
    assert audit_events("meeting.added", meeting.id)[-1].detail["not_a_working_day"] is True
    # A working day needs no confirmation and shows no checkbox.
    plain = page_of(client.get(url))
    assert 'name="anyway"' not in plain


def test_christmas_and_boxing_day_2026_are_bank_holidays_across_a_weekend():
    """25 December 2026 is a Friday; Boxing Day falls on a Saturday, so Monday 28th is the substitute."""
    assert services.why_not_usual_day(dt.date(2026, 12, 25)) == "Friday 25 December 2026 is a bank holiday (Christmas Day)"
    assert "a Saturday" in services.why_not_usual_day(dt.date(2026, 12, 26))
    assert "bank holiday" in services.why_not_usual_day(dt.date(2026, 12, 28))
    assert services.why_not_usual_day(dt.date(2026, 12, 29)) is None
    assert add_working_days(dt.date(2026, 12, 24), 1) == dt.date(2026, 12, 29)


def test_a_meeting_cannot_move_into_the_past_or_onto_a_taken_date(app, client, world):
    sign_in(client, world.users["manager"])
    url = f"/meetings/{world.meeting.id}/edit"
    past = post_form(client, url, {"version": version_in(client.get(url)), **date_parts("meets_on", today() - DAY),
                                   "starts_at": "10:00", "anyway": "y"})
    assert past.status_code == 200 and "cannot be moved into the past" in page_of(past)
    taken = MeetingFactory(panel=world.panel, manager=world.users["manager"], meets_on=today() + 40 * DAY)
    clash = post_form(client, url, {"version": version_in(client.get(url)), **date_parts("meets_on", taken.meets_on),
                                    "starts_at": "10:00", "anyway": "y"})
    assert clash.status_code == 200 and "already has a meeting on that date" in page_of(clash)
    assert fresh(Meeting, world.meeting.id).meets_on == today() + 14 * DAY


def test_a_meeting_whose_day_passed_unheld_stays_listed_with_its_cases(app, client, world):
    """The issue's meeting moved to 2019 vanished from both lists with its two cases. A meeting still to
    be held is upcoming whatever its date, and the cases listed at it are counted there."""
    manager = world.users["manager"]
    old = services.add_meeting(manager, world.panel, dt.date(2019, 3, 5), dt.time(10))
    for _ in range(2):
        services.list_case(manager, old, accepted(world))
    for n in range(30):  # enough held meetings to fill "Recent"
        HeldMeetingFactory(panel=world.panel, meets_on=today() - (n + 1) * 7 * DAY)
    db.session.commit()
    upcoming, recent = services.upcoming_and_recent(world.panel)
    assert old in upcoming and old not in recent
    sign_in(client, manager)
    page = page_of(client.get(f"/panels/{world.panel.id}/meetings"))
    upcoming_table = page[page.index("Upcoming"):page.index("Recent")]
    assert format_date(old.meets_on, "short_weekday") in upcoming_table
    row = next(r for r in soup(upcoming_table).find_all("tr") if format_date(old.meets_on, "short_weekday") in r.text)
    assert row.find_all("td")[2].text.strip() == "2"


def test_a_meeting_cannot_be_opened_before_its_day(app, client, world):
    sign_in(client, world.users["manager"])
    register = f"/meetings/{world.meeting.id}/register"
    response = post_form(client, f"/meetings/{world.meeting.id}/open", token_from=register)
    page = page_of(client.get(response.headers["Location"]))
    assert "it can be opened on that day" in page
    assert fresh(Meeting, world.meeting.id).status == MeetingStatus.SCHEDULED
    open_on_its_day(world.users["manager"], fresh(Meeting, world.meeting.id))
    assert fresh(Meeting, world.meeting.id).status == MeetingStatus.IN_PROGRESS


def test_an_actions_due_date_cannot_be_before_the_meeting(app, world):
    meeting, item, _ = running_meeting(world, with_earlier_action=False)
    from marac.actions import services as actions
    from marac.core.steps import StepRefused

    with pytest.raises(StepRefused) as refused:
        actions.add_action(world.users["manager"], item, world.agencies.idva.id, "Invented", today() - DAY, None)
    assert refused.value.field == "due_on"
    assert actions.add_action(world.users["manager"], item, world.agencies.idva.id, "Invented", today(), None)


# --- UK time, GOV.UK dates -------------------------------------------------------------------

def test_times_are_uk_time_and_days_have_no_leading_zero():
    summer = dt.datetime(2026, 7, 6, 9, 5, tzinfo=dt.timezone.utc)
    winter = dt.datetime(2026, 12, 6, 9, 5, tzinfo=dt.timezone.utc)
    assert format_date(summer, "datetime") == "6 Jul 2026 10:05"  # BST
    assert format_date(winter, "datetime") == "6 Dec 2026 09:05"  # GMT
    assert format_date(summer.replace(tzinfo=None), "time") == "10:05"  # naive values from SQLite are UTC
    assert format_date(dt.date(2026, 12, 6)) == "6 December 2026"
    assert format_date(dt.date(2026, 3, 5), "weekday") == "Thursday 5 March 2026"
    assert format_date(dt.time(9, 30), "time") == "09:30"  # a meeting's start is a wall-clock time
    # Just before midnight UTC in summer is the next day in the UK.
    assert format_date(dt.datetime(2026, 7, 6, 23, 30, tzinfo=dt.timezone.utc), "date") == "7 July 2026"


def test_no_template_labels_a_time_utc():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "templates").rglob("*.html")
                 if "UTC" in p.read_text() and "/pdf/" not in str(p)]
    assert not offenders, offenders


def test_the_case_list_filters_by_gov_uk_date_inputs(app, client, world):
    early = CaseFactory(panel=world.panel, referrer=world.users["representative"], status=CaseStatus.ACCEPTED,
                        referred_on=dt.date(2026, 1, 5), reference="MARAC-2026-0901")
    late = CaseFactory(panel=world.panel, referrer=world.users["representative"], status=CaseStatus.ACCEPTED,
                       referred_on=dt.date(2026, 6, 5), reference="MARAC-2026-0902")
    sign_in(client, world.users["manager"])
    url = f"/panels/{world.panel.id}/cases"
    page = page_of(client.get(url))
    assert 'name="date_from-day"' in page and 'name="date_to-year"' in page and "govuk-date-input" in page
    filtered = page_of(client.get(url, query_string={"date_from-day": "1", "date_from-month": "3",
                                                     "date_from-year": "2026", "date_to-day": "30",
                                                     "date_to-month": "6", "date_to-year": "2026"}))
    assert late.reference in filtered and early.reference not in filtered
    assert 'value="2026"' in filtered, "the dates typed stay in the boxes"
    bad = page_of(client.get(url, query_string={"date_from-day": "31", "date_from-month": "2",
                                                "date_from-year": "2026"}))
    assert "Referred from must be a real date" in bad and early.reference in bad


def test_actions_agreed_are_corrected_or_removed_with_a_reason_until_the_minutes_are_final(app, client, world):
    from marac.actions import services as actions

    meeting, item, _ = running_meeting(world, with_earlier_action=False)
    manager = world.users["manager"]
    kept = actions.add_action(manager, item, world.agencies.idva.id, "Invented: wrongly worded", today() + 7 * DAY,
                              None)
    twice = actions.add_action(manager, item, world.agencies.idva.id, "Invented: added twice", today() + 7 * DAY,
                               None)
    db.session.commit()
    sign_in(client, world.users["chair"])
    hearing = page_of(client.get(f"/agenda-items/{item.id}/hearing"))
    assert f"/hearing-actions/{kept.id}/correct" in hearing and f"/hearing-actions/{twice.id}/remove" in hearing

    url = f"/hearing-actions/{kept.id}/correct"
    form = client.get(url)
    assert "Invented: wrongly worded" in page_of(form)
    data = {"version": version_in(form), "owner_agency_id": str(world.agencies.police.id),
            "action-description": "", "description": "Invented: worded right", "named_person": "",
            **date_parts("due_on", today() - DAY), "reason": "wording"}
    early = post_form(client, url, data)
    assert early.status_code == 200 and "The due date must be on or after the meeting" in page_of(early)
    data.update(date_parts("due_on", today() + 14 * DAY))
    assert post_form(client, url, data).status_code == 302
    corrected = fresh(Action, kept.id)
    assert (corrected.description, corrected.owner_agency_id) == ("Invented: worded right", world.agencies.police.id)
    event = audit_events("action.corrected", kept.id)[-1]
    assert event.detail == {"reason": "wording", "fields": ["description", "due_on", "owner_agency_id"]}

    removal = f"/hearing-actions/{twice.id}/remove"
    assert "Choose why you are removing the action" in page_of(post_form(client, removal, {}))
    assert post_form(client, removal, {"reason": "duplicate"}).status_code == 302
    assert db.session.get(Action, twice.id) is None
    assert audit_events("action.removed", twice.id)[-1].detail["reason"] == "duplicate"

    services.close_meeting(manager, fresh(Meeting, meeting.id))
    services.finalise_minutes(manager, fresh(Meeting, meeting.id))
    db.session.commit()
    final = page_of(client.get(url))
    assert "The minutes are final" in final and "Save the correction" not in final
    assert "/correct" not in page_of(client.get(f"/agenda-items/{item.id}/hearing"))
    refused = post_form(client, f"/hearing-actions/{kept.id}/remove", {"reason": "not_agreed"})
    assert refused.status_code == 200 and db.session.get(Action, kept.id) is not None
