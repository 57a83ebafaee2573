"""MACE in depth: its own risk scale everywhere, the 12-weekly review clock (working days), reviews due and
overdue, recording a review (up to 25), and the registers of persons and locations of concern."""
import datetime as dt
import re

import pytest

from marac.agencies.models import AgencyKind
from marac.cases.models import ClosureOutcome, PartyRole, RiskLevel, risk_label, risk_levels
from marac.cases.services import close_case
from marac.core.timeutil import today
from marac.extensions import db
from marac.mace import services as mace
from marac.mace.models import ConcernKind, ConcernLink, DisruptionTactic, LinkAction, Review, ReviewState
from marac.panels.models import PanelKind, Role
from marac.sharing.models import DEFAULT_RULES, Category
from marac.people.models import YesNoUnknown
from marac.sharing.services import set_rules
from tests.factories import UserFactory
from tests.helpers import (another_panel, audit_events, counting, fresh, links, page_text, post_form, row_count, signed_in,
                           soup)
from tests.mace_cases import SHADY, mace_case
from tests.referrals import date_parts

MARAC_ONLY_LEVELS = [level.label for level in RiskLevel if level not in risk_levels(PanelKind.MACE)]


@pytest.fixture
def panel(world):
    """A MACE panel of the world's agencies, with the world's users in every role."""
    panel = another_panel(world, PanelKind.MACE, roles=tuple(Role))
    db.session.commit()
    return panel


def accepted(world, panel, on, **answers):
    case = mace_case(world.users["representative"], world.users["manager"], panel, on, **answers)
    db.session.commit()
    return case


def review(world, case, on, stays=True, who="manager", tactics=(DisruptionTactic.CAWN,), level=RiskLevel.MEDIUM):
    done = mace.record_review(world.users[who], case, on, level, "Invented: fewer missing episodes", list(tactics),
                              "Invented: plan", stays)
    db.session.commit()
    return done


# --- the risk scale ----------------------------------------------------------------------------------

def test_each_panel_kind_has_its_own_scale():
    assert [level.label for level in risk_levels(PanelKind.MACE)] == ["Low", "Medium", "High"]
    assert [level.label for level in risk_levels(PanelKind.ASB)] == ["Standard", "Medium", "High"]
    with pytest.raises(ValueError):
        risk_label(PanelKind.MACE, RiskLevel.STANDARD)  # a MARAC word on a MACE case is a fault, not a label
    with pytest.raises(ValueError):
        risk_label(PanelKind.MARAC, RiskLevel.LOW)


def test_a_low_scoring_mace_referral_is_low(world, panel):
    case = accepted(world, panel, today(), indicator="0")
    assert case.risk_level == RiskLevel.LOW


def test_the_pages_of_a_mace_panel_show_low_medium_high_and_never_marac_levels(app, world, panel):
    low = accepted(world, panel, today() - dt.timedelta(weeks=13), indicator="0")
    accepted(world, panel, today() - dt.timedelta(weeks=12), indicator="1")
    accepted(world, panel, today() - dt.timedelta(weeks=11), indicator="3")
    review(world, low, today(), level=RiskLevel.LOW)
    manager = signed_in(app, world.users["manager"])
    pages = [f"/panels/{panel.id}/cases", f"/panels/{panel.id}/cases?sort=risk", f"/panels/{panel.id}/reviews",
             f"/panels/{panel.id}/persons", f"/panels/{panel.id}/locations"]
    listing = manager.get(pages[0])
    pages += sorted({href for href in links(listing) if re.fullmatch(r"/cases/[0-9a-f-]{36}", href)})
    pages += [f"/cases/{low.id}/close", f"/cases/{low.id}/reviews/new"]
    seen = set()
    for url in pages:
        response = manager.get(url)
        assert response.status_code == 200, url
        text = page_text(response)
        for label in MARAC_ONLY_LEVELS:
            assert not re.search(rf"\b{label}\b", text), f"{label} on {url}"
        seen |= {label for label in ("Low", "Medium", "High") if re.search(rf"\b{label}\b", text)}
    assert seen == {"Low", "Medium", "High"}
    options = [o.get_text() for o in soup(listing).find("select", attrs={"name": "risk_level"}).find_all("option")]
    assert options == ["Any", "Low", "Medium", "High"]
    filtered = page_text(manager.get(f"/panels/{panel.id}/cases?risk_level={RiskLevel.LOW}"))
    assert low.reference in filtered and "1 case" in filtered


# --- the review clock --------------------------------------------------------------------------------

def test_the_first_review_is_due_12_weeks_after_acceptance_on_a_working_day(world, panel):
    plain = accepted(world, panel, dt.date(2026, 9, 1))  # a Tuesday: 24 November, a Tuesday
    assert mace.review_due_on(plain, None, 12) == dt.date(2026, 11, 24)
    christmas = accepted(world, panel, dt.date(2026, 10, 2))  # 12 weeks on: Christmas Day, a Friday
    # Christmas Day, the weekend, and Monday 28 December (Boxing Day's substitute): Tuesday 29 December.
    assert mace.review_due_on(christmas, None, 12) == dt.date(2026, 12, 29)
    # From the last review rather than from acceptance: 12 weeks after 1 January 2027 is Good Friday.
    assert mace.review_due_on(christmas, dt.date(2027, 1, 1), 12) == dt.date(2027, 3, 30)
    # Due on Easter Monday: the Tuesday after.
    assert mace.review_due_on(christmas, dt.date(2027, 1, 4), 12) == dt.date(2027, 3, 30)
    assert mace.review_due_on(christmas, dt.date(2027, 1, 4), 6) == dt.date(2027, 2, 15)


def test_the_clock_counts_from_the_last_review_and_stops_when_the_case_closes(world, panel):
    case = accepted(world, panel, today() - dt.timedelta(weeks=20))
    review(world, case, today() - dt.timedelta(days=3))
    part = mace.case_page_part(world.users["manager"], case, set(Category))
    assert part["due_on"] == mace.next_working_day(today() - dt.timedelta(days=3) + dt.timedelta(weeks=12))
    close_case(world.users["manager"], case, ClosureOutcome.RISK_REDUCED, "")
    db.session.commit()
    assert mace.review_due_on(case, None, 12) is None
    assert mace.case_page_part(world.users["manager"], case, set(Category))["due_on"] is None
    assert case not in [d.case for d in mace.reviews_due(panel, 1, on=today() + dt.timedelta(weeks=30)).items]


def test_due_and_overdue_at_their_boundaries(world, panel):
    on = dt.date(2026, 11, 3)  # a Tuesday; every due date below is a working day
    due = {days: accepted(world, panel, on + dt.timedelta(days=days) - dt.timedelta(weeks=12))
           for days in (-1, 0, 14, 15)}
    listed = {d.case.id: d for d in mace.reviews_due(panel, 1, on=on).items}
    assert listed[due[-1].id].state == ReviewState.OVERDUE  # due yesterday
    assert listed[due[0].id].state == ReviewState.DUE  # due today: not yet overdue
    assert listed[due[14].id].state == ReviewState.DUE  # due in exactly two weeks
    assert due[15].id not in listed  # two weeks and a day: not yet listed
    assert [d.case.id for d in mace.reviews_due(panel, 1, on=on).items] == [due[-1].id, due[0].id, due[14].id]


def test_the_reviews_page_paginates_and_has_an_empty_state(app, world, panel):
    manager = signed_in(app, world.users["manager"])
    assert "No review is overdue or due in the next 2 weeks" in page_text(manager.get(f"/panels/{panel.id}/reviews"))
    for n in range(3):
        accepted(world, panel, today() - dt.timedelta(weeks=13, days=n))
    page = mace.reviews_due(panel, 2, per_page=2)
    assert page.total == 3 and page.pages == 2 and len(page.items) == 1 and page.has_prev
    text = page_text(manager.get(f"/panels/{panel.id}/reviews"))
    assert "3 reviews due or overdue" in text and "Overdue" in text


def test_the_manager_sets_the_interval(app, world, panel):
    case = accepted(world, panel, dt.date(2026, 9, 1))
    manager = signed_in(app, world.users["manager"])
    url = f"/panels/{panel.id}/reviews/interval"
    refused = post_form(manager, url, {"weeks": "0"}, token_from=url)
    assert refused.status_code == 200 and "Enter a number of weeks from 1 to 52" in page_text(refused)
    assert post_form(manager, url, {"weeks": "6"}, token_from=url).status_code == 302
    assert fresh(type(panel), panel.id).review_interval_weeks == 6
    assert mace.review_due_on(case, None, fresh(type(panel), panel.id).review_interval_weeks) == dt.date(2026, 10, 13)
    assert audit_events("mace.review_interval_set", panel.id)[0].detail == {"from": 12, "to": 6}


# --- recording a review ------------------------------------------------------------------------------

def review_form(on, **extra):
    return {**date_parts("reviewed_on", on), "risk_level": RiskLevel.HIGH, "what_changed": "Invented: went missing twice",
            "tactics": [DisruptionTactic.CAWN, DisruptionTactic.NRM], "disruption_plan": "Invented: CAWN served",
            "stays_in_scope": YesNoUnknown.YES, **extra}


def test_the_chair_records_a_review_and_the_case_page_shows_it(app, world, panel):
    case = accepted(world, panel, today() - dt.timedelta(weeks=12))
    chair = signed_in(app, world.users["chair"])
    url = f"/cases/{case.id}/reviews/new"
    response = post_form(chair, url, review_form(today()), token_from=url)
    assert response.status_code == 302, page_text(response)
    [saved] = db.session.query(Review).filter_by(case_id=case.id).all()
    assert saved.risk_level == RiskLevel.HIGH and saved.tactics == [DisruptionTactic.CAWN, DisruptionTactic.NRM]
    assert saved.what_changed == "Invented: went missing twice"  # encrypted at rest, read back
    assert audit_events("mace.review_recorded", saved.id)
    shown = page_text(chair.get(f"/cases/{case.id}"))
    assert "Review of" in shown and "Child Abduction Warning Notice" in shown and "High" in shown
    assert f"Next review due" in shown


def test_a_representative_reads_reviews_but_does_not_record_them(app, world, panel):
    case = accepted(world, panel, today() - dt.timedelta(weeks=12))
    review(world, case, today())
    rep = signed_in(app, world.users["representative"])
    page = page_text(rep.get(f"/cases/{case.id}"))
    assert "Review of" in page and "Record a review" not in page
    assert rep.get(f"/cases/{case.id}/reviews/new").status_code == 403


def test_review_values_are_withheld_with_their_categories(app, world, panel):
    rules = {kind: set(cats) for kind, cats in DEFAULT_RULES.items()}
    rules[AgencyKind.IDVA] -= {Category.RISK_CHECKLIST, Category.CRIMINAL_JUSTICE, Category.NARRATIVE}
    set_rules(world.users["manager"], panel, rules)
    case = accepted(world, panel, today() - dt.timedelta(weeks=12))
    review(world, case, today(), tactics=(DisruptionTactic.NRM,))
    text = page_text(signed_in(app, world.users["representative"]).get(f"/cases/{case.id}"))
    assert "Review of" in text
    for secret in ("National Referral Mechanism", "Invented: plan", "Invented: fewer missing episodes"):
        assert secret not in text
    assert "Withheld" in text


def test_a_young_person_turning_25_cannot_stay_in_scope(app, world, panel):
    day = today()
    turns_25_today = day.replace(year=day.year - 25)
    case = accepted(world, panel, day - dt.timedelta(weeks=12), dob=turns_25_today)
    manager = signed_in(app, world.users["manager"])
    url = f"/cases/{case.id}/reviews/new"
    refused = post_form(manager, url, review_form(day), token_from=url)
    assert refused.status_code == 200
    assert "cannot stay in the panel's scope" in page_text(refused)
    assert "Invented: went missing twice" in page_text(refused)  # what was typed is kept
    assert row_count(Review, Review.case_id == case.id) == 0
    # The day before their birthday they are 24 and may stay.
    assert post_form(manager, url, review_form(day - dt.timedelta(days=1)), token_from=url).status_code == 302
    # Leaving scope leads to closing the case with its outcome.
    left = post_form(manager, url, review_form(day, stays_in_scope=YesNoUnknown.NO), token_from=url)
    assert left.status_code == 302 and left.headers["Location"].endswith(f"/cases/{case.id}/close")
    assert "no longer in the panel's scope" in page_text(manager.get(f"/cases/{case.id}"))
    close = manager.get(f"/cases/{case.id}/close")
    assert ClosureOutcome.AGED_OUT.label in page_text(close)


def test_a_review_date_in_the_future_or_before_acceptance_is_refused(app, world, panel):
    case = accepted(world, panel, today() - dt.timedelta(weeks=1))
    manager = signed_in(app, world.users["manager"])
    url = f"/cases/{case.id}/reviews/new"
    future = post_form(manager, url, review_form(today() + dt.timedelta(days=1)), token_from=url)
    assert "must be today or in the past" in page_text(future)
    early = post_form(manager, url, review_form(today() - dt.timedelta(weeks=2)), token_from=url)
    assert "on or after the day the case was accepted" in page_text(early)
    assert row_count(Review, Review.case_id == case.id) == 0


def test_a_closed_case_cannot_be_reviewed(app, world, panel):
    case = accepted(world, panel, today() - dt.timedelta(weeks=12))
    close_case(world.users["manager"], case, ClosureOutcome.MOVED_AREA, "")
    db.session.commit()
    manager = signed_in(app, world.users["manager"])
    assert manager.get(f"/cases/{case.id}/reviews/new").status_code == 403
    assert "no review is due" in page_text(manager.get(f"/cases/{case.id}"))


def test_a_marac_case_has_no_reviews(app, world):
    manager = signed_in(app, world.users["manager"])
    assert manager.get(f"/cases/{world.accepted.id}/reviews/new").status_code == 403
    assert manager.get(f"/panels/{world.panel.id}/reviews").status_code == 403
    assert manager.get(f"/panels/{world.panel.id}/persons").status_code == 403
    assert "Reviews" not in page_text(manager.get(f"/cases/{world.accepted.id}"))


# --- registers -------------------------------------------------------------------------------------

def test_the_person_register_groups_cases_by_blind_index(app, world, panel):
    first = accepted(world, panel, today() - dt.timedelta(days=30))
    second = accepted(world, panel, today() - dt.timedelta(days=10), first="Kiddo",
                      persons=({**SHADY, "first_names": "SHADY", "last_name": "fake-adult"},))
    alone = accepted(world, panel, today(), first="Solo", persons=({**SHADY, "date_of_birth": "1996-07-08"},))
    review(world, first, today(), tactics=(DisruptionTactic.TRESPASS,))
    entries = mace.register_page(world.users["manager"], panel, ConcernKind.PERSON, 1).items
    by_cases = {frozenset(lc.case.id for lc in e.cases): e for e in entries}
    assert set(by_cases) == {frozenset({first.id, second.id}), frozenset({alone.id})}
    shady = by_cases[frozenset({first.id, second.id})]
    assert shady.tactics == [DisruptionTactic.TRESPASS]
    assert shady.first_on == first.referred_on and shady.last_on == second.referred_on
    text = page_text(signed_in(app, world.users["manager"]).get(f"/panels/{panel.id}/persons"))
    assert "Shady Fakeadult" in text and first.reference in text and second.reference in text
    assert "Trespass notice" in text


def test_a_register_page_sends_as_many_statements_for_twelve_people_as_for_two(app, world, panel):
    """Each entry shows its person's date of birth: read with the page, not one query an entry."""
    manager = signed_in(app, world.users["manager"])
    url = f"/panels/{panel.id}/persons"

    def statements():
        manager.get(url)
        with counting() as sent:
            assert "born" in page_text(manager.get(url))
        return len(sent)

    for n in range(2):
        accepted(world, panel, today() - dt.timedelta(days=n), first=f"Few{n}",
                 persons=({**SHADY, "last_name": f"Fakeadult{n}"},))
    db.session.commit()
    few = statements()
    for n in range(10):
        accepted(world, panel, today() - dt.timedelta(days=n), first=f"Many{n}",
                 persons=({**SHADY, "last_name": f"Fakeadultmany{n}"},))
    db.session.commit()
    assert statements() == few


def test_registers_stay_within_their_panel(app, world, panel):
    case = accepted(world, panel, today())
    other_panel = another_panel(world, PanelKind.MACE, roles=())
    stranger = UserFactory(agency=world.agencies.police)
    from tests.factories import PanelRoleFactory

    PanelRoleFactory(panel=other_panel, user=stranger, role=Role.MANAGER)
    elsewhere = mace_case(stranger, stranger, other_panel, today(), first="Elsa")
    db.session.commit()
    mine = signed_in(app, stranger)
    text = page_text(mine.get(f"/panels/{other_panel.id}/persons"))
    assert elsewhere.reference in text and case.reference not in text
    assert mine.get(f"/panels/{panel.id}/persons").status_code == 403
    person_name = next(p.person for p in case.parties if p.role == PartyRole.PERSON_OF_CONCERN).names[0]
    assert mine.get(f"/panels/{panel.id}/persons/{person_name.id}").status_code == 403
    # Another panel's entry id through this panel's address: not found.
    their_name = next(p.person for p in elsewhere.parties if p.role == PartyRole.PERSON_OF_CONCERN).names[0]
    manager = signed_in(app, world.users["manager"])
    assert manager.get(f"/panels/{panel.id}/persons/{their_name.id}").status_code == 404


def test_a_representative_whose_agency_may_not_see_identity_sees_no_names(app, world, panel):
    rules = {kind: set(cats) for kind, cats in DEFAULT_RULES.items()}
    rules[AgencyKind.IDVA] -= {Category.IDENTITY, Category.CONTACT}
    set_rules(world.users["manager"], panel, rules)
    case = accepted(world, panel, today())
    rep = signed_in(app, world.users["representative"])
    for register in ConcernKind:
        text = page_text(rep.get(f"/panels/{panel.id}/{register}"))
        assert "not shown to you" in text
        for secret in ("Shady", "Fakeadult", "Imaginary Parade", "ZZ3 3ZZ", case.reference):
            assert secret not in text
    location_id = case.locations[0].location_id
    assert rep.get(f"/panels/{panel.id}/locations/{location_id}").status_code == 404


def test_linking_and_unlinking_with_a_reason(app, world, panel):
    named = accepted(world, panel, today() - dt.timedelta(days=5))
    other = accepted(world, panel, today(), first="Otto", persons=(), locations=())
    location_id = named.locations[0].location_id
    chair = signed_in(app, world.users["chair"])
    url = f"/panels/{panel.id}/locations/{location_id}"
    no_reason = post_form(chair, url, {"reference": other.reference, "reason": ""}, token_from=url)
    assert "Give the reason for the link" in page_text(no_reason)
    unknown = post_form(chair, url, {"reference": "MACE-1999-0001", "reason": "Invented"}, token_from=url)
    assert "No case of this panel has that reference" in page_text(unknown)
    linked = post_form(chair, url, {"reference": other.reference.lower(), "reason": "Invented: seen there"},
                       token_from=url)
    assert linked.status_code == 302
    [link] = db.session.query(ConcernLink).all()
    assert link.action == LinkAction.LINKED and link.reason == "Invented: seen there"
    assert link.address_index == named.locations[0].location.address_index and link.name_dob_index is None
    assert audit_events("mace.concern_linked", link.id)[0].detail["case"] == str(other.id)
    text = page_text(chair.get(f"/panels/{panel.id}/locations"))
    assert named.reference in text and other.reference in text
    # Unlinking the case whose referral names it: asked to confirm, then gone from the entry.
    unlink_url = f"{url}/cases/{named.id}/unlink"
    confirm = chair.get(unlink_url)
    assert "although its referral names them" in page_text(confirm)
    assert "Give the reason" in page_text(post_form(chair, unlink_url, {"reason": " "}, token_from=unlink_url))
    assert post_form(chair, unlink_url, {"reason": "Invented: wrong shop"}, token_from=unlink_url).status_code == 302
    chair_user = fresh(type(world.users["chair"]), world.users["chair"].id)
    entry = mace.entry_for(chair_user, fresh(type(panel), panel.id), ConcernKind.LOCATION, location_id)
    assert [lc.case.id for lc in entry.cases] == [other.id]
    assert audit_events("mace.concern_unlinked")
    # The manager reads the reasons; a representative reads the entry but neither links nor unlinks.
    assert "Invented: wrong shop" in page_text(signed_in(app, world.users["manager"]).get(url))
    rep = signed_in(app, world.users["representative"])
    rep_page = page_text(rep.get(url))
    assert other.reference in rep_page and "Invented: wrong shop" not in rep_page and "Link the case" not in rep_page
    assert rep.get(f"{url}/cases/{other.id}/unlink").status_code == 403


def test_an_entry_whose_cases_are_all_unlinked_is_not_listed(world, panel):
    case = accepted(world, panel, today(), locations=())
    entry = mace.register_entries(world.users["manager"], panel, ConcernKind.PERSON)[0]
    mace.unlink_case(world.users["manager"], panel, entry, case, "Invented: not the same man")
    db.session.commit()
    assert mace.register_page(world.users["manager"], panel, ConcernKind.PERSON, 1).total == 0


def test_register_pages_declare_what_they_show(app, world, panel):
    from marac.sharing.models import SharingRecord

    case = accepted(world, panel, today())
    rep = signed_in(app, world.users["representative"])
    before = row_count(SharingRecord, SharingRecord.case_id == case.id)
    assert rep.get(f"/panels/{panel.id}/persons").status_code == 200
    categories = {r.category for r in db.session.query(SharingRecord).filter_by(case_id=case.id)}
    assert row_count(SharingRecord, SharingRecord.case_id == case.id) > before
    assert Category.IDENTITY in categories
    assert audit_events("mace.persons_viewed")


# --- demo ------------------------------------------------------------------------------------------

def test_the_demo_gives_the_mace_panel_reviews_due_and_overdue_and_register_links(world, panel):
    from marac.demo.cases import seed_mace

    for weeks in (3, 11, 13, 25, 26, 38, 40, 51):
        accepted(world, panel, today() - dt.timedelta(weeks=weeks), first=f"Demo{weeks}")
    accepted(world, panel, today(), first="Unnamed", persons=(), locations=())
    users = {u.email: u for u in world.users.values()}
    added = seed_mace({panel.name: panel}, users)
    db.session.commit()
    assert added > 0 and row_count(Review) > 0
    states = {d.state for d in mace.reviews_due(panel, 1).items}
    assert states == {ReviewState.OVERDUE, ReviewState.DUE}
    assert {link.action for link in db.session.query(ConcernLink)} == {LinkAction.LINKED}
    for kind in ConcernKind:
        [entry] = mace.register_entries(world.users["manager"], panel, kind)
        assert len(entry.cases) == 9  # eight naming it, and the one the manager linked
    assert seed_mace({panel.name: panel}, users) == 0  # idempotent


def test_the_reviews_list_names_a_child_only_to_an_agency_that_may_see_children(app, world, panel):
    rules = {kind: set(cats) for kind, cats in DEFAULT_RULES.items()}
    rules[AgencyKind.IDVA] -= {Category.CHILDREN}
    set_rules(world.users["manager"], panel, rules)
    case = accepted(world, panel, today() - dt.timedelta(weeks=13), first="Namey")
    rep_text = page_text(signed_in(app, world.users["representative"]).get(f"/panels/{panel.id}/reviews"))
    assert case.reference in rep_text and "Namey" not in rep_text and "Withheld" in rep_text
    chair_text = page_text(signed_in(app, world.users["chair"]).get(f"/panels/{panel.id}/reviews"))  # police
    assert "Namey Fakechild" in chair_text


def test_a_mace_pack_names_risk_on_the_mace_scale(world, panel):
    from marac.packs.content import case_rows
    from tests.factories import MeetingFactory

    case = accepted(world, panel, today(), indicator="0")
    meeting = MeetingFactory(panel=panel, manager=world.users["manager"], cases=[case])
    rows = dict(case_rows(case, set(Category), meeting))
    assert rows["Risk level"] == "Low"
    assert not any(label in str(value) for value in rows.values() for label in MARAC_ONLY_LEVELS)


def test_the_reviews_list_shows_the_last_review_and_its_risk(app, world, panel):
    case = accepted(world, panel, today() - dt.timedelta(weeks=26), indicator="3")
    review(world, case, today() - dt.timedelta(weeks=13), level=RiskLevel.LOW)
    [due] = mace.reviews_due(panel, 1).items
    assert due.state == ReviewState.OVERDUE and due.last.risk_level == RiskLevel.LOW
    row = [r for r in soup(signed_in(app, world.users["manager"]).get(f"/panels/{panel.id}/reviews")).select("tbody tr")]
    assert len(row) == 1 and ": Low" in row[0].get_text() and "High" in row[0].get_text()  # now, and at referral


@pytest.mark.no_db_transaction
def test_the_migration_moves_mace_cases_to_low_and_back(tmp_path):
    """Migration 0015 with rows present: a MACE case assessed "standard" before it is "low" after it (and
    "standard" again on downgrade); an ASB case keeps "standard" both ways."""
    import flask_migrate
    from sqlalchemy import text

    from config import TestConfig
    from marac import create_app
    from marac.keys.services import init_keys
    from tests.factories import CaseFactory, PanelFactory
    from tests.helpers import reset_schema, scratch_database_url

    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": scratch_database_url("mace_low", tmp_path)})
    with app.app_context():
        reset_schema(db.engine)
        flask_migrate.upgrade()
        init_keys()
        mace_case_ = CaseFactory(panel=PanelFactory(kind=PanelKind.MACE), risk_level=RiskLevel.LOW)
        asb_case = CaseFactory(panel=PanelFactory(kind=PanelKind.ASB), risk_level=RiskLevel.STANDARD)
        ids = {"mace": mace_case_.id, "asb": asb_case.id}
        db.session.commit()
        db.session.remove()

        def levels():
            with db.engine.connect() as conn:
                found = dict(conn.execute(text("SELECT id, risk_level FROM cases")).all())
            return {name: found.get(case_id, found.get(str(case_id), found.get(case_id.hex))) for name, case_id in ids.items()}

        flask_migrate.downgrade(revision="20261206_0011")
        assert levels() == {"mace": RiskLevel.STANDARD, "asb": RiskLevel.STANDARD}
        flask_migrate.upgrade()
        assert levels() == {"mace": RiskLevel.LOW, "asb": RiskLevel.STANDARD}
        db.engine.dispose()
