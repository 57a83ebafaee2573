"""Referrals and cases end to end: referring, screening, search, validation, drafts, repeats,
need-to-know, the audit trail and sharing log, optimistic locking, MACE and ASB, encryption at rest."""
import datetime as dt
import html
import json
import re
import uuid
from urllib.parse import urlsplit

import pytest
from sqlalchemy import inspect, select, text

from marac.agencies.models import AgencyKind
from marac.cases.models import (Case, CaseChange, CaseParty, CaseStatus, ChangeAction, Criterion, PartyRole, RiskLevel,
                                ScreeningDecision)
from marac.cases.questions import DASH_QUESTIONS, ExploitationType, MaceScore
from marac.panels.models import PanelKind, Role
from marac.people.models import Gender, LocationKind, YesNoUnknown
from marac.sharing.models import DEFAULT_RULES, Category
from marac.core import timeutil
from marac.core.blind_index import blind_index
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.people.models import Location, Person, PersonName
from marac.sharing.models import SharingRecord
from tests.factories import AgencyFactory, PanelMemberFactory, PanelRoleFactory, UserFactory
from tests.helpers import (another_panel, audit_events, fresh, input_value, is_checked, links, page_of, page_text,
                           post_form, row_count, row_with, signed_in, soup, summary_value, textarea_value, version_in)
from tests.referrals import asb_form, date_parts, mace_form, marac_form

DOB = dt.date(1990, 4, 1)


# --- helpers ---------------------------------------------------------------------------------

def today():
    return timeutil.today()  # as tests/referrals.py dates a referral made now


def refer(client, panel, data):
    return post_form(client, f"/panels/{panel.id}/referrals/new", data)


def case_of(response):
    """The case a referral or edit redirected to."""
    assert response.status_code == 302, page_of(response)[:3000]
    match = re.fullmatch(r"/cases/([0-9a-f-]{36})", urlsplit(response.headers["Location"]).path)
    assert match, response.headers["Location"]
    return fresh(Case, uuid.UUID(match.group(1)))


def screen(client, case, decision=ScreeningDecision.ACCEPT, reason="", **extra):
    current = fresh(Case, case.id)
    return post_form(client, f"/cases/{case.id}/screen",
                     {"decision": decision, "reason": reason, "version": current.version, **extra})


def accepted(client, case, **extra):
    response = screen(client, case, **extra)
    assert response.status_code == 302, page_of(response)[:3000]
    case = fresh(Case, case.id)
    assert case.status == CaseStatus.ACCEPTED
    return case


def search(client, panel, **fields):
    data = {"reference": "", "name": "", "postcode": "", **date_parts("date_of_birth", None)}
    data.update(fields)
    return post_form(client, f"/panels/{panel.id}/cases/search", data, token_from=f"/panels/{panel.id}/cases")


def found(response, case):
    """Whether the page links to the case."""
    return f"/cases/{case.id}" in links(response)


def representative_of(panel, kind):
    """A new member agency of this kind on the panel, and a representative of it."""
    agency = AgencyFactory(kind=kind)
    PanelMemberFactory(panel=panel, agency=agency)
    user = UserFactory(agency=agency)
    PanelRoleFactory(panel=panel, user=user, role=Role.REPRESENTATIVE)
    return user


@pytest.fixture
def rep(app, world):
    return signed_in(app, world.users["representative"])


@pytest.fixture
def manager(app, world):
    return signed_in(app, world.users["manager"])


@pytest.fixture
def submitted(rep, world):
    """A MARAC referral of Testina Fakeperson, made by the IDVA representative."""
    return case_of(refer(rep, world.panel, marac_form()))


# --- 1. the referral flow ----------------------------------------------------------------------

def test_refer_screen_in_list_and_search(app, world, rep, manager):
    panel = world.panel
    response = refer(rep, panel, marac_form(aliases="Tina Fakename; T. Pretendperson"))
    case = case_of(response)
    assert re.fullmatch(rf"MARAC-{utcnow().year}-\d{{4}}", case.reference)
    shown = page_of(rep.get(response.headers["Location"]))
    assert "Awaiting screening" in shown and case.reference in shown
    assert f"Referral {case.reference} sent to the {panel.name} panel manager for screening." in shown
    assert case.status == CaseStatus.SUBMITTED and case.referred_on == today() and case.risk_score == 15

    # The manager sees it awaiting screening and accepts it.
    assert "Screen this referral" in page_of(manager.get(f"/cases/{case.id}"))
    assert "Screen " + case.reference in page_of(manager.get(f"/cases/{case.id}/screen"))
    response = screen(manager, case)
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == f"/cases/{case.id}"
    shown = page_of(manager.get(f"/cases/{case.id}"))
    assert "Accepted" in shown and "Awaiting screening" not in shown
    case = fresh(Case, case.id)
    assert case.status == CaseStatus.ACCEPTED and case.screened_by_id == world.users["manager"].id
    listing = page_of(manager.get(f"/panels/{panel.id}/cases"))
    assert f'href="/cases/{case.id}"' in listing and case.reference in listing and "Testina Fakeperson" in listing

    # Search: by name and date of birth, postcode (any format), reference (any case), an alias.
    by_name = search(manager, panel, name="Testina Fakeperson", **date_parts("date_of_birth", DOB))
    assert by_name.status_code == 200 and found(by_name, case) and "1 result" in page_of(by_name)
    assert found(search(manager, panel, postcode="zz11zz"), case)
    assert found(search(manager, panel, postcode="ZZ1 1ZZ"), case)
    assert found(search(manager, panel, reference=case.reference.lower()), case)
    assert found(search(manager, panel, reference=f"  {case.reference}  "), case)
    assert found(search(manager, panel, name="Tina Fakename", **date_parts("date_of_birth", DOB)), case)
    assert found(search(manager, panel, name="t. pretendperson", **date_parts("date_of_birth", DOB)), case)
    # The representative of a member agency finds it too.
    assert found(search(rep, panel, name="Testina Fakeperson", **date_parts("date_of_birth", DOB)), case)

    wrong_dob = search(manager, panel, name="Testina Fakeperson", **date_parts("date_of_birth", dt.date(1990, 4, 2)))
    assert wrong_dob.status_code == 200 and not found(wrong_dob, case)
    assert "0 results" in page_of(wrong_dob) and "No case matches" in page_of(wrong_dob)
    assert not found(search(manager, panel, name="Testina Fakeperson"), case)  # a name alone is not enough
    assert "needs both the full name and the date of birth" in page_of(
        search(manager, panel, name="Testina Fakeperson"))
    assert not found(search(manager, panel, postcode="ZZ9 9ZZ"), case)
    assert not found(search(manager, panel, name="Testina", **date_parts("date_of_birth", DOB)), case)


@pytest.mark.parametrize("reference", ["\x00", "MARAC-2026-0001\x00", "MARAC 2026 0001", "<b>MARAC</b>", "  "])
def test_search_refuses_what_cannot_be_a_reference(world, manager, reference):
    response = search(manager, world.panel, reference=reference)
    assert response.status_code == 200
    page = page_of(response)
    if reference.strip():
        assert "Enter a case reference like MARAC-2026-0042" in page
    else:
        assert "Enter a case reference, a name with date of birth, or a postcode" in page
    assert not audit_events("case.searched")


def test_referrer_sees_success_and_mine_lists_the_referral(world, rep, submitted):
    mine = page_of(rep.get("/referrals/mine"))
    assert submitted.reference in mine and f'href="/cases/{submitted.id}"' in mine and "Awaiting screening" in mine


def test_repeated_submission_gets_the_next_reference(world, rep):
    first = case_of(refer(rep, world.panel, marac_form()))
    second = case_of(refer(rep, world.panel, marac_form(first="Secunda")))
    n1, n2 = int(first.reference[-4:]), int(second.reference[-4:])
    assert n2 == n1 + 1


# --- 2. validation -----------------------------------------------------------------------------

FUTURE = timeutil.today() + dt.timedelta(days=40)

VALIDATION = {
    "future date of birth": (
        {**date_parts("victim-date_of_birth", FUTURE)}, "Date of birth must be today or in the past",
        lambda p: input_value(p, "victim-date_of_birth-year") == str(FUTURE.year)
        and input_value(p, "victim-date_of_birth-day") == str(FUTURE.day)),
    "31 February": (
        {"victim-date_of_birth-day": "31", "victim-date_of_birth-month": "2", "victim-date_of_birth-year": "1990"},
        "Date of birth must be a real date",
        lambda p: (input_value(p, "victim-date_of_birth-day"), input_value(p, "victim-date_of_birth-month"))
        == ("31", "2")),
    "date of birth without a year": (
        {"victim-date_of_birth-year": ""}, "Date of birth must include a year",
        lambda p: input_value(p, "victim-date_of_birth-day") == "1"
        and input_value(p, "victim-date_of_birth-month") == "4"),
    "malformed postcode": (
        {"victim-postcode": "ZZ1 1Z"}, "Enter a real postcode, like SW1A 1AA",
        lambda p: input_value(p, "victim-postcode") == "ZZ1 1Z"),
    "overlong narrative": (
        {"recent_incident": "x" * 5001}, "The most recent incident must be 5000 characters or fewer",
        lambda p: textarea_value(p, "recent_incident") == "x" * 5001),
    "unanswered checklist question": (
        {"dash-weapons": None}, "Answer question 13 of the risk checklist",
        lambda p: input_value(p, "victim-first_names") == "Testina" and is_checked(p, "dash-injury", YesNoUnknown.YES)
        and not any(is_checked(p, "dash-weapons", v) for v in YesNoUnknown)),
    "criterion contradicts the score": (
        {f"dash-{key}": YesNoUnknown.NO for key, _ in DASH_QUESTIONS[10:15]},
        "Visible high risk needs 14 or more 'yes' answers; the checklist has 10",
        lambda p: is_checked(p, "criterion", Criterion.VISIBLE_HIGH_RISK)
        and is_checked(p, "dash-escalation", YesNoUnknown.NO) and is_checked(p, "dash-separation", YesNoUnknown.YES)),
    "professional judgement without reasons": (
        {"criterion": Criterion.PROFESSIONAL_JUDGEMENT, "judgement_reasons": "   "},
        "Give the reasons for your professional judgement",
        lambda p: is_checked(p, "criterion", Criterion.PROFESSIONAL_JUDGEMENT)),
    "potential escalation with 2 incidents": (
        {"criterion": Criterion.POTENTIAL_ESCALATION, "police_incidents": "2"},
        "Potential escalation needs 3 or more police-reported incidents in the last 12 months",
        lambda p: is_checked(p, "criterion", Criterion.POTENTIAL_ESCALATION)
        and input_value(p, "police_incidents") == "2"),
    "no consent and no reason": (
        {"victim_consents": YesNoUnknown.NO, "consent_reason": ""},
        "Explain why you are referring without the victim's knowledge or consent",
        lambda p: is_checked(p, "victim_consents", YesNoUnknown.NO)
        and input_value(p, "victim-last_name") == "Fakeperson"),
}


@pytest.mark.parametrize("name", list(VALIDATION))
def test_validation_keeps_what_was_typed_and_stores_nothing(world, rep, name):
    changes, message, kept = VALIDATION[name]
    data = marac_form()
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value

    def stored():
        return row_count(Case), row_count(Person), row_count(CaseChange), len(audit_events("referral.submitted"))

    before = stored()
    response = refer(rep, world.panel, data)
    page = page_of(response)
    assert response.status_code == 200
    assert 'class="govuk-error-summary"' in page and "There is a problem" in page
    summary = soup(response).select_one(".govuk-error-summary__list").get_text()
    assert message in summary
    assert kept(response), f"the form lost what was typed ({name})"
    # Everything else typed is still there too.
    assert input_value(response, "referrer_name") == "Rita Referrer-Test"
    assert textarea_value(response, "history") == "Invented history."
    assert stored() == before


def test_optional_questions_can_be_left_unanswered(world, rep):
    data = marac_form()
    for key in ("victim-safe_to_call", "victim-gender", "victim-sexuality", "victim-gp", "history",
                "children-0-first_names", "children-0-last_name", "children-0-date_of_birth-day",
                "children-0-date_of_birth-month", "children-0-date_of_birth-year", "children-0-lives_with"):
        data.pop(key)
    case = case_of(refer(rep, world.panel, data))
    assert case.status == CaseStatus.SUBMITTED and case.referral["victim"]["safe_to_call"] is None
    assert [p.role for p in case.parties] == [PartyRole.VICTIM, PartyRole.PERPETRATOR]


def test_several_errors_are_all_listed(world, rep):
    data = marac_form(criterion="", recent_incident="", **{"victim-first_names": ""})
    page = page_of(refer(rep, world.panel, data))
    for message in ("Enter the victim's first names", "Choose the criterion the case meets",
                    "Describe the most recent incident"):
        assert message in page
    assert 'href="#victim-first_names"' in page and 'href="#criterion-0"' in page


# --- 3. drafts ---------------------------------------------------------------------------------

def test_draft_is_private_until_finished(app, world, rep, manager):
    panel = world.panel
    response = post_form(rep, f"/panels/{panel.id}/referrals/new",
                         {"victim-first_names": "Draftina", "recent_incident": "Half-written draft note.",
                          "action": CaseStatus.DRAFT})
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/referrals/mine"
    [draft] = db.session.execute(select(Case).where(Case.status == CaseStatus.DRAFT)).scalars().all()
    assert draft.reference is None and draft.referrer_user_id == world.users["representative"].id
    assert draft.referral["victim"]["first_names"] == "Draftina"
    assert row_count(CaseParty, CaseParty.case_id == draft.id) == 0  # nobody is findable from a draft

    mine = page_of(rep.get("/referrals/mine"))
    assert "Draft, not sent yet" in mine and f'href="/cases/{draft.id}/edit"' in mine

    # Nobody else sees it: not the manager's list, not the chair or manager on its page.
    chair = signed_in(app, world.users["chair"])
    assert chair.get(f"/cases/{draft.id}").status_code == 403
    assert chair.get(f"/cases/{draft.id}/edit").status_code == 403
    assert manager.get(f"/cases/{draft.id}").status_code == 403
    assert manager.get(f"/cases/{draft.id}/edit").status_code == 403
    assert manager.get(f"/cases/{draft.id}/screen").status_code == 403
    assert str(draft.id) not in manager.get(f"/panels/{panel.id}/cases").get_data(as_text=True)
    assert str(draft.id) not in chair.get(f"/panels/{panel.id}/cases").get_data(as_text=True)

    # The referrer finishes it later.
    form_page = rep.get(f"/cases/{draft.id}/edit")
    assert input_value(form_page, "victim-first_names") == "Draftina"
    assert textarea_value(form_page, "recent_incident") == "Half-written draft note."
    assert "Send referral" in page_of(form_page) and "Save as draft" in page_of(form_page)
    done = post_form(rep, f"/cases/{draft.id}/edit", marac_form(version=version_in(form_page)))
    case = case_of(done)
    assert case.id == draft.id and case.status == CaseStatus.SUBMITTED
    assert re.fullmatch(rf"MARAC-{utcnow().year}-\d{{4}}", case.reference)
    assert case.referral["victim"]["first_names"] == "Testina"
    assert f'href="/cases/{case.id}"' in manager.get(f"/panels/{panel.id}/cases").get_data(as_text=True)
    assert chair.get(f"/cases/{case.id}").status_code == 200
    actions = [c.action for c in db.session.execute(
        select(CaseChange).where(CaseChange.case_id == case.id).order_by(CaseChange.at)).scalars()]
    assert actions == [ChangeAction.DRAFT_SAVED, ChangeAction.SUBMITTED]


def test_draft_can_be_saved_again_and_still_validated_on_submit(world, rep):
    response = post_form(rep, f"/panels/{world.panel.id}/referrals/new",
                         {"victim-first_names": "Draftina", "action": CaseStatus.DRAFT})
    draft = db.session.execute(select(Case).where(Case.status == CaseStatus.DRAFT)).scalar_one()
    assert response.status_code == 302
    # Submitting the unfinished draft shows what is missing and keeps it a draft.
    response = post_form(rep, f"/cases/{draft.id}/edit", {"victim-first_names": "Draftina", "action": "submit"})
    assert response.status_code == 200 and "Enter the victim's last name" in page_of(response)
    assert fresh(Case, draft.id).status == CaseStatus.DRAFT and fresh(Case, draft.id).reference is None


# --- 4. repeat detection -----------------------------------------------------------------------

def test_repeat_within_12_months_links_the_earlier_case(world, rep, manager):
    panel = world.panel
    first = case_of(refer(rep, panel, marac_form(referred_on=today() - dt.timedelta(days=190))))
    accepted(manager, first)
    second = case_of(refer(rep, panel, marac_form(referred_on=today() - dt.timedelta(days=7))))
    assert second.is_repeat and second.repeat_of_id == first.id
    shown = manager.get(f"/cases/{second.id}")
    assert first.reference in summary_value(shown, "Repeat of")
    assert 'govuk-tag--orange">Repeat<' in page_of(shown)
    screening = page_of(manager.get(f"/cases/{second.id}/screen"))
    assert "This is a repeat" in screening and first.reference in screening
    # The manager confirms it when accepting; the case stays a repeat.
    second = accepted(manager, second, confirm_repeat="y")
    assert second.is_repeat and second.repeat_of_id == first.id
    listing = manager.get(f"/panels/{panel.id}/cases?repeat=yes").get_data(as_text=True)
    assert f'href="/cases/{second.id}"' in listing and f'href="/cases/{first.id}"' not in listing


def test_manager_can_reject_the_repeat_link(world, rep, manager):
    first = case_of(refer(rep, world.panel, marac_form(referred_on=today() - dt.timedelta(days=30))))
    second = case_of(refer(rep, world.panel, marac_form()))
    assert second.repeat_of_id == first.id
    second = accepted(manager, second)  # confirm_repeat not ticked
    assert not second.is_repeat and second.repeat_of_id is None


def test_more_than_12_months_later_is_not_a_repeat(world, rep, manager):
    first = case_of(refer(rep, world.panel, marac_form(referred_on=today() - dt.timedelta(days=400))))
    accepted(manager, first)
    second = case_of(refer(rep, world.panel, marac_form()))
    assert not second.is_repeat and second.repeat_of_id is None
    screening = page_of(manager.get(f"/cases/{second.id}/screen"))
    assert "Not a repeat: the same person was referred before, but more than 12 months earlier." in screening
    assert first.reference in screening


def test_alias_and_date_of_birth_match_the_earlier_name(world, rep, manager):
    first = case_of(refer(rep, world.panel, marac_form(referred_on=today() - dt.timedelta(days=60))))
    accepted(manager, first)
    second = case_of(refer(rep, world.panel, marac_form(first="Tina", last="Newsurname",
                                                        aliases="Ann Other; Testina Fakeperson")))
    assert second.is_repeat and second.repeat_of_id == first.id
    # The same alias with another date of birth is someone else.
    third = case_of(refer(rep, world.panel, marac_form(first="Tina", last="Newsurname", dob=dt.date(1991, 4, 1),
                                                       aliases="Testina Fakeperson")))
    assert not third.is_repeat


def test_earlier_alias_matches_a_later_name(world, rep, manager):
    first = case_of(refer(rep, world.panel, marac_form(first="Tina", last="Maiden", aliases="Testina Fakeperson",
                                                       referred_on=today() - dt.timedelta(days=60))))
    accepted(manager, first)
    second = case_of(refer(rep, world.panel, marac_form()))
    assert second.is_repeat and second.repeat_of_id == first.id


@pytest.mark.parametrize("first,last", [("TESTINA ", " fake-person"), ("Téstina", "Fakeperson"),
                                        ("testina", "FAKE PERSON"), ("Testina", "Fake'person")])
def test_spellings_that_normalise_the_same_match(world, rep, manager, first, last):
    earlier = case_of(refer(rep, world.panel, marac_form(referred_on=today() - dt.timedelta(days=20))))
    accepted(manager, earlier)
    later = case_of(refer(rep, world.panel, marac_form(first=first, last=last)))
    assert later.is_repeat and later.repeat_of_id == earlier.id
    assert found(search(manager, world.panel, name=f"{first} {last}", **date_parts("date_of_birth", DOB)), earlier)


def test_another_panel_is_not_a_repeat(app, world, rep, manager):
    first = case_of(refer(rep, world.panel, marac_form(referred_on=today() - dt.timedelta(days=30))))
    accepted(manager, first)
    other = another_panel(world, PanelKind.MARAC,
                          roles=(Role.MANAGER, Role.CHAIR, Role.REPRESENTATIVE, Role.STEERING))
    there = case_of(refer(rep, other, marac_form()))
    assert there.panel_id == other.id
    assert not there.is_repeat and there.repeat_of_id is None
    assert "No earlier case of this panel has the same person" in page_of(manager.get(f"/cases/{there.id}/screen"))
    # Nor does one panel's search find the other's cases.
    assert not found(search(manager, other, name="Testina Fakeperson", **date_parts("date_of_birth", DOB)), first)
    assert found(search(manager, other, name="Testina Fakeperson", **date_parts("date_of_birth", DOB)), there)


def test_screening_out_records_the_reason(world, rep, manager, submitted):
    missing = screen(manager, submitted, decision=ScreeningDecision.SCREEN_OUT, reason="  ")
    assert missing.status_code == 200
    assert "Give the reason for screening the referral out" in page_of(missing)
    assert fresh(Case, submitted.id).status == CaseStatus.SUBMITTED

    response = screen(manager, submitted, decision=ScreeningDecision.SCREEN_OUT,
                      reason="Lives outside the area (test).")
    assert response.status_code == 302
    case = fresh(Case, submitted.id)
    assert case.status == CaseStatus.SCREENED_OUT and case.screening_reason == "Lives outside the area (test)."
    shown = manager.get(f"/cases/{case.id}")
    assert "Screened out" in page_of(shown)
    assert summary_value(shown, "Screening note") == "Lives outside the area (test)."
    assert [c.action for c in db.session.execute(select(CaseChange).where(
        CaseChange.case_id == case.id, CaseChange.action == ChangeAction.SCREENED_OUT)).scalars()] == [
            ChangeAction.SCREENED_OUT]
    [event] = audit_events("case.screened_out", case.id)
    assert "outside" not in json.dumps(event.detail)
    # The reason is not shown to other agencies, and a screened-out referral is not screened twice.
    chair = signed_in(manager.application, world.users["chair"])
    assert "Lives outside the area" not in page_of(chair.get(f"/cases/{case.id}"))
    assert manager.get(f"/cases/{case.id}/screen").status_code == 403
    # A screened-out referral does not make the next one a repeat.
    again = case_of(refer(rep, world.panel, marac_form()))
    assert not again.is_repeat


def test_stale_screening_is_refused(world, rep, manager, submitted):
    version = fresh(Case, submitted.id).version
    edit_page = rep.get(f"/cases/{submitted.id}/edit")
    assert post_form(rep, f"/cases/{submitted.id}/edit",
                     marac_form(history="Updated by the referrer.", version=version_in(edit_page))).status_code == 302
    response = post_form(manager, f"/cases/{submitted.id}/screen",
                         {"decision": ScreeningDecision.ACCEPT, "version": version})
    assert response.status_code == 200 and "The referral changed while you were screening it" in page_of(response)
    assert fresh(Case, submitted.id).status == CaseStatus.SUBMITTED


# --- 5. need-to-know ---------------------------------------------------------------------------

def test_outsiders_are_refused_everywhere(app, world, submitted):
    panel = world.panel
    outsider = signed_in(app, world.users["nonmember"])
    version = submitted.version
    cases_before = row_count(Case, Case.panel_id == panel.id)
    for url in (f"/cases/{submitted.id}", f"/cases/{submitted.id}/edit", f"/cases/{submitted.id}/screen",
                f"/cases/{submitted.id}/sharing", f"/panels/{panel.id}/cases", f"/panels/{panel.id}/sharing-rules"):
        assert outsider.get(url).status_code == 403, url
    posts = {
        f"/cases/{submitted.id}/edit": marac_form(first="Hijacked", version=version),
        f"/cases/{submitted.id}/screen": {"decision": ScreeningDecision.ACCEPT, "reason": "", "version": version},
        f"/panels/{panel.id}/cases/search": {"name": "Testina Fakeperson", **date_parts("date_of_birth", DOB)},
    }  # referring is open to every practitioner of the area (tests/test_cycle.py): it shows nothing of the panel
    for url, data in posts.items():
        response = post_form(outsider, url, data, token_from="/")
        assert response.status_code == 403, url
        assert "Testina" not in response.get_data(as_text=True)
    case = fresh(Case, submitted.id)
    assert case.status == CaseStatus.SUBMITTED and case.referral["victim"]["first_names"] == "Testina"
    assert not audit_events("case.searched")
    assert row_count(Case, Case.panel_id == panel.id) == cases_before


def test_steering_group_and_admin_see_no_cases(app, world, submitted):
    for name in ("steering", "admin"):
        client = signed_in(app, world.users[name])
        for url in (f"/cases/{submitted.id}", f"/cases/{submitted.id}/edit", f"/panels/{world.panel.id}/cases",
                    f"/cases/{world.case.id}"):
            assert client.get(url).status_code == 403, (name, url)
        response = post_form(client, f"/panels/{world.panel.id}/cases/search", {"reference": submitted.reference},
                             token_from="/")
        assert response.status_code == 403


def test_police_do_not_see_health_details(app, world, submitted):
    chair = signed_in(app, world.users["chair"])
    response = chair.get(f"/cases/{submitted.id}")
    shown = page_of(response)
    assert "Fakeside Surgery" not in shown
    assert "Withheld" in summary_value(response, "GP") and "Withheld" in summary_value(response, "Disability")
    assert "Some information is withheld from your agency" in shown
    # What the police may see is shown.
    assert "Testina Fakeperson" in shown and "1 Pretend Road" in shown and "CRIS-TEST-0001" in shown


def test_housing_sees_the_address_but_not_health(app, world):
    rep = signed_in(app, world.users["representative"])
    case = case_of(refer(rep, world.panel, marac_form(**{"victim-disability": YesNoUnknown.YES})))
    housing = signed_in(app, representative_of(world.panel, AgencyKind.HOUSING))
    response = housing.get(f"/cases/{case.id}")
    shown = page_of(response)
    assert "Fakeside Surgery" not in shown and "Withheld" in summary_value(response, "Disability")
    assert "1 Pretend Road, Testtown" in shown and "ZZ1 1ZZ" in shown and "07700 900123" in shown
    assert "CRIS-TEST-0001" not in shown and "Withheld" in summary_value(response, "Crime reference")


def test_education_does_not_see_contact_details(app, world, submitted):
    education = signed_in(app, representative_of(world.panel, AgencyKind.EDUCATION))
    response = education.get(f"/cases/{submitted.id}")
    shown = page_of(response)
    for secret in ("1 Pretend Road", "ZZ1 1ZZ", "07700 900123", "Fakeside Surgery", "CRIS-TEST-0001"):
        assert secret not in shown, secret
    assert "Withheld" in summary_value(response, "Address") and "Withheld" in summary_value(response, "Postcode")
    assert "Testina Fakeperson" in shown  # identity is shared with education
    assert "Kiddo Fakeperson" in shown  # and the children


def test_education_cannot_confirm_a_postcode_by_searching(app, world, submitted):
    """Searching by postcode would tell education the victim's postcode, which they may not see."""
    education = signed_in(app, representative_of(world.panel, AgencyKind.EDUCATION))
    assert not found(search(education, world.panel, postcode="ZZ1 1ZZ"), submitted)
    assert found(search(education, world.panel, reference=submitted.reference), submitted)


def test_manager_sees_everything(world, manager, submitted):
    shown = page_of(manager.get(f"/cases/{submitted.id}"))
    for value in ("Testina Fakeperson", "Fakeside Surgery", "1 Pretend Road", "ZZ1 1ZZ", "07700 900123",
                  "Sentinel-narrative", "CRIS-TEST-0001", "Kiddo Fakeperson", "Perry Fakeabuser"):
        assert value in shown, value
    assert "Withheld" not in shown and "Some information is withheld" not in shown


def test_changing_the_sharing_rules_changes_what_a_representative_sees(app, world, manager, submitted):
    panel = world.panel
    education = signed_in(app, representative_of(panel, AgencyKind.EDUCATION))
    assert "1 Pretend Road" not in page_of(education.get(f"/cases/{submitted.id}"))
    chair = signed_in(app, world.users["chair"])
    assert chair.get(f"/panels/{panel.id}/sharing-rules").status_code == 403
    assert post_form(chair, f"/panels/{panel.id}/sharing-rules", {}, token_from="/").status_code == 403

    rules = {f"rule-{kind}-{category}": "y" for kind, categories in DEFAULT_RULES.items() for category in categories}
    rules["rule-education-contact"] = "y"
    del rules["rule-police-narrative"]
    response = post_form(manager, f"/panels/{panel.id}/sharing-rules", rules)
    assert response.status_code == 302
    assert "Sharing rules saved (2 changes)" in page_of(manager.get(response.headers["Location"]))
    [event] = audit_events("sharing.rules_changed")
    assert sorted(event.detail["changes"]) == ["education:contact:on", "police:narrative:off"]
    assert event.actor_user_id == world.users["manager"].id and event.object_id == str(panel.id)

    shown = page_of(education.get(f"/cases/{submitted.id}"))
    assert "1 Pretend Road" in shown and "ZZ1 1ZZ" in shown
    police = chair.get(f"/cases/{submitted.id}")
    assert "Sentinel-narrative" not in page_of(police) and "Withheld" in summary_value(police, "Most recent incident")
    rules_page = page_of(manager.get(f"/panels/{panel.id}/sharing-rules"))
    assert 'id="rule-education-contact" name="rule-education-contact" type="checkbox" value="y" checked' in rules_page


# --- 6. audit trail and sharing log ------------------------------------------------------------

def test_every_view_is_audited_and_logged(app, world, manager, submitted):
    chair_user = world.users["chair"]
    chair = signed_in(app, chair_user)
    for _ in range(2):
        assert chair.get(f"/cases/{submitted.id}").status_code == 200
    views = [e for e in audit_events("case.viewed", submitted.id) if e.actor_user_id == chair_user.id]
    assert len(views) == 2
    police_categories = sorted(DEFAULT_RULES[AgencyKind.POLICE])
    for event in views:
        assert event.recipient_agency_id == world.agencies.police.id
        assert event.actor_agency_id == world.agencies.police.id
        assert event.detail["categories"] == police_categories
        assert event.detail["cases"] == [str(submitted.id)]
        assert event.purpose == world.panel.lawful_basis[:200]
    records = db.session.execute(select(SharingRecord).where(
        SharingRecord.case_id == submitted.id, SharingRecord.user_id == chair_user.id)).scalars().all()
    assert len(records) == 2 * len(police_categories)
    assert (sorted({r.category for r in records}) == police_categories
            and Category.HEALTH not in {r.category for r in records})
    assert {r.lawful_basis for r in records} == {world.panel.lawful_basis}
    assert {r.agency_id for r in records} == {world.agencies.police.id}

    log = page_of(manager.get(f"/cases/{submitted.id}/sharing"))
    assert chair_user.full_name in log and world.agencies.police.name in log
    assert "Risk checklist" in log and world.panel.lawful_basis in log
    assert chair.get(f"/cases/{submitted.id}/sharing").status_code == 403
    rep = signed_in(app, world.users["representative"])
    assert rep.get(f"/cases/{submitted.id}/sharing").status_code == 403


def test_searches_are_audited_without_personal_data(world, manager, submitted):
    search(manager, world.panel, name="Testina Fakeperson", **date_parts("date_of_birth", DOB))
    search(manager, world.panel, postcode="ZZ1 1ZZ")
    search(manager, world.panel, reference=submitted.reference)
    search(manager, world.panel, name="Testina Fakeperson")  # invalid: not a search, not audited
    searched = audit_events("case.searched")
    assert [e.detail["by"] for e in searched] == ["name_dob", "postcode", "reference"]
    assert [e.detail["results"] for e in searched] == [1, 1, 1]
    for event in searched:
        assert event.object_id == str(world.panel.id) and event.actor_user_id == world.users["manager"].id
        stored = json.dumps([event.detail, event.object_id, event.purpose, event.object_type]).lower()
        for secret in ("testina", "fakeperson", "zz1", "1990", "1zz"):
            assert secret not in stored


# --- 7. optimistic locking and history ---------------------------------------------------------

def test_concurrent_edit_is_refused_and_keeps_the_typed_value(app, world, rep, manager, submitted):
    case = accepted(manager, submitted)
    second_manager_user = UserFactory(agency=world.agencies.council)
    PanelRoleFactory(panel=world.panel, user=second_manager_user, role=Role.MANAGER)
    other = signed_in(app, second_manager_user)

    first_form = manager.get(f"/cases/{case.id}/edit")
    second_form = other.get(f"/cases/{case.id}/edit")
    assert version_in(first_form) == version_in(second_form) == str(case.version)
    assert input_value(first_form, "victim-first_names") == "Testina"

    saved = post_form(manager, f"/cases/{case.id}/edit",
                      marac_form(history="Updated history from the first manager.",
                                 version=version_in(first_form)))
    assert saved.status_code == 302
    refused = post_form(other, f"/cases/{case.id}/edit",
                        marac_form(history="Stale edit of the second manager.", version=version_in(second_form),
                                   **{"victim-phone": "07700 900999"}))
    shown = page_of(refused)
    assert refused.status_code == 200
    assert "Someone else changed this case" in shown and "There is a problem" in shown
    assert textarea_value(refused, "history") == "Stale edit of the second manager."
    assert input_value(refused, "victim-phone") == "07700 900999"

    case = fresh(Case, case.id)
    assert case.referral["history"] == "Updated history from the first manager."
    assert case.subject.phone == "07700 900123"
    edits = db.session.execute(select(CaseChange).where(CaseChange.case_id == case.id,
                                                        CaseChange.action == ChangeAction.EDITED)).scalars().all()
    assert len(edits) == 1 and edits[0].user_id == world.users["manager"].id
    assert len(audit_events("case.edited", case.id)) == 1
    # Reloading gives the latest version, and saving from it works.
    fresh_form = other.get(f"/cases/{case.id}/edit")
    assert textarea_value(fresh_form, "history") == "Updated history from the first manager."
    retry = post_form(other, f"/cases/{case.id}/edit",
                      marac_form(history="Second manager, after reloading.", version=version_in(fresh_form)))
    assert retry.status_code == 302
    assert fresh(Case, case.id).referral["history"] == "Second manager, after reloading."


def test_referrer_and_manager_editing_at_once(world, rep, manager, submitted):
    rep_form = rep.get(f"/cases/{submitted.id}/edit")
    manager_form = manager.get(f"/cases/{submitted.id}/edit")
    saved = post_form(rep, f"/cases/{submitted.id}/edit",
                      marac_form(orders="Non-molestation order (test).", version=version_in(rep_form)))
    assert saved.status_code == 302
    refused = post_form(manager, f"/cases/{submitted.id}/edit",
                        marac_form(orders="Manager's stale text.", version=version_in(manager_form)))
    assert refused.status_code == 200 and "Someone else changed this case" in page_of(refused)
    assert textarea_value(refused, "orders") == "Manager's stale text."
    assert fresh(Case, submitted.id).referral["orders"] == "Non-molestation order (test)."


def test_edits_record_history_with_encrypted_old_values(world, rep, manager, submitted):
    form_page = manager.get(f"/cases/{submitted.id}/edit")
    response = post_form(manager, f"/cases/{submitted.id}/edit",
                         marac_form(history="A new history text.", **{"victim-address": "2 Other Road, Testtown"},
                                    version=version_in(form_page)))
    assert response.status_code == 302
    [change] = db.session.execute(select(CaseChange).where(CaseChange.case_id == submitted.id,
                                                           CaseChange.action == ChangeAction.EDITED)).scalars().all()
    assert sorted(change.fields) == ["history", "victim.address"]
    assert change.old_values == {"history": "Invented history.", "victim.address": "1 Pretend Road, Testtown"}
    assert change.user_id == world.users["manager"].id
    raw = [row for row in db.session.execute(text("SELECT action, old_values FROM case_changes")).all()
           if row[0] == ChangeAction.EDITED]
    assert len(raw) == 1
    blob = bytes(raw[0][1])
    assert b"Invented history" not in blob and b"Pretend Road" not in blob and b"history" not in blob
    shown = page_of(manager.get(f"/cases/{submitted.id}"))
    assert "Edited by" in shown and "(2 fields: history, victim.address)" in shown
    assert "2 Other Road, Testtown" in shown and "1 Pretend Road" not in shown
    # The case's people were rebuilt: search finds the new address, not a stale person.
    assert row_count(CaseParty, CaseParty.case_id == submitted.id, CaseParty.role == PartyRole.VICTIM) == 1
    [event] = audit_events("case.edited", submitted.id)
    assert event.detail == {"status": CaseStatus.SUBMITTED, "fields_changed": 2}


# --- 8. MACE and ASB -----------------------------------------------------------------------------

def test_each_mace_case_has_its_own_person_of_concern_and_location(app, world, rep):
    """Two cases naming the same adult and hotspot: each has its own rows (what its referrer typed),
    linked by blind index; the manager sees the link, and a postcode search finds both."""
    panel = another_panel(world, PanelKind.MACE)
    first = case_of(refer(rep, panel, mace_form()))
    second = case_of(refer(rep, panel, mace_form(first="Otherkid", last="Fakechild", dob=dt.date(2011, 3, 4))))
    assert first.reference.startswith(f"MACE-{utcnow().year}-")
    parties = db.session.execute(select(CaseParty).where(CaseParty.role == PartyRole.PERSON_OF_CONCERN)).scalars().all()
    assert {party.case_id for party in parties} == {first.id, second.id}
    assert len({party.person_id for party in parties}) == 2
    index = blind_index("person_name_dob", "Shady Fakeadult", dt.date(1995, 7, 8))
    assert row_count(PersonName, PersonName.name_dob_index == index) == 2
    # The location of concern is a row of each case, with the same blind index.
    address_index = blind_index("location_address", "9 Imaginary Parade", "ZZ3 3ZZ")
    assert row_count(Location, Location.address_index == address_index) == 2
    assert first.risk_score == 20 and first.risk_level == RiskLevel.HIGH
    assert first.codes == {"exploitation_types": [ExploitationType.COUNTY_LINES, ExploitationType.CRIMINAL]}
    manager = signed_in(app, world.users["manager"])
    response = manager.get(f"/cases/{first.id}")
    shown = page_of(response)
    assert "High, score 20" in shown and "Shady Fakeadult" in shown and "Pretend Academy" in shown
    assert "County lines" in shown and "Child criminal exploitation" in shown
    # The manager is shown the other case at the same address and naming the same person.
    assert second.reference in summary_value(response, "Also at this location")
    assert second.reference in summary_value(response, "Also named in")
    assert f"/cases/{second.id}" in links(response)
    # Search by the hotspot's postcode finds both cases.
    both = search(manager, panel, postcode="ZZ3 3ZZ")
    assert found(both, first) and found(both, second)


def test_persons_of_concern_are_not_linked_across_panels(app, world, rep):
    """The same adult named to two MACE panels is a record of each panel: linking across panels
    would tie one panel's cases to another's."""
    first = case_of(refer(rep, another_panel(world, PanelKind.MACE), mace_form()))
    second = case_of(refer(rep, another_panel(world, PanelKind.MACE), mace_form()))
    links = db.session.execute(select(CaseParty).where(CaseParty.role == PartyRole.PERSON_OF_CONCERN)).scalars().all()
    assert {link.case_id for link in links} == {first.id, second.id}
    assert len({link.person_id for link in links}) == 2


def test_editing_a_mace_referral_keeps_one_person_of_concern(app, world, rep):
    panel = another_panel(world, PanelKind.MACE)
    case = case_of(refer(rep, panel, mace_form()))
    people_before = row_count(Person)
    for concerns in ("First edit of the concerns.", "Second edit of the concerns."):
        form_page = rep.get(f"/cases/{case.id}/edit")
        assert post_form(rep, f"/cases/{case.id}/edit",
                         mace_form(concerns=concerns, version=version_in(form_page))).status_code == 302
    assert row_count(Person) == people_before
    index = blind_index("person_name_dob", "Shady Fakeadult", dt.date(1995, 7, 8))
    assert row_count(PersonName, PersonName.name_dob_index == index) == 1


@pytest.mark.parametrize("indicator,level", [(MaceScore.NONE, RiskLevel.STANDARD), (MaceScore.SOME, RiskLevel.MEDIUM),
                                             (MaceScore.MODERATE, RiskLevel.HIGH)])
def test_mace_risk_levels(world, rep, indicator, level):
    panel = another_panel(world, PanelKind.MACE)
    data = mace_form(**{f"indicators-{key}": indicator for key in
                        ("missing", "peers", "hotspots", "money", "weapons", "night_economy", "substances",
                         "education", "online", "injuries")})
    case = case_of(refer(rep, panel, data))
    assert case.risk_level == level and case.risk_score == 10 * int(indicator)


def test_asb_vulnerability_sets_priority_and_response_time(app, world, rep):
    panel = another_panel(world, PanelKind.ASB)
    case = case_of(refer(rep, panel, asb_form()))
    assert case.reference.startswith(f"ASB-{utcnow().year}-")
    assert case.risk_score == 8 and case.risk_level == RiskLevel.HIGH and case.codes["response_days"] == 1
    manager = signed_in(app, world.users["manager"])
    shown = page_of(manager.get(f"/cases/{case.id}"))
    assert "High, score 8; respond within 1 working day" in shown
    assert "Flat 2, Pretend House" in shown and "Noisy Fakerespondent" in shown
    medium = case_of(refer(rep, panel, asb_form(first="Other", **{
        f"vulnerability-{key}": YesNoUnknown.NO for key in ("previous", "hate", "unsafe_home", "health_effect")})))
    assert medium.risk_level == RiskLevel.MEDIUM and medium.codes["response_days"] == 3
    assert "Medium, score 4; respond within 3 working days" in page_of(manager.get(f"/cases/{medium.id}"))


# --- 9. no oracle: what a user may not see reads the same whether it exists or not --------------

UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
REFERENCE_TEXT = re.compile(r"\b(MARAC|MACE|ASB)-\d{4}-\d{4}\b")


def normalised(source, *varying):
    """A page's HTML without what two requests differ in by design: CSRF and one-time form tokens, CSP nonces, object ids,
    case references, times of day, and the `varying` strings (the names of two panels)."""
    markup = html.unescape(source if isinstance(source, str) else source.get_data(as_text=True))
    for value in sorted(varying, key=len, reverse=True):
        markup = markup.replace(value, "<varying>")
    markup = re.sub(r'(name="(?:csrf_token|form_token)"[^>]*value=")[^"]*', r"\1<token>", markup)
    markup = re.sub(r'nonce="[^"]*"', 'nonce="<nonce>"', markup)
    markup = UUID_TEXT.sub("<id>", markup)
    markup = REFERENCE_TEXT.sub("<reference>", markup)
    return re.sub(r"\b\d{2}:\d{2}\b", "<time>", markup)


def outsider_referrer(world):
    """A user of a member agency (the IDVA) with no role on any panel: they may refer to the world's
    panels, and see nothing of their cases but their own referrals."""
    return UserFactory(agency=world.agencies.idva)


def sent_and_shown(client, panel, data):
    """Refer; the case made and the page the referrer lands on (the case page with the flash)."""
    response = refer(client, panel, data)
    return case_of(response), client.get(response.headers["Location"])


def test_the_repeat_check_is_no_oracle(app, world, rep, manager):
    """A referrer with no role on the panels refers someone already referred to one of them (a hit)
    and, identically, to another where they were not (a miss): every page they can reach reads the
    same; the check ran once each, audited alike; the manager, who may see the earlier case, is told."""
    hit_panel, miss_panel = another_panel(world), another_panel(world)
    names = (hit_panel.name, miss_panel.name)
    earlier = case_of(refer(rep, hit_panel, marac_form(referred_on=today() - dt.timedelta(days=30))))
    accepted(manager, earlier)
    prober = signed_in(app, outsider_referrer(world))
    guess = marac_form(first="Tina", last="Guessname", aliases="Testina Fakeperson")  # a guessed alias, the real DOB
    hit, hit_page = sent_and_shown(prober, hit_panel, guess)
    miss, miss_page = sent_and_shown(prober, miss_panel, guess)
    assert hit.is_repeat and hit.repeat_of_id == earlier.id and not miss.is_repeat  # the check found it
    assert f"Referral {hit.reference} sent to the {hit_panel.name} panel manager" in page_of(hit_page)
    assert normalised(hit_page, *names) == normalised(miss_page, *names)
    assert earlier.reference not in page_of(hit_page) and "Repeat" not in page_text(hit_page)
    for url in ("/cases/{}", "/cases/{}/edit"):
        assert normalised(prober.get(url.format(hit.id)), *names) == normalised(prober.get(url.format(miss.id)), *names)
    mine = prober.get("/referrals/mine")
    assert normalised(str(row_with(mine, hit.reference)), *names) == normalised(str(row_with(mine, miss.reference)),
                                                                                *names)
    # Audited once each, and the event does not tell the administrators who read the trail which was a hit.
    [hit_event] = audit_events("case.repeat_checked", hit.id)
    [miss_event] = audit_events("case.repeat_checked", miss.id)
    assert hit_event.actor_user_id == miss_event.actor_user_id and hit_event.detail == miss_event.detail
    # An edit does not run the check again (so a referrer cannot probe by editing a name over and over).
    after_edit = []
    for case in (hit, miss):
        edit_page = prober.get(f"/cases/{case.id}/edit")
        edited = post_form(prober, f"/cases/{case.id}/edit", marac_form(
            first="Tina", last="Otherguess", aliases="Testina Fakeperson", version=version_in(edit_page)))
        assert edited.status_code == 302 and len(audit_events("case.repeat_checked", case.id)) == 1
        after_edit.append(normalised(prober.get(edited.headers["Location"]), *names))
    assert after_edit[0] == after_edit[1] and "Case saved." in after_edit[0]
    # The manager of the panel may see the earlier case: they are told, and confirm or drop it at screening.
    shown = manager.get(f"/cases/{hit.id}")
    assert earlier.reference in summary_value(shown, "Repeat of") and 'govuk-tag--orange">Repeat<' in page_of(shown)
    assert "This is a repeat" in page_of(manager.get(f"/cases/{hit.id}/screen"))


def test_no_page_reads_the_repeat_link_but_through_repeat_shown():
    """Every template shows the repeat flag and the earlier case through Case.repeat_shown(user), so a
    new page cannot show them to someone who may not see the earlier case."""
    from pathlib import Path

    templates = Path(__file__).resolve().parent.parent / "templates"
    offenders = [str(path.relative_to(templates)) for path in templates.rglob("*.html")
                 if re.search(r"\b(is_repeat|repeat_of|repeat_of_id)\b", path.read_text())]
    assert offenders == []


def test_sending_referrals_is_throttled_per_user(app, world, rep, monkeypatch):
    """Each referral sent runs the repeat check: one user may send only so many in an hour. Only
    referrals actually sent count; what was typed is kept; drafts and edits go on; others are not held up."""
    monkeypatch.setitem(app.config, "REFERRAL_SUBMISSION_LIMIT", "3 per hour")
    user = outsider_referrer(world)
    prober = signed_in(app, user)
    for _ in range(2):  # refused for a missing answer: not sent, so not counted
        assert refer(prober, world.panel, marac_form(first="")).status_code == 200
    sent = [case_of(refer(prober, world.panel, marac_form(last="Guessname", dob=dt.date(1990, 4, day))))
            for day in (2, 3, 4)]
    cases_before = row_count(Case)
    blocked = refer(prober, world.panel, marac_form(first="Guessina", last="Guessname"))
    assert blocked.status_code == 429
    assert "You have sent as many referrals as one person can in a short time (3 per hour)" in page_text(blocked)
    assert "This referral has not been sent: save it as a draft, and send it later." in page_text(blocked)
    assert input_value(blocked, "victim-first_names") == "Guessina"  # nothing typed is lost
    assert row_count(Case) == cases_before
    # Saving it as a draft is allowed; sending the draft is not, yet.
    assert refer(prober, world.panel, marac_form(first="Guessina", action=CaseStatus.DRAFT)).status_code == 302
    draft = db.session.execute(select(Case).where(Case.referrer_user_id == user.id,
                                                  Case.status == CaseStatus.DRAFT)).scalar_one()
    finish = post_form(prober, f"/cases/{draft.id}/edit", marac_form(first="Guessina", version=draft.version))
    assert finish.status_code == 429 and fresh(Case, draft.id).status == CaseStatus.DRAFT
    # Editing a referral already sent runs no check and is not held up; nor is anyone else.
    edit_page = prober.get(f"/cases/{sent[0].id}/edit")
    assert post_form(prober, f"/cases/{sent[0].id}/edit",
                     marac_form(history="Invented correction.", version=version_in(edit_page))).status_code == 302
    assert case_of(refer(rep, world.panel, marac_form())).status == CaseStatus.SUBMITTED


# --- records of their case: nothing one referrer typed shows on another's case ---------------------

HOTSPOT = {"locations-0-address": "9 Imaginary Parade", "locations-0-postcode": "ZZ3 3ZZ"}


def test_asb_and_mace_cases_at_one_address_each_keep_their_own_location(app, world, rep, manager):
    mace, asb = another_panel(world, PanelKind.MACE), another_panel(world, PanelKind.ASB)
    exploited = case_of(refer(rep, mace, mace_form(**HOTSPOT, **{
        "locations-0-kind": LocationKind.PREMISES, "locations-0-description": "Invented trafficking premises"})))
    nuisance = case_of(refer(rep, asb, asb_form(**HOTSPOT, **{
        "locations-0-kind": LocationKind.ADDRESS, "locations-0-description": "Invented noisy flat"})))
    index = blind_index("location_address", "9 Imaginary Parade", "ZZ3 3ZZ")
    assert row_count(Location, Location.address_index == index) == 2
    mace_page, asb_page = manager.get(f"/cases/{exploited.id}"), manager.get(f"/cases/{nuisance.id}")
    assert summary_value(mace_page, "Premises") == "Invented trafficking premises, 9 Imaginary Parade, ZZ3 3ZZ"
    assert "Invented noisy flat, 9 Imaginary Parade, ZZ3 3ZZ" in page_of(asb_page)  # the rows after the people's
    assert "trafficking" not in page_of(asb_page) and "noisy" not in page_of(mace_page)
    # Cases of different panels are never linked, not even for a manager of both.
    for page, other in ((mace_page, nuisance), (asb_page, exploited)):
        assert "Also at this location" not in page_of(page) and other.reference not in page_of(page)
    # Editing one case's location leaves the other's as it was.
    edit_page = rep.get(f"/cases/{nuisance.id}/edit")
    assert post_form(rep, f"/cases/{nuisance.id}/edit", asb_form(**HOTSPOT, **{
        "locations-0-kind": LocationKind.ADDRESS, "locations-0-description": "Invented quieter flat",
        "version": version_in(edit_page)})).status_code == 302
    assert summary_value(manager.get(f"/cases/{exploited.id}"), "Premises").startswith("Invented trafficking premises")
    assert row_count(Location, Location.address_index == index) == 2  # the edit replaced the case's own row only


def test_location_reuse_is_no_oracle(app, world, rep):
    """A referrer with no role types an address that another panel's case names (a hit), and the same
    referral at an address no case names to another panel of the same kind (a miss): their case pages
    read the same but for the address they typed, with their own description."""
    hit_panel, miss_panel = another_panel(world, PanelKind.ASB), another_panel(world, PanelKind.ASB)
    case_of(refer(rep, another_panel(world, PanelKind.MACE), mace_form(**HOTSPOT, **{
        "locations-0-description": "Invented trafficking premises"})))
    elsewhere = {"locations-0-address": "11 Madeup Row", "locations-0-postcode": "ZZ6 6ZZ"}
    prober = signed_in(app, outsider_referrer(world))
    typed = {"locations-0-description": "Invented flat above the shop"}
    hit, hit_page = sent_and_shown(prober, hit_panel, asb_form(**HOTSPOT, **typed))
    miss, miss_page = sent_and_shown(prober, miss_panel, asb_form(**elsewhere, **typed))
    varying = (hit_panel.name, miss_panel.name, *HOTSPOT.values(), *elsewhere.values())
    assert normalised(hit_page, *varying) == normalised(miss_page, *varying)
    # Their own description and address (as they sent them), not the other panel's.
    assert "Invented flat above the shop" in page_of(hit_page) and "9 Imaginary Parade" in page_of(hit_page)
    assert "trafficking" not in page_of(hit_page)


def test_persons_of_concern_keep_the_aliases_their_referrer_gave(app, world, rep, manager):
    """Two MACE cases name the same adult (name and date of birth) with different aliases: each case
    shows its own referrer's. The manager, who may see both, is shown the link between them."""
    panel = another_panel(world, PanelKind.MACE)
    police = signed_in(app, world.users["chair"])
    first = case_of(refer(rep, panel, mace_form(**{"persons_of_concern-0-aliases": "Invented Alias-One"})))
    second = case_of(refer(police, panel, mace_form(first="Otherkid", last="Fakechild", dob=dt.date(2011, 3, 4), **{
        "persons_of_concern-0-aliases": "Invented Alias-Two"})))
    first_page, second_page = manager.get(f"/cases/{first.id}"), manager.get(f"/cases/{second.id}")
    assert "Invented Alias-One" in page_of(first_page) and "Invented Alias-Two" not in page_of(first_page)
    assert "Invented Alias-Two" in page_of(second_page) and "Invented Alias-One" not in page_of(second_page)
    assert second.reference in summary_value(first_page, "Also named in")
    assert first.reference in summary_value(second_page, "Also named in")
    # Each case's person of concern is its own: editing one does not change the other's.
    edit_page = rep.get(f"/cases/{first.id}/edit")
    assert post_form(rep, f"/cases/{first.id}/edit", mace_form(**{
        "persons_of_concern-0-aliases": "Invented Alias-Three", "version": version_in(edit_page)})).status_code == 302
    assert "Invented Alias-Two" in page_of(manager.get(f"/cases/{second.id}"))


def test_person_of_concern_reuse_is_no_oracle(app, world, rep):
    """A referrer with no role names an adult that another referrer named on a case of the panel (a hit),
    and identically on a panel where no case names them (a miss): their pages read the same, with no
    alias or case of the other referrer's."""
    hit_panel, miss_panel = another_panel(world, PanelKind.MACE), another_panel(world, PanelKind.MACE)
    names = (hit_panel.name, miss_panel.name)
    other = case_of(refer(rep, hit_panel, mace_form(first="Someone", last="Elsechild", dob=dt.date(2009, 1, 1), **{
        "persons_of_concern-0-aliases": "Invented Alias-Of-Another"})))
    prober = signed_in(app, outsider_referrer(world))
    hit, hit_page = sent_and_shown(prober, hit_panel, mace_form())
    miss, miss_page = sent_and_shown(prober, miss_panel, mace_form())
    assert normalised(hit_page, *names) == normalised(miss_page, *names)
    shown = page_of(hit_page)
    assert "Invented Alias-Of-Another" not in shown and other.reference not in shown and "Also named in" not in shown


def test_links_between_cases_follow_the_sharing_rules(app, world, rep, manager):
    """The link between two cases naming one adult needs identity on both; one at one address, contact."""
    panel = another_panel(world, PanelKind.MACE)
    first = case_of(refer(rep, panel, mace_form()))
    second = case_of(refer(rep, panel, mace_form(first="Otherkid", last="Fakechild", dob=dt.date(2011, 3, 4))))
    education = signed_in(app, representative_of(panel, AgencyKind.EDUCATION))  # identity, not contact
    shown = education.get(f"/cases/{first.id}")
    assert second.reference in summary_value(shown, "Also named in")
    assert "Also at this location" not in page_of(shown)
    # The referrer, as referrer, is not shown links: only their role on the panel shows them (here the
    # IDVA representative's, which has both).
    outsider = outsider_referrer(world)
    prober = signed_in(app, outsider)
    mine = case_of(refer(prober, panel, mace_form(first="Thirdkid", last="Fakechild", dob=dt.date(2012, 5, 6))))
    page = page_of(prober.get(f"/cases/{mine.id}"))
    assert "Also named in" not in page and "Also at this location" not in page
    assert first.reference not in page and second.reference not in page
    assert mine.reference in summary_value(manager.get(f"/cases/{first.id}"), "Also at this location")


# --- search: a match counts only where the viewer may see the category of what matched -----------

CHILD = {"name": "Kiddo Fakeperson", **date_parts("date_of_birth", dt.date(2019, 5, 6))}


def test_search_by_a_childs_name_is_no_oracle(app, world, rep):
    """Adult social care may see identity but not children: a child's name and date of birth finds
    nothing, and the page reads exactly as before the case existed. The victim's name is found."""
    adults = signed_in(app, representative_of(world.panel, AgencyKind.ADULT_SOCIAL_CARE))
    miss = search(adults, world.panel, **CHILD)
    case = case_of(refer(rep, world.panel, marac_form()))  # Kiddo Fakeperson is the child in the household
    hit = search(adults, world.panel, **CHILD)
    assert normalised(hit) == normalised(miss) and not found(hit, case)
    assert found(search(adults, world.panel, name="Testina Fakeperson", **date_parts("date_of_birth", DOB)), case)
    # The police (children shared) find the child; so does the manager.
    assert found(search(signed_in(app, world.users["chair"]), world.panel, **CHILD), case)
    # The audit event of each is the same too.
    events = audit_events("case.searched")
    assert events[0].detail == events[1].detail
    assert events[0].detail["results"] == 0 and events[0].detail["cases"] == []


def test_search_by_postcode_is_no_oracle(app, world, rep):
    """Education may not see contact details: a postcode search reads the same whether a case has it or not."""
    education = signed_in(app, representative_of(world.panel, AgencyKind.EDUCATION))
    miss = search(education, world.panel, postcode="ZZ1 1ZZ")
    case = case_of(refer(rep, world.panel, marac_form()))
    hit = search(education, world.panel, postcode="ZZ1 1ZZ")
    assert normalised(hit) == normalised(miss) and not found(hit, case)
    assert found(search(education, world.panel, reference=case.reference), case)


def test_search_on_a_young_person_needs_children_as_well(app, world, rep):
    """On a MACE panel, housing (identity and contact, not children) finds nothing by the young person's
    name or postcode, and the same page as a miss; it finds the case by the hotspot's postcode.
    Education (identity and children, not contact) finds the young person by name, by no postcode."""
    panel = another_panel(world, PanelKind.MACE)
    housing = signed_in(app, representative_of(panel, AgencyKind.HOUSING))
    education = signed_in(app, representative_of(panel, AgencyKind.EDUCATION))
    young_person = {"name": "Youngo Fakechild", **date_parts("date_of_birth", dt.date(2010, 2, 3))}
    misses = [search(housing, panel, **young_person), search(housing, panel, postcode="ZZ2 2ZZ")]
    case = case_of(refer(rep, panel, mace_form()))
    hits = [search(housing, panel, **young_person), search(housing, panel, postcode="ZZ2 2ZZ")]
    for hit, miss in zip(hits, misses):
        assert normalised(hit) == normalised(miss) and not found(hit, case)
    assert found(search(housing, panel, postcode="ZZ3 3ZZ"), case)  # the location of concern
    assert found(search(education, panel, **young_person), case)
    for postcode in ("ZZ2 2ZZ", "ZZ3 3ZZ"):
        assert not found(search(education, panel, postcode=postcode), case)


# --- 10. nothing identifying in plain columns -----------------------------------------------------

SECRETS = ["Testina", "Fakeperson", "1990-04-01", "19900401", "01/04/1990", "Pretend Road", "ZZ1 1ZZ", "ZZ11ZZ",
           "07700 900123", "07700900123", "Sentinel-narrative", "Fakeside Surgery", "Perry", "Fakeabuser", "Kiddo",
           "Invented history", "CRIS-TEST-0001", "Rita Referrer", "Tina Fakename"]


def cells():
    """(table, column, value) of every cell of every table, read as plain SQL would."""
    connection = db.session.connection()
    for table in inspect(connection).get_table_names():
        result = db.session.execute(text(f'SELECT * FROM "{table}"'))
        columns = list(result.keys())
        for row in result:
            for column, value in zip(columns, row):
                yield table, column, value


def as_text(value):
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        return value
    return None


def test_identifying_values_are_only_stored_encrypted(app, world, rep, manager):
    case = case_of(refer(rep, world.panel, marac_form(aliases="Tina Fakename")))
    accepted(manager, case)
    manager.get(f"/cases/{case.id}")
    search(manager, world.panel, name="Testina Fakeperson", **date_parts("date_of_birth", DOB))
    search(manager, world.panel, postcode="ZZ1 1ZZ")
    db.session.expire_all()
    leaks, scanned = [], 0
    for table, column, value in cells():
        value = as_text(value)
        if value is None:
            continue
        scanned += 1
        for secret in SECRETS:
            if secret.lower() in value.lower():
                leaks.append((table, column, secret))
    assert scanned > 100
    assert leaks == []
    # Coded values for statistics are plain.
    genders = [row[0] for row in db.session.execute(text("SELECT gender FROM people"))]
    assert Gender.FEMALE in genders and Gender.MALE in genders
    bands = [row[0] for row in db.session.execute(text("SELECT age_band FROM people"))]
    assert "35-44" in bands or "25-34" in bands
    # And the values are really there, encrypted: the application reads them back.
    case = fresh(Case, case.id)
    victim = case.subject
    assert (victim.first_names, victim.last_name, victim.date_of_birth, victim.postcode, victim.phone) == (
        "Testina", "Fakeperson", DOB, "ZZ1 1ZZ", "07700 900123")
    assert victim.details["gp"] == "Fakeside Surgery" and victim.aliases == ["Tina Fakename"]
    assert case.referral["recent_incident"].startswith("Sentinel-narrative")
