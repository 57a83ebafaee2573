"""Every form reads text, and a form that makes something is accepted once.

- A file uploaded where text is expected is an error on that field (or on the form when it names no
  field), a JSON body is not read as a form, a multipart part without a name is a bad request, and a
  page number in digits other than 0-9 shows the first page: none of them is a server error.
- The same "make something" form sent twice (a double click, the back button) makes one thing, and the
  second submission is sent to what the first made, with a message; a refused step leaves the form
  usable; a token from another session is refused without losing what was typed.
"""
import datetime as dt
import io
import uuid
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from marac.actions.models import Action
from marac.cases.models import Case, CaseStatus
from marac.core.forms import ALREADY_SENT, FORM_EXPIRED, NO_FILES
from marac.core.pagination import page_number
from marac.core.timeutil import today
from marac.extensions import db
from marac.meetings import services as meetings
from marac.meetings.models import Attendee, Meeting
from tests.factories import CaseFactory, MeetingFactory, open_on_its_day
from tests.helpers import (form_tokens, input_value, page_of, post_form, row_count, sign_in, signed_in, text_by_id,
                           textarea_value)
from tests.referrals import date_parts, marac_form

DAY = dt.timedelta(days=1)


def refer_url(world):
    return f"/panels/{world.panel.id}/referrals/new"


def cases_of(world):
    return row_count(Case, Case.panel_id == world.panel.id)


def followed(client, response):
    """The page a response redirected to, with its flashed message."""
    assert response.status_code == 302, page_of(response)[:2000]
    return page_of(client.get(response.headers["Location"]))


def running_meeting(world):
    """A meeting of the world's panel in progress, an accepted case listed, the IDVA's attendee named and
    agreed: case discussion may start."""
    manager = world.users["manager"]
    case = CaseFactory(panel=world.panel, referrer=world.users["representative"], status=CaseStatus.ACCEPTED)
    meeting = MeetingFactory(panel=world.panel, manager=manager, cases=[case], published=True,
                             meets_on=today() + 7 * DAY)
    open_on_its_day(manager, meeting)
    attendee = meetings.add_attendee(manager, meeting, "Ida Idva-Test", "", world.agencies.idva.id, False)
    meetings.agree_confidentiality(manager, meeting, attendee)
    db.session.commit()
    return meeting


# --- text only ---------------------------------------------------------------------------------

def test_a_file_in_a_text_field_is_an_error_on_that_field(app, client, world):
    sign_in(client, world.users["representative"])
    before = cases_of(world)
    data = {**marac_form(), **form_tokens(client, refer_url(world)),
            "victim-first_names": (io.BytesIO(b"Testina"), "name.txt")}
    response = client.post(refer_url(world), data=data)
    assert response.status_code == 200
    assert "First names must be typed in, not a file" in text_by_id(response, "victim-first_names-error")
    assert "There is a problem" in page_of(response)
    # Nothing typed is lost, and nothing is stored.
    assert input_value(response, "victim-last_name") == "Fakeperson"
    assert textarea_value(response, "recent_incident") == marac_form()["recent_incident"]
    assert cases_of(world) == before


def test_a_file_that_names_no_field_is_an_error_on_the_form(app, client, world):
    sign_in(client, world.users["representative"])
    before = cases_of(world)
    data = {**marac_form(), **form_tokens(client, refer_url(world)), "attachment": (io.BytesIO(b"%PDF-"), "a.pdf")}
    response = client.post(refer_url(world), data=data)
    assert response.status_code == 200 and NO_FILES in page_of(response)
    assert cases_of(world) == before


def test_a_file_in_the_sign_in_form_is_an_error_not_a_server_error(client, world):
    user = world.users["chair"]
    data = {**form_tokens(client, "/sign-in"), "email": (io.BytesIO(user.email.encode()), "email.txt"),
            "password": "whatever"}
    response = client.post("/sign-in", data=data)
    assert response.status_code == 200
    assert "Email address must be typed in, not a file" in page_of(response)


def test_a_json_body_is_not_read_as_a_form(app, client, world):
    sign_in(client, world.users["representative"])
    before = cases_of(world)
    tokens = form_tokens(client, refer_url(world))
    for body in ({**marac_form(), **tokens}, [1, 2], {"victim-first_names": [5, {"x": None}]}):
        response = client.post(refer_url(world), json=body, headers={"X-CSRFToken": tokens["csrf_token"]})
        assert response.status_code == 200 and "There is a problem" in page_of(response)
    assert cases_of(world) == before


@pytest.mark.parametrize("kind", ["anonymous", "representative"])
def test_a_multipart_part_without_a_name_is_a_bad_request(client, world, kind):
    url = "/sign-in" if kind == "anonymous" else refer_url(world)
    if kind != "anonymous":
        sign_in(client, world.users[kind])
    token = form_tokens(client, url)["csrf_token"]
    body = (f'--xx\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            '--xx\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--xx--\r\n').encode()
    response = client.post(url, data=body, content_type="multipart/form-data; boundary=xx")
    assert response.status_code == 400
    assert "Sorry, there is a problem with that request" in page_of(response)


@pytest.mark.parametrize("value, page", [("2", 2), ("99999", 99999), ("²", 1), ("٣", 1), ("１", 1), ("߃", 1),
                                         ("-1", 1), ("0", 1), ("100000", 1), ("9" * 400, 1), ("", 1), (" 2", 1),
                                         ("2.0", 1), ("+2", 1), ("\x00", 1)])
def test_page_numbers_are_whole_numbers_in_ascii_digits(app, value, page):
    with app.test_request_context("/", query_string={"page": value}):
        from flask import request

        assert page_number(request) == page


def test_every_paginated_list_answers_an_odd_page_number(app, client, world):
    """Each list that pages (the manager's and the administrator's), with page numbers that used to fail."""
    lists = {"manager": ["/referrals/mine", "/actions", f"/panels/{world.panel.id}/actions",
                         f"/panels/{world.panel.id}/cases", f"/cases/{world.case.id}/sharing"],
             "admin": ["/admin/agencies/", "/admin/users/", "/admin/panels/", "/admin/audit/"]}
    for kind, urls in lists.items():
        user_client = signed_in(app, world.users[kind])
        for url in urls:
            for value in ("²", "٣", "１２", "-1", "9" * 40):
                response = user_client.get(url, query_string={"page": value})
                assert response.status_code == 200, (url, value, response.status_code)


# --- accepted once -----------------------------------------------------------------------------

def test_a_referral_sent_twice_makes_one_case(app, client, world):
    sign_in(client, world.users["representative"])
    before = cases_of(world)
    data = {**marac_form(), **form_tokens(client, refer_url(world))}
    first = client.post(refer_url(world), data=data)
    second = client.post(refer_url(world), data=data)
    assert first.status_code == second.status_code == 302
    assert cases_of(world) == before + 1
    # The second submission is sent to the case the first made, and told why.
    assert urlsplit(second.headers["Location"]).path == urlsplit(first.headers["Location"]).path
    assert ALREADY_SENT in followed(client, second)
    # A fresh form makes another.
    third = post_form(client, refer_url(world), marac_form(first="Anotherina"))
    assert third.status_code == 302 and urlsplit(third.headers["Location"]).path != urlsplit(first.headers["Location"]).path
    assert cases_of(world) == before + 2


def test_a_meeting_added_twice_is_added_once(app, client, world):
    sign_in(client, world.users["manager"])
    url = f"/panels/{world.panel.id}/meetings/new"
    day = today() + 30 * DAY
    data = {**form_tokens(client, url), **date_parts("meets_on", day), "starts_at": "10:00"}
    first, second = client.post(url, data=data), client.post(url, data=data)
    assert first.status_code == second.status_code == 302
    assert row_count(Meeting, Meeting.panel_id == world.panel.id, Meeting.meets_on == day) == 1
    assert second.headers["Location"] == first.headers["Location"]
    assert ALREADY_SENT in followed(client, second)


def test_an_attendee_and_an_action_sent_twice_are_recorded_once(app, client, world):
    meeting = running_meeting(world)
    item = meeting.items[0]
    sign_in(client, world.users["manager"])
    register = f"/meetings/{meeting.id}/register"
    named = {**form_tokens(client, register), "name": "Pat Police-Test", "role": "DS",
             "agency_id": str(world.agencies.police.id)}
    for _ in range(2):
        assert client.post(f"/meetings/{meeting.id}/attendees", data=named).status_code == 302
    names = [a.name for a in db.session.execute(select(Attendee).where(Attendee.meeting_id == meeting.id)).scalars()]
    assert names.count("Pat Police-Test") == 1
    # Pat agrees, so that actions can be agreed.
    pat = next(a for a in db.session.execute(select(Attendee).where(Attendee.meeting_id == meeting.id)).scalars()
               if a.name == "Pat Police-Test")
    post_form(client, f"/attendees/{pat.id}/agree", token_from=register)

    hearing = f"/agenda-items/{item.id}/hearing"
    action = {**form_tokens(client, hearing), "action-owner_agency_id": str(world.agencies.idva.id),
              "action-description": "Invented: offer an IDVA appointment", **date_parts("action-due_on", today() + 28 * DAY),
              "action-named_person": "Ivy Idva-Test"}
    first = client.post(f"/agenda-items/{item.id}/actions", data=action)
    second = client.post(f"/agenda-items/{item.id}/actions", data=action)
    assert first.status_code == second.status_code == 302
    assert row_count(Action, Action.agenda_item_id == item.id) == 1
    assert ALREADY_SENT in followed(client, second)


def test_a_refused_step_leaves_the_form_usable(app, client, world):
    """The token is spent only with what the form makes: a refusal rolls the spending back."""
    sign_in(client, world.users["manager"])
    url = f"/panels/{world.panel.id}/meetings/new"
    tokens = form_tokens(client, url)
    taken = client.post(url, data={**tokens, **date_parts("meets_on", world.meeting.meets_on), "starts_at": "10:00"})
    assert taken.status_code == 200 and "The panel already has a meeting on that date" in page_of(taken)
    assert input_value(taken, "form_token") == tokens["form_token"]
    day = world.meeting.meets_on + DAY
    corrected = client.post(url, data={**tokens, **date_parts("meets_on", day), "starts_at": "10:00"})
    assert corrected.status_code == 302
    assert row_count(Meeting, Meeting.panel_id == world.panel.id, Meeting.meets_on == day) == 1


def test_a_token_from_another_session_is_refused_keeping_what_was_typed(app, client, world):
    other = signed_in(app, world.users["chair"])
    stolen = form_tokens(other, refer_url(world))["form_token"]
    sign_in(client, world.users["representative"])
    before = cases_of(world)
    for token in (stolen, "not-a-token", ""):
        data = {**marac_form(first="Keptina"), **form_tokens(client, refer_url(world)), "form_token": token}
        response = client.post(refer_url(world), data=data)
        assert response.status_code == 200 and FORM_EXPIRED in page_of(response)
        assert input_value(response, "victim-first_names") == "Keptina"
        assert cases_of(world) == before
    # The page came back with a token of its own: sending it again works.
    fresh_token = input_value(response, "form_token")
    assert fresh_token not in (stolen, "not-a-token", "")
    resent = client.post(refer_url(world), data={**marac_form(first="Keptina"), **form_tokens(client, refer_url(world)),
                                                 "form_token": fresh_token})
    assert resent.status_code == 302 and cases_of(world) == before + 1


def test_the_token_is_never_stored_with_the_answers(app, client, world):
    sign_in(client, world.users["representative"])
    response = post_form(client, refer_url(world), marac_form())
    case = db.session.get(Case, uuid.UUID(urlsplit(response.headers["Location"]).path.rsplit("/", 1)[1]))
    assert "form_token" not in case.referral and "csrf_token" not in case.referral


def test_every_form_of_the_app_reads_text_only(app):
    """The mechanism holds for every form: each Flask-WTF form in marac derives from AppForm (and a form
    that makes something from OnceForm), so none reads a file or a JSON body as a field's value."""
    from flask_wtf import FlaskForm

    from marac.core.forms import AppForm

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [form for form in subclasses(FlaskForm) if form.__module__.startswith("marac.")]
    assert len(ours) > 20
    outside = sorted(f"{form.__module__}.{form.__qualname__}" for form in ours if not issubclass(form, AppForm))
    assert outside == []


def test_a_form_kept_open_longer_than_a_session_can_last_is_refused_keeping_what_was_typed(app, client, world, clock):
    sign_in(client, world.users["representative"])
    old_token = form_tokens(client, refer_url(world))["form_token"]
    clock(hours=12, minutes=1)  # past the absolute session timeout: signed in again, the form still open
    sign_in(client, world.users["representative"])
    before = cases_of(world)
    data = {**marac_form(first="Patientia"), **form_tokens(client, refer_url(world)), "form_token": old_token}
    response = client.post(refer_url(world), data=data)
    assert response.status_code == 200 and FORM_EXPIRED in page_of(response)
    assert input_value(response, "victim-first_names") == "Patientia"
    assert cases_of(world) == before


def test_every_list_reads_its_page_number_through_the_one_helper():
    """?page= is read by core.pagination.page_number only (ASCII digits, at most MAX_PAGE): a list that
    reads it itself takes a 200-digit number to the database (a server error on PostgreSQL)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "marac"
    own = [str(p.relative_to(root)) for p in root.rglob("*.py")
           if p.name != "pagination.py" and ('args.get("page"' in p.read_text() or "args['page']" in p.read_text()
                                             or 'args["page"]' in p.read_text())]
    assert not own, f"read ?page= with core.pagination.page_number: {own}"
