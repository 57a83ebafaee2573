"""Hypothesis fuzzing of every case form (MARAC, MACE and ASB referrals, screening, search).

Valid form data (tests/referrals.py) with fields replaced by arbitrary text (control characters,
unicode, up to ~6000 characters), arbitrary date parts, unknown choices, missing and extra keys,
posted with a valid CSRF token. Whatever is posted: never a server error; a refused form stores
nothing; an accepted one stores what was typed, encrypted, and reads back the same.

Each test signs in once and reuses its client for every example: sign-in throttling and
single-use TOTP codes would refuse a sign-in per example.
"""
import datetime as dt
import re
import uuid
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from marac.cases.forms import LISTS
from marac.cases.models import SUBJECT_ROLE, Case, CaseChange, CaseStatus, Criterion, ScreeningDecision
from marac.cases.questions import (AsbCategory, ExploitationType, Intervention, LivesWith, MaceScore, Need,
                                   Relationship)
from marac.panels.models import PanelKind
from marac.people.models import Gender, LocationKind, YesNoUnknown
from marac.sharing.models import Category
from marac.core.forms import normalise_postcode
from marac.extensions import db
from tests.helpers import another_panel, audit_events, form_tokens, row_count, signed_in
from tests.referrals import asb_form, date_parts, mace_form, marac_form

FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# --- strategies --------------------------------------------------------------------------------

CHARS = st.characters(blacklist_categories=("Cs",))  # lone surrogates cannot be sent as UTF-8 at all
SPECIAL = ["", " ", "\x00", "\t\r\n", "\u202e\u200b", "<script>alert(1)</script>", "'; DROP TABLE cases; --",
           "%00", "{{ 7*7 }}", "ZZ1 1ZZ", "None", "null", "Zoë O'Brien-Ñúñez", "👩‍👧", "ß" * 40]
VALID_TOKENS = [*YesNoUnknown, Gender.FEMALE, Gender.MALE, *Criterion, *MaceScore, "4", *LocationKind,
                ExploitationType.CRIMINAL, ExploitationType.SEXUAL, AsbCategory.NOISE, AsbCategory.DRUGS,
                Need.MENTAL_HEALTH, Intervention.ABA, Relationship.EX_PARTNER, LivesWith.VICTIM, *ScreeningDecision,
                "y", CaseStatus.DRAFT, "submit"]

short_text = st.text(CHARS, max_size=40)
# Control characters, NUL most of all (PostgreSQL refuses it in text: it must never reach a query).
controls = st.one_of(st.just("\x00"), st.sampled_from(["\x00", "\x7f", "\x1b[2J", "\r\n", "\x08"]),
                     st.text(st.characters(max_codepoint=0x1F), min_size=1, max_size=4))
with_controls = st.builds("{}{}{}".format, st.sampled_from(["", "MARAC-2026-0001", "Testina", "ZZ1 1ZZ"]),
                          controls, st.sampled_from(["", "x", " 1ZZ"]))
long_text = st.builds(lambda piece, n: (piece * n)[:n], st.text(CHARS, min_size=1, max_size=8),
                      st.integers(1, 6000))
any_text = st.one_of(with_controls, short_text, long_text, st.sampled_from(SPECIAL))
value = st.one_of(any_text, st.sampled_from(VALID_TOKENS))
date_part = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.sampled_from(["", "0", "29", "30", "31", "2", "13", "1899", "1900", "9999", "10000", " 7 ", "1_0", "²",
                     "١٢", "07", "1e3", "+5", "-1", "0x10", "\x00"]),
    st.text(CHARS, max_size=10))
index = st.one_of(st.integers(0, 12).map(str), st.integers(0, 10**30).map(str),
                  st.sampled_from(["²", "١", "-1", "", "01", " 1"]), st.text(CHARS, min_size=1, max_size=3))
SUBFIELDS = ["first_names", "last_name", "aliases", "date_of_birth-day", "date_of_birth-year", "postcode",
             "address", "kind", "relationship", "lives_with", "description"]


def extra_keys(prefixes):
    return st.one_of(
        st.text(CHARS, min_size=1, max_size=20),
        st.builds("{}-{}-{}".format, st.sampled_from(sorted(LISTS)), index, st.sampled_from(SUBFIELDS)),
        st.builds("{}-{}".format, st.sampled_from(prefixes), st.text(CHARS, min_size=1, max_size=12)),
        st.sampled_from(["add", "version", "action", "csrf_token_2", "victim-date_of_birth-era"]),
    ).filter(lambda key: key != "csrf_token")


@st.composite
def mutated(draw, base, prefixes=("x",), max_changes=6):
    """The base form data with up to max_changes fields replaced, blanked or removed, and up to 3
    extra keys."""
    data = dict(base)
    for key in draw(st.lists(st.sampled_from(sorted(base)), max_size=max_changes, unique=True)):
        how = draw(st.sampled_from(["replace", "replace", "inject", "inject", "blank", "delete"]))
        if how == "inject" and isinstance(base[key], str):
            # Something slipped into an otherwise valid value: a NUL byte, an escape, a few characters.
            at = draw(st.integers(0, len(base[key])))
            data[key] = base[key][:at] + draw(st.one_of(controls, short_text)) + base[key][at:]
        elif how == "delete":
            del data[key]
        elif how == "blank":
            data[key] = [] if isinstance(base[key], list) else ""
        elif isinstance(base[key], list):
            data[key] = draw(st.lists(value, max_size=5))
        elif re.search(r"-(day|month|year)$", key):
            data[key] = draw(date_part)
        else:
            data[key] = draw(value)
    extras = draw(st.dictionaries(extra_keys(list(prefixes)),
                                  st.one_of(short_text, st.sampled_from(sorted(LISTS))), max_size=3))
    for key, extra in extras.items():
        data.setdefault(key, extra)
    return data


# --- helpers -----------------------------------------------------------------------------------

def post(client, url, token_from, data):
    """POST with the tokens of the page token_from as a browser has them: the CSRF token and a fresh
    one-time form token (a form that makes something is accepted once)."""
    response = client.post(url, data={**data, **form_tokens(client, token_from)})
    assert response.status_code in (200, 302), (response.status_code, data)
    return response


def submitted_ids(panel):
    return set(db.session.execute(select(Case.id).where(Case.panel_id == panel.id, Case.status != CaseStatus.DRAFT)).scalars())


def has_errors(response):
    return "There is a problem" in response.get_data(as_text=True)


def is_add_request(data):
    return data.get("add") in LISTS


def expected(data, key):
    """What a text field should hold after a successful post: exactly what was typed."""
    typed = data.get(key)
    if isinstance(typed, list):
        typed = typed[0] if typed else None
    if typed is not None and key.endswith("postcode") and typed:
        return normalise_postcode(typed)
    return typed


def answer(answers, key):
    node = answers
    for part in key.split("-"):
        node = node[part]
    return node


@pytest.fixture
def fuzz_client(app, world):
    """The representative of the IDVA, signed in once for all examples of a test."""
    return signed_in(app, world.users["representative"])


def panel_for(world, kind):
    """The world's MARAC panel, or a new panel of another kind with the world's agencies and roles."""
    return world.panel if kind == PanelKind.MARAC else another_panel(world, kind)


FORMS = {
    PanelKind.MARAC: (marac_form, ["victim", "dash", "perpetrators-0", "children-0"],
                      ["referrer_name", "referrer_contact", "victim-first_names", "victim-last_name",
                       "victim-aliases", "victim-address", "victim-postcode", "victim-phone", "victim-gp",
                       "recent_incident", "history", "consent_reason", "crime_reference", "orders"],
                      "victim"),
    PanelKind.MACE: (mace_form, ["young_person", "indicators", "persons_of_concern-0", "locations-0"],
                     ["referrer_name", "young_person-first_names", "young_person-last_name", "young_person-postcode",
                      "young_person-school", "concerns"],
                     "young_person"),
    PanelKind.ASB: (asb_form, ["complainant", "vulnerability", "respondents-0", "locations-0"],
                    ["referrer_name", "complainant-first_names", "complainant-last_name", "complainant-postcode",
                     "description"],
                    "complainant"),
}


def check_referral(client, panel, url, token_from, data, subject_key, text_keys):
    before = submitted_ids(panel)
    drafts_before = row_count(Case, Case.panel_id == panel.id, Case.status == CaseStatus.DRAFT)
    response = post(client, url, token_from, data)
    after = submitted_ids(panel)
    if response.status_code == 200:
        assert after == before, "a refused referral was stored"
        assert row_count(Case, Case.panel_id == panel.id, Case.status == CaseStatus.DRAFT) == drafts_before
        assert has_errors(response) or is_add_request(data), "200 without an error or an added entry"
        return
    location = urlsplit(response.headers["Location"]).path
    if location == "/referrals/mine":
        assert data.get("action") == CaseStatus.DRAFT and after == before
        assert row_count(Case, Case.panel_id == panel.id, Case.status == CaseStatus.DRAFT) == drafts_before + 1
        return
    [new_id] = after - before
    assert location == f"/cases/{new_id}"
    db.session.expire_all()
    case = db.session.get(Case, new_id)
    assert case.status == CaseStatus.SUBMITTED and re.fullmatch(rf"{panel.kind}-\d{{4}}-\d{{4,}}", case.reference)
    answers = case.referral  # decrypts
    for key in text_keys:
        assert answer(answers, key) == expected(data, key), key
    subject = next(p.person for p in case.parties if p.role == SUBJECT_ROLE[panel.kind])
    assert subject.first_names == (expected(data, f"{subject_key}-first_names") or "").strip()
    assert subject.last_name == (expected(data, f"{subject_key}-last_name") or "").strip()
    assert subject.date_of_birth.isoformat() == answer(answers, f"{subject_key}-date_of_birth")
    # The case page renders whatever was stored.
    assert client.get(location).status_code == 200


@pytest.mark.parametrize("kind", list(PanelKind))
def test_referral_forms_never_fail(app, world, fuzz_client, kind):
    build, prefixes, text_keys, subject_key = FORMS[kind]
    panel = panel_for(world, kind)
    url = f"/panels/{panel.id}/referrals/new"
    base = build()

    @FUZZ
    @given(data=mutated(base, prefixes))
    def run(data):
        check_referral(fuzz_client, panel, url, url, data, subject_key, text_keys)

    run()


def test_an_unmodified_referral_round_trips(world, fuzz_client):
    """The baseline the fuzzing starts from is accepted (else the fuzz tests would test nothing)."""
    url = f"/panels/{world.panel.id}/referrals/new"
    build, _, text_keys, subject_key = FORMS[PanelKind.MARAC]
    before = submitted_ids(world.panel)
    check_referral(fuzz_client, world.panel, url, url, build(), subject_key, text_keys)
    assert len(submitted_ids(world.panel)) == len(before) + 1


@pytest.mark.parametrize("key", ["perpetrators-²-first_names", "children-١-first_names",
                                 "perpetrators-99999999999999999999999-first_names"])
def test_odd_list_indexes(world, fuzz_client, key):
    url = f"/panels/{world.panel.id}/referrals/new"
    build, _, text_keys, subject_key = FORMS[PanelKind.MARAC]
    check_referral(fuzz_client, world.panel, url, url, {**build(), key: "Oddly Indexed"}, subject_key, text_keys)


def test_screening_form_never_fails(app, world, monkeypatch):
    # Each example may need a new referral to screen: more than one user may send in an hour.
    monkeypatch.setitem(app.config, "REFERRAL_SUBMISSION_LIMIT", "1000 per hour")
    client = signed_in(app, world.users["manager"])
    panel = world.panel
    refer_url = f"/panels/{panel.id}/referrals/new"
    state = {"case": None}

    def open_case():
        """A referral awaiting screening (a new one once the last was screened)."""
        case = state["case"]
        if case is not None:
            db.session.expire_all()
            case = db.session.get(Case, case.id)
        if case is None or case.status != CaseStatus.SUBMITTED:
            response = post(client, refer_url, refer_url, marac_form())
            case = db.session.get(Case, uuid.UUID(urlsplit(response.headers["Location"]).path.split("/")[-1]))
        state["case"] = case
        return case

    @FUZZ
    @given(changes=mutated({"decision": ScreeningDecision.ACCEPT, "reason": "", "confirm_repeat": "", "version": "?"},
                           max_changes=2))
    def run(changes):
        case = open_case()
        data = dict(changes)
        if data.get("version") == "?":
            data["version"] = str(case.version)
        version, changes_before = case.version, row_count(CaseChange, CaseChange.case_id == case.id)
        response = post(client, f"/cases/{case.id}/screen", refer_url, data)
        db.session.expire_all()
        case = db.session.get(Case, case.id)
        if response.status_code == 200:
            assert has_errors(response)
            assert case.status == CaseStatus.SUBMITTED and case.version == version and case.screening_reason is None
            assert row_count(CaseChange, CaseChange.case_id == case.id) == changes_before
            return
        assert urlsplit(response.headers["Location"]).path == f"/cases/{case.id}"
        reason = (data.get("reason") or "").strip()
        assert (data.get("decision"), case.status) in ((ScreeningDecision.ACCEPT, CaseStatus.ACCEPTED),
                                                       (ScreeningDecision.SCREEN_OUT, CaseStatus.SCREENED_OUT))
        assert data.get("version") == str(version)
        assert case.screening_reason == (reason or None)
        if case.status == CaseStatus.SCREENED_OUT:
            assert reason
        assert len(reason) <= 1200

    run()


def test_search_form_never_fails(app, world):
    client = signed_in(app, world.users["manager"])
    panel = world.panel
    refer_url = f"/panels/{panel.id}/referrals/new"
    referred = post(client, refer_url, refer_url, marac_form())
    case = db.session.get(Case, uuid.UUID(urlsplit(referred.headers["Location"]).path.split("/")[-1]))
    url = f"/panels/{panel.id}/cases/search"
    token_from = f"/panels/{panel.id}/cases"
    base = {"reference": case.reference, "name": "Testina Fakeperson", "postcode": "ZZ1 1ZZ",
            **date_parts("date_of_birth", dt.date(1990, 4, 1))}

    @FUZZ
    @given(data=mutated(base, max_changes=2))
    def run(data):
        cases_before, before = row_count(Case), len(audit_events("case.searched"))
        response = post(client, url, token_from, data)
        assert response.status_code == 200
        assert row_count(Case) == cases_before
        events = audit_events("case.searched")
        if has_errors(response):
            assert len(events) == before, "a refused search was audited as a search"
            return
        assert len(events) == before + 1
        detail = events[-1].detail
        # Nothing typed reaches the trail: codes, a count, the page, and the ids and categories of what was
        # shown (the page's results: a search here finds fewer than a page).
        assert set(detail) == {"by", "results", "page", "viewed", "cases", "categories"}
        assert detail["by"] in ("reference", "name_dob", "postcode")
        assert isinstance(detail["results"], int) and len(detail["cases"]) == detail["results"] < 50
        assert detail["page"] == 1
        assert all(uuid.UUID(case_id) for case_id in detail["cases"])
        assert set(detail["categories"]) <= set(Category.values())

    run()
