"""Subject access and rectification: the deadline as the ICO counts it, the request log, finding a
person across the panels the handler may reach, the redacted response (PDF and JSON) and its audit,
and the correction of a person's details across their cases."""
import datetime as dt
import io
import json

import pikepdf
import pytest
from sqlalchemy import select

from marac.actions import services as actions
from marac.cases import services as cases
from marac.cases.models import Case, CaseChange, ChangeAction, PartyRole, ScreeningDecision
from marac.cases.questions import DASH_QUESTIONS
from marac.core.timeutil import today
from marac.extensions import db
from marac.meetings import services as meetings
from marac.meetings.models import ItemStatus, LawfulBasis
from marac.panels.models import PanelKind, Role
from marac.people.models import YesNoUnknown
from marac.subjects import services as subjects
from marac.subjects.models import (Redaction, Requester, RequestStatus, ResponseStatus, SubjectRequest,
                                   SubjectResponse, add_calendar_months, response_deadline)
from tests.factories import PanelRoleFactory, UserFactory
from tests.helpers import (another_panel, audit_events, is_checked, page_text, pdf_text, post_form, signed_in, soup,
                           textarea_value, version_in)

DOB = dt.date(1990, 4, 1)
PERPETRATOR = "Perry Fakeabuser"
SUBJECT_NAME = "Testina Fakeperson"
CHILD = "Kiddo Fakeperson"
REFERRER = "Rita Referrer-Test"


def marac_answers(first="Testina", last="Fakeperson", on=None, minute_name="Perry"):
    """A MARAC referral naming the subject as victim, a perpetrator and a child (fake people)."""
    on = on or today()
    return {
        "referrer_name": REFERRER, "referrer_role": "Police officer", "referrer_contact": "0207 000 0000",
        "referred_on": on.isoformat(),
        "victim": {"first_names": first, "last_name": last, "aliases": "", "date_of_birth": DOB.isoformat(),
                   "address": "1 Pretend Road, Testtown", "postcode": "ZZ1 1ZZ", "phone": "07700 900123",
                   "gp": "Fakeside Surgery"},
        "victim_aware": YesNoUnknown.YES, "victim_consents": YesNoUnknown.YES,
        "perpetrators": [{"first_names": "Perry", "last_name": "Fakeabuser", "aliases": "Pez",
                          "date_of_birth": "1985-01-02", "address": "9 Hidden Lane", "postcode": "ZZ8 8ZZ"}],
        "children": [{"first_names": "Kiddo", "last_name": "Fakeperson", "date_of_birth": "2019-05-06"}],
        "dash": {key: YesNoUnknown.YES for key, _ in DASH_QUESTIONS},
        "criterion": "visible_high_risk", "police_incidents": 2,
        "recent_incident": f"{minute_name} Fakeabuser shouted at Testina outside 9 Hidden Lane.",
        "bail_conditions": "Not to contact the victim",
    }


def refer(referrer, manager, panel, on=None, **answers):
    """A referral submitted and accepted, as the referral and screening forms do."""
    case = cases.new_case(referrer, panel)
    cases.save_answers(referrer, case, marac_answers(on=on, **answers), submit=True)
    cases.screen(manager, case, ScreeningDecision.ACCEPT, "", True, None)
    return case


def heard(world, case):
    """The case heard at a new meeting: a minute naming the perpetrator, research shared, an action."""
    manager, chair = world.users["manager"], world.users["chair"]
    meeting = meetings.add_meeting(manager, world.panel, today() - dt.timedelta(days=7), dt.time(10), anyway=True)
    item = meetings.list_case(manager, meeting, case)
    meetings.publish(manager, meeting)
    meetings.save_return(chair, item, {"nothing_held": False, "relevant": "Invented: call-outs",
                                       "to_share": "Two call-outs; Perry was arrested once.", "withheld": None,
                                       "withheld_reason": None, "lawful_basis": LawfulBasis.PUBLIC_TASK})
    meetings.share_return(chair, item)
    meetings.open_meeting(manager, meeting)
    attendee = meetings.add_attendee(manager, meeting, "Named for the IDVA", "", world.agencies.idva.id, False)
    meetings.agree_confidentiality(manager, meeting, attendee)
    actions.add_action(manager, item, world.agencies.idva.id, "Safety plan with Testina; keep Perry away",
                       today() + dt.timedelta(days=21), None)
    meetings.record_hearing(manager, item, "High risk from Fakeabuser", "Testina is safe; Pez still calls.",
                            ItemStatus.HEARD, None)
    db.session.commit()
    return item


@pytest.fixture
def subject_world(world):
    """The world with two MARAC cases of the subject (one heard), and a request for her by the manager."""
    manager, rep = world.users["manager"], world.users["representative"]
    first = refer(rep, manager, world.panel, on=today() - dt.timedelta(days=60))
    second = refer(rep, manager, world.panel)
    heard(world, first)
    request = subjects.record_request(manager, today(), Requester.SUBJECT, True, SUBJECT_NAME, DOB, "By letter")
    db.session.commit()
    world.first, world.second, world.request = first, second, request
    return world


def confirm_all(actor, request):
    found = subjects.find_matches(actor, request)
    subjects.confirm_cases(actor, request, [subjects.match_key(case, party) for case, party in found
                                            if party.role == PartyRole.VICTIM], None)
    db.session.commit()
    return found


# --- the deadline --------------------------------------------------------------------------

@pytest.mark.parametrize("received, months, due", [
    (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
    (dt.date(2028, 1, 31), 1, dt.date(2028, 2, 29)),  # a leap year
    (dt.date(2026, 3, 31), 1, dt.date(2026, 4, 30)),
    (dt.date(2026, 3, 10), 1, dt.date(2026, 4, 10)),
    (dt.date(2026, 12, 31), 1, dt.date(2027, 1, 31)),
    (dt.date(2026, 11, 30), 3, dt.date(2027, 2, 28)),  # extended by two months
])
def test_one_calendar_month_is_the_same_day_next_month_or_its_last_day(received, months, due):
    assert add_calendar_months(received, months) == due


def test_a_deadline_on_a_weekend_or_bank_holiday_moves_to_the_next_working_day():
    assert response_deadline(dt.date(2026, 1, 31)) == dt.date(2026, 3, 2)  # 28 February 2026 is a Saturday
    assert response_deadline(dt.date(2026, 3, 10)) == dt.date(2026, 4, 10)
    assert response_deadline(dt.date(2026, 4, 25)) == dt.date(2026, 5, 26)  # 25 May 2026: spring bank holiday
    assert response_deadline(dt.date(2026, 3, 10), 2) == dt.date(2026, 6, 10)


# --- the log -------------------------------------------------------------------------------

def test_the_manager_records_a_request_and_the_log_shows_its_deadline(app, world):
    client = signed_in(app, world.users["manager"])
    empty = client.get("/subject-requests/")
    assert "No subject access requests have been recorded" in page_text(empty)
    received = today() - dt.timedelta(days=3)
    response = post_form(client, "/subject-requests/new", {
        "received_on-day": received.day, "received_on-month": received.month, "received_on-year": received.year,
        "requester": Requester.ON_BEHALF, "identity_checked": "y", "subject_name": SUBJECT_NAME,
        "date_of_birth-day": "1", "date_of_birth-month": "4", "date_of_birth-year": "1990", "notes": "By email"})
    assert response.status_code == 302
    request = db.session.execute(select(SubjectRequest)).scalars().one()
    assert request.due_on == response_deadline(received) and request.subject_name == SUBJECT_NAME
    assert request.status == RequestStatus.RECEIVED and request.requester == Requester.ON_BEHALF
    log = page_text(client.get("/subject-requests/"))
    assert request.reference in log and SUBJECT_NAME in log and "Overdue" not in log
    assert audit_events("subjects.request_recorded", request.id)
    assert SUBJECT_NAME not in json.dumps([e.detail for e in audit_events("subjects.request_recorded")])


def test_a_request_past_its_deadline_is_flagged_overdue(app, world, clock):
    manager = world.users["manager"]
    subjects.record_request(manager, today() - dt.timedelta(days=40), Requester.SUBJECT, False, SUBJECT_NAME, DOB,
                            None)
    db.session.commit()
    client = signed_in(app, manager)
    assert "Overdue" in page_text(client.get("/subject-requests/"))


def test_a_form_with_errors_keeps_what_was_typed(app, world):
    client = signed_in(app, world.users["manager"])
    response = post_form(client, "/subject-requests/new", {"subject_name": SUBJECT_NAME, "requester": ""})
    assert response.status_code == 200
    text = page_text(response)
    assert "Enter the date the request was received" in text and "Say who made the request" in text
    assert soup(response).find("input", attrs={"name": "subject_name"})["value"] == SUBJECT_NAME


def test_a_refusal_needs_a_reason_and_fulfilment_needs_a_response(subject_world):
    manager, request = subject_world.users["manager"], subject_world.request
    with pytest.raises(subjects.StepRefused):
        subjects.set_status(manager, request, RequestStatus.REFUSED, "", None)
    with pytest.raises(subjects.StepRefused):
        subjects.set_status(manager, request, RequestStatus.FULFILLED, "", None)
    subjects.set_status(manager, request, RequestStatus.REFUSED, "Manifestly unfounded", None)
    assert request.status == RequestStatus.REFUSED and request.status_reason == "Manifestly unfounded"
    assert not request.is_overdue(today() + dt.timedelta(days=400))


def test_an_extension_is_two_months_at_most_with_a_reason(subject_world):
    manager, request = subject_world.users["manager"], subject_world.request
    with pytest.raises(subjects.StepRefused):
        subjects.extend(manager, request, 1, "", None)
    subjects.extend(manager, request, 1, "Complex: five cases", None)
    with pytest.raises(subjects.StepRefused):
        subjects.extend(manager, request, 2, "More", None)
    subjects.extend(manager, request, 1, "Still complex", None)
    assert request.due_on == response_deadline(request.received_on, 2)
    assert [e.detail["months"] for e in audit_events("subjects.request_extended", request.id)] == [1, 2]


# --- finding the person and the response ---------------------------------------------------

def test_the_person_is_found_by_name_and_date_of_birth_and_confirmed(app, subject_world):
    w = subject_world
    client = signed_in(app, w.users["manager"])
    page = client.get(f"/subject-requests/{w.request.id}/matches")
    text = page_text(page)
    assert w.first.reference in text and w.second.reference in text and "Victim" in text
    keys = [box["value"] for box in soup(page).find_all("input", attrs={"name": "cases"})]
    assert len(keys) == 2
    response = post_form(client, f"/subject-requests/{w.request.id}/matches", {"cases": keys,
                                                                               "version": version_in(page)})
    assert response.status_code == 302
    db.session.expire_all()
    request = db.session.get(SubjectRequest, w.request.id)
    assert {link.case_id for link in request.cases} == {w.first.id, w.second.id}
    assert request.status == RequestStatus.IN_PROGRESS
    assert audit_events("subjects.searched", request.id)[-1].detail["results"] == 2
    assert audit_events("subjects.cases_confirmed", request.id)


def test_someone_else_with_the_same_name_but_another_birthday_is_not_found(subject_world):
    w = subject_world
    request = subjects.record_request(w.users["manager"], today(), Requester.SUBJECT, True, SUBJECT_NAME,
                                      dt.date(1991, 4, 1), None)
    assert subjects.find_matches(w.users["manager"], request) == []


def test_the_response_holds_her_own_data_and_marks_every_third_party_left_out(app, subject_world):
    w = subject_world
    manager = w.users["manager"]
    confirm_all(manager, w.request)
    client = signed_in(app, manager)
    built = post_form(client, f"/subject-requests/{w.request.id}/responses", token_from=f"/subject-requests/{w.request.id}")
    assert built.status_code == 302
    response = db.session.execute(select(SubjectResponse)).scalars().one()
    assert response.status == ResponseStatus.DONE and response.redactions > 0
    assert "Response built" in page_text(client.get(f"/subject-responses/{response.id}"))

    pdf = client.get(f"/subject-responses/{response.id}/pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    disposition = pdf.headers["Content-Disposition"]
    assert w.request.reference in disposition and "OFFICIAL-SENSITIVE" in disposition
    assert "Testina" not in disposition and "Fakeperson" not in disposition
    text = " ".join(pdf_text(pdf.data).split())
    for own in ("Testina", "Fakeperson", "1 Pretend Road", "07700 900123", "Fakeside Surgery", w.first.reference,
                w.second.reference, "Safety plan with Testina"):
        assert own in text, own
    for third in ("Perry", "Fakeabuser", "Pez", "Kiddo", "9 Hidden Lane", "ZZ8 8ZZ", REFERRER, "0207 000 0000",
                  "Not to contact the victim", w.users["chair"].full_name):
        assert third not in text, third
    for redaction in (Redaction.PERPETRATOR, Redaction.FAMILY, Redaction.STAFF):
        assert redaction.marker in text, redaction
    with pikepdf.open(io.BytesIO(pdf.data)) as document:
        metadata = " ".join(str(v) for v in document.docinfo.values())
    assert "Testina" not in metadata and w.request.reference in metadata

    data = client.get(f"/subject-responses/{response.id}/json")
    assert data.status_code == 200 and data.headers["Content-Type"] == "application/json"
    doc = json.loads(data.data)
    flat = json.dumps(doc, ensure_ascii=False)
    assert "Testina" in flat and "1 Pretend Road" in flat
    assert "Perry" not in flat and "Fakeabuser" not in flat and "Kiddo" not in flat and REFERRER not in flat
    assert Redaction.PERPETRATOR.marker in flat
    assert {c["reference"] for c in doc["cases"]} == {w.first.reference, w.second.reference}
    heard_case = next(c for c in doc["cases"] if c["reference"] == w.first.reference)
    assert heard_case["hearings"][0]["minute"] == f"Testina is safe; {Redaction.PERPETRATOR.marker} still calls."
    assert heard_case["research"][0]["shared"] == f"Two call-outs; {Redaction.PERPETRATOR.marker} was arrested once."
    assert heard_case["role"] == PartyRole.VICTIM.label

    built_event = audit_events("subjects.response_built", response.id)[-1]
    assert built_event.detail["sha256"] == response.sha256
    downloads = audit_events("subjects.response_downloaded", response.id)
    assert [e.detail["format"] for e in downloads] == ["pdf", "json"]
    assert downloads[0].detail["sha256"] == response.sha256
    assert all("Testina" not in json.dumps(e.detail) for e in (built_event, *downloads))


def test_a_response_cannot_be_built_before_cases_are_confirmed(subject_world):
    with pytest.raises(subjects.StepRefused):
        subjects.build_response(subject_world.users["manager"], subject_world.request)


# --- scoping -------------------------------------------------------------------------------

def test_a_marac_manager_cannot_reach_mace_cases_through_a_request(app, subject_world):
    w = subject_world
    marac_manager = w.users["manager"]
    mace = another_panel(w, kind=PanelKind.MACE, roles=())
    mace_manager = UserFactory(agency=w.agencies.police)
    PanelRoleFactory(panel=mace, user=mace_manager, role=Role.MANAGER)
    mace_case = cases.new_case(mace_manager, mace)
    cases.save_answers(mace_manager, mace_case, {
        "referred_on": today().isoformat(), "concerns": "Invented",
        "young_person": {"first_names": "Testina", "last_name": "Fakeperson", "date_of_birth": DOB.isoformat()}},
        submit=True)
    db.session.commit()

    found = subjects.find_matches(marac_manager, w.request)
    assert mace_case.id not in {case.id for case, _ in found}

    mace_request = subjects.record_request(mace_manager, today(), Requester.SUBJECT, True, SUBJECT_NAME, DOB, None)
    confirm_mace = subjects.find_matches(mace_manager, mace_request)
    assert {case.id for case, _ in confirm_mace} == {mace_case.id}
    subjects.confirm_cases(mace_manager, mace_request, [subjects.match_key(*confirm_mace[0])], None)
    built = subjects.build_response(mace_manager, mace_request)
    db.session.commit()
    assert not mace_request.can_view(marac_manager) and not built.can_view(marac_manager)
    client = signed_in(app, marac_manager)
    assert client.get(f"/subject-requests/{mace_request.id}").status_code == 403
    assert client.get(f"/subject-responses/{built.id}/pdf").status_code == 403
    assert mace_request.reference not in page_text(client.get("/subject-requests/"))
    # Nor by naming the MACE case in a confirmation of their own request.
    with pytest.raises(subjects.StepRefused):
        subjects.confirm_cases(marac_manager, w.request, [f"{mace_case.id}:0"], None)


def test_a_response_over_two_panels_is_not_handed_to_the_manager_of_only_one(subject_world):
    w = subject_world
    other = another_panel(w, roles=())
    other_manager = UserFactory(agency=w.agencies.police)
    PanelRoleFactory(panel=other, user=other_manager, role=Role.MANAGER)
    PanelRoleFactory(panel=other, user=w.users["manager"], role=Role.MANAGER)
    elsewhere = refer(w.users["representative"], w.users["manager"], other)
    confirm_all(w.users["manager"], w.request)
    assert elsewhere.id in {link.case_id for link in w.request.cases}
    built = subjects.build_response(w.users["manager"], w.request)
    db.session.commit()
    assert w.request.can_view(other_manager)  # a case of their panel is confirmed for it
    assert [link.case_id for link in subjects.links_for(other_manager, w.request)] == [elsewhere.id]
    assert not built.can_view(other_manager)


def test_people_without_a_managers_role_handle_no_requests(app, subject_world):
    for kind in ("chair", "representative", "steering", "admin", "nonmember"):
        client = signed_in(app, subject_world.users[kind])
        assert client.get("/subject-requests/").status_code == 403
        assert client.get(f"/subject-requests/{subject_world.request.id}").status_code == 403


# --- rectification -------------------------------------------------------------------------

def test_rectification_corrects_every_case_keeps_history_and_reindexes(app, subject_world):
    w = subject_world
    manager = w.users["manager"]
    confirm_all(manager, w.request)
    client = signed_in(app, manager)
    page = client.get(f"/subject-requests/{w.request.id}/rectify")
    assert page.status_code == 200 and "1 Pretend Road" in page_text(page)
    response = post_form(client, f"/subject-requests/{w.request.id}/rectify", {
        "last_name": "Fakecorrected", "phone": "07700 900999", "reason": "Passport seen: name misspelt",
        "version": version_in(page)})
    assert response.status_code == 302

    for case in (db.session.get(Case, w.first.id), db.session.get(Case, w.second.id)):
        change = db.session.execute(select(CaseChange).where(
            CaseChange.case_id == case.id, CaseChange.action == ChangeAction.RECTIFIED)).scalars().one()
        assert set(change.fields) == {"victim.last_name", "victim.phone"}
        assert change.old_values == {"victim.last_name": "Fakeperson", "victim.phone": "07700 900123"}
        assert case.referral["victim"]["last_name"] == "Fakecorrected"
        assert case.sent_referral["victim"]["last_name"] == "Fakecorrected"
        assert case.subject.last_name == "Fakecorrected"
        assert case.parties[1].person.last_name == "Fakeabuser"  # the perpetrator untouched
    old = cases.search(w.panel, name=SUBJECT_NAME, date_of_birth=DOB)
    new = cases.search(w.panel, name="Testina Fakecorrected", date_of_birth=DOB)
    assert old.items == [] and old.total == 0 and {c.id for c in new.items} == {w.first.id, w.second.id}
    request = db.session.get(SubjectRequest, w.request.id)
    assert request.subject_name == "Testina Fakecorrected"
    assert len(subjects.find_matches(manager, request)) == 2
    event = audit_events("subjects.rectified")[-1]
    assert event.detail == {"request_id": str(request.id), "fields": ["last_name", "phone"], "cases": 2}
    assert len(audit_events("case.rectified")) == 2
    assert "Passport seen" in page_text(client.get(f"/subject-requests/{w.request.id}"))


def test_a_rectification_needs_a_reason_and_a_change(subject_world):
    w = subject_world
    confirm_all(w.users["manager"], w.request)
    with pytest.raises(subjects.StepRefused):
        subjects.rectify(w.users["manager"], w.request, {"last_name": "Fakecorrected"}, "", None)
    with pytest.raises(subjects.StepRefused):
        subjects.rectify(w.users["manager"], w.request, {}, "A reason", None)
    with pytest.raises(subjects.StepRefused):
        subjects.rectify(w.users["manager"], w.request, {"last_name": "Fakeperson"}, "A reason", None)


# --- the data protection officer -----------------------------------------------------------

def mace_case_of(world, first="Testina", last="Fakeperson"):
    """A MACE panel of its own manager, with a case about a young person of that name and DOB."""
    mace = another_panel(world, kind=PanelKind.MACE, roles=())
    manager = UserFactory(agency=world.agencies.police)
    PanelRoleFactory(panel=mace, user=manager, role=Role.MANAGER)
    case = cases.new_case(manager, mace)
    cases.save_answers(manager, case, {
        "referred_on": today().isoformat(), "concerns": "Invented: seen with Shady",
        "young_person": {"first_names": first, "last_name": last, "date_of_birth": DOB.isoformat()},
        "persons_of_concern": [{"first_names": "Shady", "last_name": "Fakeadult", "date_of_birth": "1995-07-08"}]},
        submit=True)
    db.session.commit()
    return case, manager


def test_the_dpo_works_across_every_panel(app, subject_world):
    w = subject_world
    dpo = UserFactory(agency=w.agencies.council, is_dpo=True)
    mace_case, _ = mace_case_of(w)
    draft = cases.new_case(w.users["representative"], w.panel)
    cases.save_answers(w.users["representative"], draft, marac_answers(), submit=False)
    db.session.commit()

    assert w.request.can_view(dpo)  # recorded by the manager, handled by the DPO
    found = subjects.find_matches(dpo, w.request)
    assert {case.id for case, _ in found} == {w.first.id, w.second.id, mace_case.id}  # never the draft
    subjects.confirm_cases(dpo, w.request, [subjects.match_key(c, p) for c, p in found], None)
    built = subjects.build_response(dpo, w.request)
    db.session.commit()
    assert built.status == ResponseStatus.DONE and built.can_view(dpo)
    assert not built.can_view(w.users["manager"])  # it covers a MACE case the MARAC manager may not reach
    text = " ".join(pdf_text(built.pdf).split())
    assert mace_case.reference in text and "Shady" not in text and Redaction.OTHER_PERSON.marker in text

    client = signed_in(app, dpo)
    assert "Subject access requests" in page_text(client.get("/"))
    assert w.request.reference in page_text(client.get("/subject-requests/"))
    assert client.get(f"/subject-responses/{built.id}/json").status_code == 200
    manager = signed_in(app, w.users["manager"])
    assert manager.get(f"/subject-responses/{built.id}/json").status_code == 403
    detail = page_text(manager.get(f"/subject-requests/{w.request.id}"))
    assert w.first.reference in detail and mace_case.reference not in detail


def test_a_perpetrator_named_as_the_subject_is_flagged_for_the_exemptions(app, subject_world):
    w = subject_world
    request = subjects.record_request(w.users["manager"], today(), Requester.SUBJECT, True, PERPETRATOR,
                                      dt.date(1985, 1, 2), None)
    db.session.commit()
    found = subjects.find_matches(w.users["manager"], request)
    assert {party.role for _, party in found} == {PartyRole.PERPETRATOR}
    page = page_text(signed_in(app, w.users["manager"]).get(f"/subject-requests/{request.id}/matches"))
    assert "Check exemptions" in page
    request = db.session.get(SubjectRequest, request.id)
    subjects.confirm_cases(w.users["manager"], request, [subjects.match_key(*found[0])], None)
    built = subjects.build_response(w.users["manager"], request)
    doc = json.loads(built.json_document)
    flat = json.dumps(doc, ensure_ascii=False)
    assert "Fakeabuser" in flat and "Testina" not in flat and "1 Pretend Road" not in flat
    assert Redaction.OTHER_PERSON.marker in flat


def test_the_log_is_paginated_and_each_handler_sees_only_their_requests(app, world):
    manager = world.users["manager"]
    for n in range(26):
        subjects.record_request(manager, today() - dt.timedelta(days=n), Requester.SUBJECT, True,
                                f"Testina Fakeperson{n}", DOB, None)
    other = UserFactory(agency=world.agencies.police)
    PanelRoleFactory(panel=another_panel(world, roles=()), user=other, role=Role.MANAGER)
    db.session.commit()
    client = signed_in(app, manager)
    first = client.get("/subject-requests/")
    assert "26 requests" in page_text(first) and soup(first).select("nav.govuk-pagination")
    assert len(soup(first).select("tbody tr")) == 25
    assert len(soup(client.get("/subject-requests/?page=2")).select("tbody tr")) == 1
    assert "No subject access requests" in page_text(signed_in(app, other).get("/subject-requests/"))


# --- the request page: nothing typed is lost (issue 12) -------------------------------------

STATUS_REASON = "Invented: waiting for the police's disclosure"
EXTEND_REASON = "Invented: complex, five cases across two panels"


def typed_on_request_page(page, **parts):
    """What a user has on the request page: its tokens and versions as served, and the parts typed."""
    hidden = {i["name"]: i["value"] for i in soup(page).find_all("input", attrs={"type": "hidden", "value": True})}
    return {**hidden, **parts}


def test_the_request_page_is_one_form_whose_buttons_post_it_all(app, subject_world):
    w = subject_world
    confirm_all(w.users["manager"], w.request)
    page = signed_in(app, w.users["manager"]).get(f"/subject-requests/{w.request.id}")
    forms = [f for f in soup(page).find_all("form", method="post") if not f["action"].endswith("/sign-out")]
    assert len(forms) == 1 and forms[0]["action"].endswith(f"/subject-requests/{w.request.id}/status")
    buttons = {b.get_text(strip=True): b.get("formaction") for b in forms[0].find_all("button")}
    assert buttons == {"Record": None, "Extend": f"/subject-requests/{w.request.id}/extend",
                       "Build the response": f"/subject-requests/{w.request.id}/responses"}
    # "Record" is the first button, the one Enter presses: never the build of a response.
    assert forms[0].find("button").get_text(strip=True) == "Record"


def test_a_refused_status_keeps_the_extension_typed_and_a_refused_extension_the_status(app, subject_world):
    w = subject_world
    client = signed_in(app, w.users["manager"])
    url = f"/subject-requests/{w.request.id}"
    page = client.get(url)
    refused = client.post(f"{url}/status", data=typed_on_request_page(
        page, **{"status-status": RequestStatus.REFUSED, "status-reason": "", "extend-months": "1",
                 "extend-reason": EXTEND_REASON}))
    assert refused.status_code == 200
    assert "Give the reason for refusing the request" in page_text(refused)
    assert soup(refused).find(id="status-reason-error"), "the error is on the reason box"
    assert textarea_value(refused, "extend-reason").strip() == EXTEND_REASON
    assert is_checked(refused, "extend-months", "1") and is_checked(refused, "status-status", RequestStatus.REFUSED)
    assert not audit_events("subjects.request_extended", w.request.id)

    unchosen = client.post(f"{url}/extend", data=typed_on_request_page(
        page, **{"status-status": RequestStatus.IN_PROGRESS, "status-reason": STATUS_REASON, "extend-months": "",
                 "extend-reason": EXTEND_REASON}))
    assert unchosen.status_code == 200
    assert "Choose how many months to extend by" in page_text(unchosen)
    assert textarea_value(unchosen, "status-reason").strip() == STATUS_REASON
    assert textarea_value(unchosen, "extend-reason").strip() == EXTEND_REASON
    assert is_checked(unchosen, "status-status", RequestStatus.IN_PROGRESS)
    assert not audit_events("subjects.request_status", w.request.id)


def test_a_step_taken_keeps_what_the_other_part_holds_and_it_can_be_sent_next(app, subject_world):
    w = subject_world
    client = signed_in(app, w.users["manager"])
    url = f"/subject-requests/{w.request.id}"
    recorded = client.post(f"{url}/status", data=typed_on_request_page(
        client.get(url), **{"status-status": RequestStatus.IN_PROGRESS, "status-reason": STATUS_REASON,
                            "extend-months": "1", "extend-reason": EXTEND_REASON}))
    assert recorded.status_code == 200 and "Status recorded." in page_text(recorded)
    assert textarea_value(recorded, "extend-reason").strip() == EXTEND_REASON and is_checked(recorded, "extend-months", "1")
    assert textarea_value(recorded, "status-reason").strip() == "", "the status part is done, ready for the next"
    request = db.session.get(SubjectRequest, w.request.id)
    assert request.status == RequestStatus.IN_PROGRESS and request.status_reason == STATUS_REASON
    # The extension kept is sent from the page as it came back (its version the current one).
    assert version_in(recorded, "extend-version") == str(request.version)
    extended = client.post(f"{url}/extend", data=typed_on_request_page(
        recorded, **{"extend-months": "1", "extend-reason": EXTEND_REASON}))
    assert extended.status_code == 302, "nothing else typed: back to the request"
    db.session.expire_all()
    assert db.session.get(SubjectRequest, w.request.id).extension_reason == EXTEND_REASON
    assert [e.detail["months"] for e in audit_events("subjects.request_extended", w.request.id)] == [1]


def test_building_the_response_keeps_the_status_typed(app, subject_world):
    w = subject_world
    client = signed_in(app, w.users["manager"])
    url = f"/subject-requests/{w.request.id}"
    typed = {"status-status": RequestStatus.FULFILLED, "status-reason": STATUS_REASON}
    # No cases confirmed yet: the build is refused in a banner, the status typed still there.
    refused = client.post(f"{url}/responses", data=typed_on_request_page(client.get(url), **typed))
    assert refused.status_code == 200
    assert "Confirm which cases are the subject's before building the response" in page_text(refused)
    assert textarea_value(refused, "status-reason").strip() == STATUS_REASON
    assert is_checked(refused, "status-status", RequestStatus.FULFILLED)

    confirm_all(w.users["manager"], db.session.get(SubjectRequest, w.request.id))
    built = client.post(f"{url}/responses", data=typed_on_request_page(client.get(url), **typed))
    assert built.status_code == 200 and "The response is being built" in page_text(built)
    assert textarea_value(built, "status-reason").strip() == STATUS_REASON
    assert db.session.execute(select(SubjectResponse)).scalars().one().status == ResponseStatus.DONE
    # The status kept is recorded next: the response it needs is now built.
    fulfilled = client.post(f"{url}/status", data=typed_on_request_page(built, **typed))
    assert fulfilled.status_code == 302
    db.session.expire_all()
    assert db.session.get(SubjectRequest, w.request.id).status == RequestStatus.FULFILLED
