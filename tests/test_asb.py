"""The ASB taskforce's own work: the interventions ladder (its order, closure orders of at most three
months, criminal justice withheld), the response time as a date in working days (missed ones flagged,
withheld with the risk checklist), and ASB Case Reviews (the threshold counted at its boundaries,
deadlines in working days, the steps in order, the four published figures)."""
import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select

from marac.agencies.models import AgencyKind
from marac.asb import services as asb
from marac.asb.models import (AppealOutcome, CaseReviewApplication, Decision, Intervention, InterventionOutcome,
                              ReviewStage, Rung, add_months, closure_order_latest_end)
from marac.cases import services as cases
from marac.cases.models import Case, CaseStatus
from marac.core.steps import StepRefused
from marac.core.timeutil import today
from marac.extensions import db
from marac.panels.models import Panel, PanelKind, Role
from marac.sharing.models import DEFAULT_RULES, Category
from marac.sharing.services import set_rules
from tests.factories import AgencyFactory, PanelFactory, PanelMemberFactory, PanelRoleFactory, UserFactory
from tests.helpers import (asb_case, audit_events, fresh, input_value, page_of, page_text, post_form, row_with,
                           signed_in, soup, table_rows, tags_in, text_by_id, textarea_value)
from tests.referrals import date_parts


@pytest.fixture
def taskforce(app):
    """An ASB taskforce: police, housing and the council's community safety team as members; a manager
    (council), a housing representative (housing may not see criminal justice by default), a police
    representative, a chair, a steering member; and an accepted case with two respondents."""
    police, housing = AgencyFactory(kind=AgencyKind.POLICE), AgencyFactory(kind=AgencyKind.HOUSING)
    council = AgencyFactory(kind=AgencyKind.OTHER)
    panel = PanelFactory(kind=PanelKind.ASB)
    for agency in (police, housing, council):
        PanelMemberFactory(panel=panel, agency=agency)
    users = {"manager": UserFactory(agency=council), "police": UserFactory(agency=police),
             "housing": UserFactory(agency=housing), "chair": UserFactory(agency=police),
             "steering": UserFactory(agency=council)}
    for name, role in (("manager", Role.MANAGER), ("police", Role.REPRESENTATIVE), ("housing", Role.REPRESENTATIVE),
                       ("chair", Role.CHAIR), ("steering", Role.STEERING)):
        PanelRoleFactory(panel=panel, user=users[name], role=role)
    set_rules(users["manager"], panel, DEFAULT_RULES)
    case = asb_case(users["police"], panel, users["manager"], respondents=("Noisy", "Rowdy"),
                    on=dt.date(2026, 1, 5))
    db.session.commit()
    return type("Taskforce", (), dict(panel=panel, users=users, case=case, police=police, housing=housing,
                                      council=council))


def step(values=None, **overrides):
    """A step of the ladder's values, a warning letter by default."""
    base = {"respondent_number": 1, "rung": Rung.WARNING_LETTER, "taken_on": dt.date(2026, 2, 2), "agency_id": None,
            "outcome": InterventionOutcome.IN_FORCE, "review_on": None, "ends_on": None, "note": None}
    return {**base, **(values or {}), **overrides}


# --- the ladder ---------------------------------------------------------------------------------

def test_the_ladder_is_in_ladder_order_by_respondent_then_by_date_within_a_rung(app, taskforce):
    t, manager = taskforce, taskforce.users["manager"]
    recorded = [
        step(rung=Rung.POSSESSION, taken_on=dt.date(2026, 2, 1), agency_id=t.housing.id),
        step(rung=Rung.CPW, taken_on=dt.date(2026, 3, 9), agency_id=t.council.id),
        step(rung=Rung.WARNING_LETTER, taken_on=dt.date(2026, 4, 1), agency_id=t.housing.id),
        step(rung=Rung.CPW, taken_on=dt.date(2026, 3, 2), agency_id=t.council.id),
        step(rung=Rung.CPN_FIXED_PENALTY, taken_on=dt.date(2026, 3, 20), agency_id=t.council.id),
        step(respondent_number=2, rung=Rung.ABA, taken_on=dt.date(2026, 1, 20), agency_id=t.police.id),
        step(rung=Rung.CPN, taken_on=dt.date(2026, 3, 16), agency_id=t.council.id),
    ]
    for values in recorded:
        asb.record_intervention(manager, t.case, values)
    db.session.commit()
    order = [(s.respondent_number, s.rung, s.taken_on) for s in asb.ladder(t.case)]
    assert order == [(1, Rung.WARNING_LETTER, dt.date(2026, 4, 1)), (1, Rung.CPW, dt.date(2026, 3, 2)),
                     (1, Rung.CPW, dt.date(2026, 3, 9)), (1, Rung.CPN, dt.date(2026, 3, 16)),
                     (1, Rung.CPN_FIXED_PENALTY, dt.date(2026, 3, 20)), (1, Rung.POSSESSION, dt.date(2026, 2, 1)),
                     (2, Rung.ABA, dt.date(2026, 1, 20))]
    # The case page shows the same order, under each respondent's name.
    page = signed_in(app, manager).get(f"/cases/{t.case.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    ladder = soup(html).select_one("#interventions").find_all_next("h3")
    assert [h.get_text(" ", strip=True) for h in ladder[:2]] == ["Respondent 1: Noisy Fakerespondent",
                                                                 "Respondent 2: Rowdy Fakerespondent"]
    rows = [r.find("td").get_text(" ", strip=True).split(" Ends")[0] for r in table_rows(html) if r.find("td")]
    assert rows[:7] == [Rung.WARNING_LETTER.label, Rung.CPW.label, Rung.CPW.label, Rung.CPN.label,
                        Rung.CPN_FIXED_PENALTY.label, Rung.POSSESSION.label, Rung.ABA.label]


@pytest.mark.parametrize("made, latest", [
    (dt.date(2026, 1, 10), dt.date(2026, 4, 10)),
    (dt.date(2026, 11, 30), dt.date(2027, 2, 28)),  # no 30 February: the month's last day
    (dt.date(2027, 11, 30), dt.date(2028, 2, 29)),  # a leap year
    (dt.date(2026, 12, 31), dt.date(2027, 3, 31)),
])
def test_a_closure_order_runs_three_months_to_the_day(made, latest):
    assert closure_order_latest_end(made) == latest
    assert add_months(latest, -3) <= made


def test_a_closure_order_of_three_months_is_recorded_and_a_day_longer_is_refused(taskforce):
    t, manager = taskforce, taskforce.users["manager"]
    order = step(rung=Rung.CLOSURE_ORDER, taken_on=dt.date(2026, 1, 10), agency_id=t.police.id,
                 ends_on=dt.date(2026, 4, 10))
    assert asb.record_intervention(manager, t.case, order).ends_on == dt.date(2026, 4, 10)
    with pytest.raises(StepRefused) as refused:
        asb.record_intervention(manager, t.case, {**order, "ends_on": dt.date(2026, 4, 11)})
    assert refused.value.field == "ends_on"
    assert "at most 3 months" in refused.value.message and "10 April 2026" in refused.value.message
    with pytest.raises(StepRefused, match="Enter the date the closure order ends"):
        asb.record_intervention(manager, t.case, {**order, "ends_on": None})


def test_the_form_refuses_a_longer_closure_order_and_keeps_what_was_typed(app, taskforce):
    t = taskforce
    client = signed_in(app, t.users["police"])
    url = f"/cases/{t.case.id}/interventions/new"
    data = {"respondent_number": "2", "rung": Rung.CLOSURE_ORDER, **date_parts("taken_on", dt.date(2026, 1, 10)),
            "agency_id": str(t.police.id), "outcome": InterventionOutcome.IN_FORCE,
            **date_parts("review_on", None), **date_parts("ends_on", dt.date(2026, 4, 11)), "note": "Invented note"}
    response = post_form(client, url, data)
    text = page_text(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "A closure order lasts at most 3 months" in text and "10 April 2026" in text
    assert soup(response.get_data(as_text=True)).select_one("#ends_on-day")["value"] == "11"
    assert db.session.execute(select(Intervention)).scalars().all() == []
    response = post_form(client, url, {**data, **date_parts("ends_on", dt.date(2026, 4, 10))})
    assert response.status_code == 302
    saved = db.session.execute(select(Intervention)).scalar_one()
    assert (saved.respondent_number, saved.ends_on, saved.note) == (2, dt.date(2026, 4, 10), "Invented note")
    assert audit_events("intervention.recorded")


def test_the_ladder_is_criminal_justice_withheld_from_an_agency_without_it(app, taskforce):
    t = taskforce
    asb.record_intervention(t.users["manager"], t.case, step(agency_id=t.housing.id, note="Invented secret note"))
    db.session.commit()
    step_id = db.session.execute(select(Intervention.id)).scalar_one()
    assert Category.CRIMINAL_JUSTICE not in DEFAULT_RULES[AgencyKind.HOUSING]
    housing = signed_in(app, t.users["housing"])
    page = housing.get(f"/cases/{t.case.id}")
    text = page_text(page.get_data(as_text=True))
    assert page.status_code == 200 and "Interventions ladder Withheld" in text
    assert "Invented secret note" not in text and Rung.WARNING_LETTER.label not in text
    assert housing.get(f"/cases/{t.case.id}/interventions/new").status_code == 403
    assert housing.get(f"/interventions/{step_id}/edit").status_code == 403  # its agency's, but withheld
    police = signed_in(app, t.users["police"])
    assert "Invented secret note" in police.get(f"/cases/{t.case.id}").get_data(as_text=True)
    assert police.get(f"/interventions/{step_id}/edit").status_code == 403  # not the police's step
    assert signed_in(app, t.users["chair"]).get(f"/cases/{t.case.id}/interventions/new").status_code == 403


def test_the_owner_agency_updates_its_step_and_a_stale_edit_is_refused(app, taskforce):
    t = taskforce
    saved = asb.record_intervention(t.users["police"], t.case, step(rung=Rung.INJUNCTION, agency_id=t.police.id,
                                                                    outcome=InterventionOutcome.PENDING))
    db.session.commit()
    saved_id, version = saved.id, saved.version
    client = signed_in(app, t.users["police"])
    url = f"/interventions/{saved_id}/edit"
    data = {"version": str(version), "respondent_number": "1", "rung": Rung.INJUNCTION,
            **date_parts("taken_on", dt.date(2026, 2, 2)), "agency_id": str(t.police.id),
            "outcome": InterventionOutcome.BREACHED, **date_parts("review_on", dt.date(2026, 12, 20)),
            **date_parts("ends_on", None), "note": ""}
    assert post_form(client, url, data).status_code == 302
    assert db.session.get(Intervention, saved_id).outcome == InterventionOutcome.BREACHED
    stale = post_form(client, url, {**data, "outcome": InterventionOutcome.COMPLIED})
    assert stale.status_code == 200 and "Someone else changed this intervention" in stale.get_data(as_text=True)
    assert db.session.get(Intervention, saved_id).outcome == InterventionOutcome.BREACHED


# --- the response time --------------------------------------------------------------------------

@pytest.mark.parametrize("referred, yes, due", [
    (dt.date(2026, 8, 28), 8, dt.date(2026, 9, 1)),    # high: 1 working day, over a weekend and a bank holiday
    (dt.date(2026, 12, 18), 0, dt.date(2027, 1, 6)),   # standard: 10 working days, over Christmas and New Year
    (dt.date(2026, 3, 2), 4, dt.date(2026, 3, 5)),     # medium: 3 working days
])
def test_the_response_time_is_a_date_in_working_days(taskforce, referred, yes, due):
    case = asb_case(taskforce.users["police"], taskforce.panel, on=referred, yes=yes)
    assert case.derived("response_due_on", set(Category)) == due
    assert case.derived("response_due_on", set(Category) - {Category.RISK_CHECKLIST}) is not due


def test_a_missed_response_time_is_flagged_and_filtered_for_those_who_may_see_the_risk_checklist(
        app, taskforce, clock):
    t = taskforce
    panel_id = t.panel.id
    waiting = asb_case(t.users["police"], t.panel, first="Waity", on=dt.date(2026, 11, 2), yes=8)  # due 3 Nov
    late = asb_case(t.users["police"], t.panel, first="Latey", on=dt.date(2026, 11, 2), yes=8)
    in_time = asb_case(t.users["police"], t.panel, first="Timely", on=dt.date(2026, 11, 2), yes=8)
    for case, day in ((late, dt.date(2026, 11, 4)), (in_time, dt.date(2026, 11, 3))):
        case.status, case.screened_at = CaseStatus.ACCEPTED, dt.datetime.combine(day, dt.time(16), dt.timezone.utc)
    db.session.commit()
    assert [c.response_missed for c in (waiting, late, in_time)] == [True, True, False]
    references = {c.reference: c.id for c in (waiting, late, in_time, t.case)}
    manager = signed_in(app, t.users["manager"])
    listing = manager.get(f"/panels/{panel_id}/cases?response=yes").get_data(as_text=True)
    shown = {row.find("a").get_text() for row in table_rows(listing) if row.find("a")}
    late_ref = next(ref for ref in references if "0003" in ref)
    # The first case too: referred on 5 January (high priority), accepted only when the test began.
    assert shown == set(references) - {next(ref for ref in references if "0004" in ref)}
    assert ("red", "Response missed") in tags_in(row_with(listing, late_ref))
    assert "Respond by 3 November 2026 Response missed" in page_text(manager.get(f"/cases/{references[late_ref]}").get_data(as_text=True))
    # An agency that may not see the risk checklist (education, by default) has neither tag nor filter.
    panel = db.session.get(Case, references[late_ref]).panel
    education = AgencyFactory(kind=AgencyKind.EDUCATION)
    PanelMemberFactory(panel=panel, agency=education)
    teacher = UserFactory(agency=education)
    PanelRoleFactory(panel=panel, user=teacher, role=Role.REPRESENTATIVE)
    db.session.commit()
    other = signed_in(app, teacher)
    listing = other.get(f"/panels/{panel_id}/cases?response=yes").get_data(as_text=True)
    assert "Response missed" not in listing and 'name="response"' not in listing
    assert len([r for r in table_rows(listing) if r.find("a")]) == 4  # the filter is ignored, not applied
    assert "Response missed" not in other.get(f"/cases/{references[late_ref]}").get_data(as_text=True)


# --- ASB Case Reviews ---------------------------------------------------------------------------

def application(manager, panel, received, hate=False, other=0, name="Compa Fakeneighbour", dob=dt.date(1950, 3, 4)):
    return asb.apply(manager, panel, {"received_on": received, "complainant_name": name, "complainant_dob": dob,
                                      "complainant_contact": None, "applicant": None, "summary": None,
                                      "is_hate": hate, "other_complaints": other})


def test_the_threshold_counts_complaints_six_months_to_the_day(taskforce):
    """Received on 15 June: referrals from 15 December on count, one of 14 December does not; the
    complainant is found by name and date of birth; another complainant, a draft, a referral after the
    application and another panel's case do not count."""
    t, manager, police = taskforce, taskforce.users["manager"], taskforce.users["police"]
    for on in (dt.date(2025, 12, 14), dt.date(2025, 12, 15), dt.date(2026, 3, 1)):
        asb_case(police, t.panel, on=on)
    asb_case(police, t.panel, first="Other", on=dt.date(2026, 3, 1))
    asb_case(police, t.panel, on=dt.date(2026, 6, 17))  # after the applications
    draft = cases.new_case(police, t.panel)
    cases.save_answers(police, draft, {"complainant": {"first_names": "Compa", "last_name": "Fakeneighbour",
                                                       "date_of_birth": "1950-03-04"}, "referred_on": "2026-03-01"},
                       submit=False)
    elsewhere = PanelFactory(kind=PanelKind.ASB)
    PanelMemberFactory(panel=elsewhere, agency=t.police)
    asb_case(police, elsewhere, on=dt.date(2026, 3, 1))
    # With t.case (5 January): 15 December, 5 January and 1 March are in the window.
    on_the_day = application(manager, t.panel, dt.date(2026, 6, 15))
    assert (on_the_day.complaints_found, on_the_day.meets_threshold) == (3, True)
    # A day later the window starts on 16 December: two complaints, below three.
    day_after = application(manager, t.panel, dt.date(2026, 6, 16))
    assert (day_after.complaints_found, day_after.meets_threshold) == (2, False)
    # A day earlier it starts on 14 December: four.
    day_before = application(manager, t.panel, dt.date(2026, 6, 14))
    assert day_before.complaints_found == 4


def test_two_complaints_do_not_meet_the_threshold_and_three_do(taskforce):
    t, manager, police = taskforce, taskforce.users["manager"], taskforce.users["police"]
    # t.case was referred on 5 January 2026; add one more inside the window.
    asb_case(police, t.panel, on=dt.date(2026, 2, 1))
    two = application(manager, t.panel, dt.date(2026, 7, 5))  # window from 5 January: both count
    assert (two.complaints_found, two.meets_threshold) == (2, False)
    outside = application(manager, t.panel, dt.date(2026, 7, 6))  # window from 6 January: 5 January is out
    assert (outside.complaints_found, outside.meets_threshold) == (1, False)
    three = application(manager, t.panel, dt.date(2026, 7, 5), other=1)  # one confirmed by the police
    assert (three.complaints_counted, three.meets_threshold) == (3, True)
    hate = application(manager, t.panel, dt.date(2026, 7, 6), hate=True)
    assert (hate.threshold, hate.meets_threshold) == (1, True)
    stranger = application(manager, t.panel, dt.date(2026, 7, 5), name="Nobody Fakeperson")
    assert stranger.complaints_found == 0
    # A referral that names the complainant by another name they are known by counts as theirs; the
    # same name with another date of birth is someone else.
    asb_case(police, t.panel, first="Compy", last="Othername", aliases="Compa Fakeneighbour", on=dt.date(2026, 3, 3))
    asb_case(police, t.panel, dob="1951-03-04", on=dt.date(2026, 3, 4))
    assert application(manager, t.panel, dt.date(2026, 7, 5)).complaints_found == 3
    assert audit_events("case_review.applied") and "Compa" not in str([e.detail for e in
                                                                       audit_events("case_review.applied")])


def test_deadlines_are_working_days_across_bank_holidays_and_weekends(taskforce):
    t, manager = taskforce, taskforce.users["manager"]
    received = application(manager, t.panel, dt.date(2026, 12, 23))  # a Wednesday before Christmas
    # 5 working days: 24, 29, 30, 31 December, 4 January (25 and 28 December, 1 January are bank holidays).
    assert received.acknowledge_by == dt.date(2027, 1, 4)
    assert received.decide_by == dt.date(2027, 1, 11)
    asb.acknowledge(manager, received, dt.date(2026, 12, 24), None)
    asb.decide(manager, received, Decision.MET, "Three complaints", dt.date(2027, 3, 26), None)  # a Friday
    # 20 working days from Friday 26 March 2027: Good Friday and Easter Monday (26 and 29 March) don't count.
    assert received.review_by == dt.date(2027, 4, 26)


def test_the_steps_go_in_order_and_overdue_ones_are_flagged(app, taskforce, clock):
    t, manager = taskforce, taskforce.users["manager"]
    applied = application(manager, t.panel, dt.date(2026, 11, 2))  # acknowledge by 9 November
    with pytest.raises(StepRefused, match="acknowledgement before the decision"):
        asb.decide(manager, applied, Decision.NOT_MET, "Why", dt.date(2026, 11, 3), None)
    with pytest.raises(StepRefused, match="threshold is decided to be met"):
        asb.record_review(manager, applied, dt.date(2026, 11, 20), None, None)
    with pytest.raises(StepRefused, match="before its recommendations"):
        asb.add_recommendation(manager, applied, t.police.id, "Invented", None)
    with pytest.raises(StepRefused):
        asb.acknowledge(t.users["police"], applied, dt.date(2026, 11, 3), None)  # the manager's
    db.session.commit()
    client = signed_in(app, t.users["manager"])
    listing = client.get(f"/panels/{t.panel.id}/case-reviews").get_data(as_text=True)
    assert applied.stage == ReviewStage.RECEIVED
    assert ("red", "Acknowledgement overdue") in tags_in(row_with(listing, applied.reference))
    assert ("red", "Decision overdue") in tags_in(row_with(listing, applied.reference))  # by 16 November
    page = client.get(f"/case-reviews/{applied.id}")
    assert "Acknowledgement was due by 9 November 2026" in page_text(page.get_data(as_text=True))
    # Through the pages: acknowledge, decide (not met), appeal upheld.
    base = f"/case-reviews/{applied.id}"
    assert post_form(client, f"{base}/acknowledge", {"acknowledge-version": str(applied.version),
                                                     **date_parts("acknowledge-on", dt.date(2026, 11, 10))},
                     token_from=base).status_code == 302
    missing_reason = post_form(client, f"{base}/decision", {
        "decision-version": str(db.session.get(CaseReviewApplication, applied.id).version),
        "decision-decision": Decision.NOT_MET, **date_parts("decision-on", dt.date(2026, 11, 12))}, token_from=base)
    assert missing_reason.status_code == 200 and "Give the reason for the decision" in page_text(
        missing_reason.get_data(as_text=True))
    assert post_form(client, f"{base}/decision", {
        "decision-version": str(db.session.get(CaseReviewApplication, applied.id).version),
        "decision-decision": Decision.NOT_MET, "decision-reason": "Invented: one complaint only",
        **date_parts("decision-on", dt.date(2026, 11, 12))}, token_from=base).status_code == 302
    assert post_form(client, f"{base}/appeal", {
        "appeal-version": str(db.session.get(CaseReviewApplication, applied.id).version),
        **date_parts("appeal-received_on", dt.date(2026, 11, 20)), "appeal-outcome": AppealOutcome.UPHELD,
        **date_parts("appeal-decided_on", dt.date(2026, 11, 27))}, token_from=base).status_code == 302
    saved = db.session.get(CaseReviewApplication, applied.id)
    assert (saved.decision, saved.appeal_outcome, saved.stage) == (Decision.NOT_MET, AppealOutcome.UPHELD,
                                                                   ReviewStage.NOT_MET)
    listing = client.get(f"/panels/{t.panel.id}/case-reviews").get_data(as_text=True)
    assert tags_in(row_with(listing, applied.reference)) == [("red", "Acknowledgement overdue")]


def _page_post(page, **typed):
    """What the page's one form sends (every box, choice and token as shown), with `typed` over it."""
    form = soup(page).find("form", attrs={"method": "post", "action": lambda a: a and "/case-reviews/" in a})
    data = {}
    for box in form.find_all("input"):
        if box.get("type") == "radio":
            if box.has_attr("checked"):
                data[box["name"]] = box["value"]
        elif box.get("name"):
            data[box["name"]] = box.get("value", "")
    data.update({t["name"]: t.get_text() for t in form.find_all("textarea")})
    for select_box in form.find_all("select"):
        chosen = select_box.find("option", selected=True)
        data[select_box["name"]] = chosen["value"] if chosen else ""
    return {**data, **typed}


def test_each_step_button_of_a_case_review_keeps_what_is_typed_in_the_other_steps(app, taskforce):
    """The page is one form: a step's button refused, or taken, never drops the other steps' boxes; a
    step the stage would now hide stays on the page while it holds text not recorded."""
    t, manager = taskforce, taskforce.users["manager"]
    decided = today() - dt.timedelta(days=10)
    applied = application(manager, t.panel, today() - dt.timedelta(days=20), other=3)
    asb.acknowledge(manager, applied, today() - dt.timedelta(days=15), None)
    asb.decide(manager, applied, Decision.MET, "Invented: three complaints", decided, None)
    db.session.commit()
    client = signed_in(app, manager)
    base = f"/case-reviews/{applied.id}"
    page = page_of(client.get(base))
    forms = [f for f in soup(page).find_all("form", attrs={"method": "post"})
             if not f.get("action", "").endswith("/sign-out")]
    assert len(forms) == 1 and len(forms[0].find_all("button")) == 3  # decision, review, appeal
    typed = {"decision-reason": "Invented: the reason, reworded", "review-notes": "Invented: what the review found",
             "appeal-notes": "Invented: the appeal says", **date_parts("appeal-received_on", decided)}

    # "Record the review" with its date before the decision: refused on its field, everything kept.
    early = client.post(f"{base}/review", data=_page_post(page, **typed, **date_parts(
        "review-held_on", decided - dt.timedelta(days=1))))
    assert early.status_code == 200
    shown = page_of(early)
    assert "The review cannot be before the decision" in text_by_id(shown, "review-held_on-error")
    assert textarea_value(shown, "decision-reason") == typed["decision-reason"]
    assert textarea_value(shown, "review-notes") == typed["review-notes"]
    assert textarea_value(shown, "appeal-notes") == typed["appeal-notes"]
    assert input_value(shown, "appeal-received_on-day") == str(decided.day)
    assert fresh(CaseReviewApplication, applied.id).review_held_on is None

    # "Record the appeal" from that page, valid: recorded, and the review and decision typed are still there.
    taken = client.post(f"{base}/appeal", data=_page_post(shown, **{"appeal-outcome": AppealOutcome.PENDING}))
    assert taken.status_code == 200
    shown = page_of(taken)
    assert "Appeal recorded." in shown
    assert textarea_value(shown, "review-notes") == typed["review-notes"]
    assert textarea_value(shown, "decision-reason") == typed["decision-reason"]
    assert "This is not recorded yet: press “Record the review” to record it" in page_text(shown)
    saved = fresh(CaseReviewApplication, applied.id)
    assert (saved.appeal_received_on, saved.appeal_notes, saved.review_held_on, saved.decision_reason) == (
        decided, typed["appeal-notes"], None, "Invented: three complaints")

    # "Record the review" from that page: recorded at the version the page now carries; the decision form,
    # which a held review hides, stays while it holds the reworded reason.
    held = client.post(f"{base}/review", data=_page_post(shown, **date_parts("review-held_on", decided)))
    assert held.status_code == 200
    shown = page_of(held)
    assert "Review meeting recorded." in shown
    assert textarea_value(shown, "decision-reason") == typed["decision-reason"]
    assert "press “Record the decision” to record it" in page_text(shown)
    assert fresh(CaseReviewApplication, applied.id).review_notes == typed["review-notes"]

    # A recommendation with an error keeps the decision's text too; nothing typed elsewhere: back to the page.
    missing = client.post(f"{base}/recommendations", data=_page_post(shown, **{"recommendation-text": ""}))
    assert missing.status_code == 200 and "Write the recommendation" in page_text(page_of(missing))
    assert textarea_value(page_of(missing), "decision-reason") == typed["decision-reason"]
    clean = _page_post(page_of(client.get(base)), **{"recommendation-owner_agency_id": str(t.police.id),
                                                     "recommendation-text": "Invented: meet monthly"})
    assert client.post(f"{base}/recommendations", data=clean).status_code == 302
    assert [r.text for r in fresh(CaseReviewApplication, applied.id).recommendations] == ["Invented: meet monthly"]


def test_the_four_published_figures_from_a_hand_built_year(app, taskforce):
    """Financial year April 2026 to March 2027: five applications received (one more in March 2026, one
    in April 2027), the threshold not met twice (one decided in the year for an application of the year
    before), three reviews held, two of them with recommendations."""
    t, manager = taskforce, taskforce.users["manager"]

    def through(received, decision=None, decided=None, reviewed=None, recommendations=0):
        a = application(manager, t.panel, received)
        if decision:
            asb.acknowledge(manager, a, received, None)
            asb.decide(manager, a, decision, "Invented", decided or received, None)
        if reviewed:
            asb.record_review(manager, a, reviewed, None, None)
            for _ in range(recommendations):
                asb.add_recommendation(manager, a, t.police.id, "Invented recommendation", None)
        return a

    through(dt.date(2026, 3, 20), Decision.NOT_MET, decided=dt.date(2026, 4, 2))  # received the year before
    through(dt.date(2026, 4, 1), Decision.NOT_MET)
    through(dt.date(2026, 5, 5), Decision.MET, reviewed=dt.date(2026, 6, 1), recommendations=2)
    through(dt.date(2026, 9, 9), Decision.MET, reviewed=dt.date(2026, 10, 1))
    through(dt.date(2027, 1, 4), Decision.MET, reviewed=dt.date(2027, 3, 31), recommendations=1)
    through(dt.date(2027, 3, 31))
    through(dt.date(2027, 4, 1), Decision.MET, reviewed=dt.date(2027, 4, 2), recommendations=1)  # next year
    db.session.commit()
    start, end, _ = asb.financial_year(2026)
    assert asb.statutory_figures(t.panel, start, end) == {"applications": 5, "not_met": 2, "reviews": 3,
                                                          "with_recommendations": 2}
    steering = signed_in(app, t.users["steering"])
    page = steering.get(f"/panels/{t.panel.id}/statistics?review_year=2026")
    assert page.status_code == 200
    section = page_text(page.get_data(as_text=True)).split("ASB Case Reviews (published each year)")[1]
    assert "Applications for an ASB Case Review received 5" in section
    assert "ASB Case Reviews that led to recommendations 2" in section
    download = steering.get(f"/panels/{t.panel.id}/statistics/case-reviews.csv?review_year=2026")
    assert download.status_code == 200 and "OFFICIAL_ASB_case-reviews_2026-04-01_to_2027-03-31.csv" in (
        download.headers["Content-Disposition"])
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert [row[2:] for row in rows[1:]] == [[label, str(n)] for (_, label), n in zip(asb.FIGURES, (5, 2, 3, 2))]
    assert audit_events("case_review.figures_exported")


def test_the_settings_apply_to_new_applications_and_refuse_a_threshold_above_three(app, taskforce):
    t = taskforce
    t.panel_id = t.panel.id
    client = signed_in(app, t.users["manager"])
    url = f"/panels/{t.panel.id}/case-reviews/settings"
    values = {"threshold": "2", "hate_threshold": "1", "window_months": "6", "acknowledge_days": "3",
              "decision_days": "10", "review_days": "15"}
    refused = post_form(client, url, {**values, "threshold": "4"})
    assert refused.status_code == 200 and "no more than 3" in page_text(refused.get_data(as_text=True))
    assert post_form(client, url, values).status_code == 302
    panel = db.session.get(Panel, t.panel_id)
    two = application(next(r.user for r in panel.roles if r.role == Role.MANAGER), panel, dt.date(2026, 7, 5), other=1)  # 5 January and one elsewhere
    assert (two.threshold, two.meets_threshold, two.acknowledge_by) == (2, True, dt.date(2026, 7, 8))
    assert signed_in(app, t.users["police"]).get(url).status_code == 403


def test_the_case_review_pages_declare_what_they_show_and_withhold_contact_by_the_rules(app, taskforce):
    t = taskforce
    applied = asb.apply(t.users["police"], t.panel, {
        "received_on": dt.date(2026, 7, 5), "complainant_name": "Compa Fakeneighbour",
        "complainant_dob": dt.date(1950, 3, 4), "complainant_contact": "Invented phone 0000",
        "applicant": None, "summary": "Invented summary", "is_hate": False, "other_complaints": 0})
    db.session.commit()
    police = signed_in(app, t.users["police"])
    text = page_text(police.get(f"/case-reviews/{applied.id}").get_data(as_text=True))
    assert "Compa Fakeneighbour" in text and "Invented phone 0000" in text
    assert audit_events("case_review.viewed", str(applied.id))
    assert Category.CONTACT not in DEFAULT_RULES[AgencyKind.PROBATION]
    probation = AgencyFactory(kind=AgencyKind.PROBATION)
    PanelMemberFactory(panel=t.panel, agency=probation)
    officer = UserFactory(agency=probation)
    PanelRoleFactory(panel=t.panel, user=officer, role=Role.REPRESENTATIVE)
    db.session.commit()
    text = page_text(signed_in(app, officer).get(f"/case-reviews/{applied.id}").get_data(as_text=True))
    assert "Compa Fakeneighbour" in text and "Invented phone 0000" not in text and "Contact Withheld" in text
    assert signed_in(app, t.users["steering"]).get(f"/case-reviews/{applied.id}").status_code == 403
    assert signed_in(app, t.users["chair"]).get(f"/panels/{t.panel.id}/case-reviews/new").status_code == 403


# --- the migration ------------------------------------------------------------------------------

def test_the_migration_works_out_the_response_date_of_the_asb_cases_held(taskforce):
    """ASB cases saved before 20261206_0016 have a response time but no date: the revision's data step
    adds the date in working days from the referral, and its downgrade takes it out again; a case
    without a referral date is left as it is. (The schema's upgrade and downgrade are
    test_migrations'; the data step runs here in an Alembic context on the test's own connection.)"""
    import runpy
    from pathlib import Path

    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    step_of = runpy.run_path(str(Path(__file__).resolve().parent.parent /
                                 "migrations/versions/20261206_0016_asb.py"))["_set_response_due_on"]
    police = taskforce.users["police"]
    held = asb_case(police, taskforce.panel, on=dt.date(2026, 8, 28), yes=8)  # before the August bank holiday
    undated = cases.new_case(police, taskforce.panel)
    cases.save_answers(police, undated, {"complainant": {"first_names": "Nodate"}}, submit=False)
    db.session.flush()

    def run(fill):
        with Operations.context(MigrationContext.configure(db.session.connection())):
            step_of(fill=fill)
        db.session.expire_all()

    run(fill=False)  # as the code before this revision saved it
    assert "response_due_on" not in held.codes and held.codes["response_days"] == 1
    assert held.response_due_on is None
    run(fill=True)
    assert held.codes["response_due_on"] == "2026-09-01" and held.response_due_on == dt.date(2026, 9, 1)
    assert undated.response_due_on is None and (undated.codes or {}).get("response_due_on") is None
