"""The interventions ladder and ASB Case Reviews: recording, checking the threshold, deadlines in working
days, the list of applications, and the figures a council must publish each year (s104(10) of the
Anti-social Behaviour, Crime and Policing Act 2014).

How a complaint is counted for the threshold: each referral to the panel (any status but a draft)
whose complainant has the applicant's name (or an alias) and date of birth, matched by the
name + date of birth blind index, referred on a day from the start of the window (the same day
`window_months` earlier: six months to the day) to the day the application was received, both
included, is one complaint. Addresses are not used: a case's addresses are where the behaviour happens,
shared by every neighbour who complains, so matching them would count other people's complaints.
Complaints made to other relevant bodies (the police, a housing provider) that the panel has confirmed
are added by the manager as a number.
"""
import csv
import datetime as dt
import io

from sqlalchemy import and_, func, select

from marac.asb.models import (LADDER_CATEGORY, AppealOutcome, CaseReviewApplication, CaseReviewSettings, Decision,
                              Intervention, InterventionOutcome, Recommendation, Rung, add_months, can_apply,
                              can_record_intervention, closure_order_latest_end, deadline, respondents_of)
from marac.audit.services import record
from marac.cases.models import VISIBLE_TO_PANEL, Case, CaseParty, PartyRole
from marac.cases.services import next_reference
from marac.core.blind_index import fill_indexes
from marac.core.formatting import format_date
from marac.core.steps import StepRefused, check_version
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.people.models import PersonName
from marac.people.services import name_dob_condition
from marac.sharing.models import Category
from marac.panels.models import PanelKind
from marac.sharing.services import disclose, visible_categories

REVIEW_PREFIX = "ASBCR"


# --- the interventions ladder --------------------------------------------------------------------

def ladder(case):
    """Every step of the case's ladder, by respondent, in ladder order (Rung), then by date."""
    steps = db.session.execute(select(Intervention).where(Intervention.case_id == case.id)).scalars().all()
    return sorted(steps, key=lambda step: step.ladder_key)


def ladder_for(actor, case):
    """The case's ladder for the actor: (shown, steps grouped [(respondent number, party or None, [steps])]).
    Nothing (shown False) to someone who may not see the category it is (criminal justice)."""
    if (case.panel.kind != PanelKind.ASB or not case.can_view_record(actor)
            or LADDER_CATEGORY not in visible_categories(case, actor)):
        return False, []
    steps = ladder(case)
    respondents = respondents_of(case)
    groups = []
    for step in steps:
        if not groups or groups[-1][0] != step.respondent_number:
            number = step.respondent_number
            groups.append((number, respondents[number - 1] if 0 < number <= len(respondents) else None, []))
        groups[-1][2].append(step)
    return True, groups


def _check_step(case, values):
    """Refuse a step that does not fit: an unknown rung or outcome, a respondent the referral does not
    name, an agency not on the panel, dates out of order, a closure order of more than three months."""
    if values.get("rung") not in Rung.values():
        raise StepRefused("Choose the intervention", field="rung")
    if values.get("outcome") not in InterventionOutcome.values():
        raise StepRefused("Choose the outcome", field="outcome")
    number = values.get("respondent_number")
    if not isinstance(number, int) or not 0 < number <= max(1, len(respondents_of(case))):
        raise StepRefused("Choose a respondent named in the referral", field="respondent_number")
    if not case.panel.is_member(values.get("agency_id")):
        raise StepRefused("Choose an agency that sits on the panel", field="agency_id")
    taken_on, review_on, ends_on = values["taken_on"], values.get("review_on"), values.get("ends_on")
    if review_on and review_on < taken_on:
        raise StepRefused("The next review must be on or after the date of the intervention", field="review_on")
    if ends_on and ends_on < taken_on:
        raise StepRefused("The end date must be on or after the date of the intervention", field="ends_on")
    if values["rung"] == Rung.CLOSURE_ORDER:
        if not ends_on:
            raise StepRefused("Enter the date the closure order ends", field="ends_on")
        latest = closure_order_latest_end(taken_on)
        if ends_on > latest:
            raise StepRefused(f"A closure order lasts at most 3 months: one made on {format_date(taken_on)} must end "
                              f"on or before {format_date(latest)}. Record an extension the court grants as a new "
                              f"step.", field="ends_on")


def _apply(step, values):
    for name in ("respondent_number", "rung", "taken_on", "agency_id", "outcome", "review_on", "ends_on"):
        setattr(step, name, values.get(name))
    step.note = (values.get("note") or "").strip() or None


def record_intervention(actor, case, values):
    """Add a step to a respondent's ladder (values: respondent_number, rung, taken_on, agency_id,
    outcome, review_on, ends_on, note)."""
    if not can_record_intervention(case, actor):
        raise StepRefused("You cannot record interventions on this case.")
    _check_step(case, values)
    step = Intervention(case_id=case.id, case=case, recorded_by_id=actor.id)
    _apply(step, values)
    db.session.add(step)
    db.session.flush()
    record("intervention.recorded", actor, step, detail={"case": str(case.id), "rung": step.rung,
                                                         "outcome": step.outcome})
    return step


def update_intervention(actor, step, values, expected_version):
    """Change a step of the ladder (its outcome and next review above all). Refuses a stale edit."""
    check_version(step, expected_version)
    if not step.can_update(actor):
        raise StepRefused("You cannot change this intervention.")
    _check_step(step.case, values)
    _apply(step, values)
    db.session.flush()
    record("intervention.updated", actor, step, detail={"case": str(step.case_id), "rung": step.rung,
                                                        "outcome": step.outcome})
    return step


def disclose_step_form(actor, case):
    """Declare a page of the ladder's forms: it names the case's respondents (identity) and its steps
    (criminal justice), as far as the actor may see them."""
    return disclose(actor, [case], {Category.IDENTITY, LADDER_CATEGORY}, action="intervention.form_viewed",
                    target=case, purpose="interventions ladder form")[case.id]


# --- ASB Case Review settings -------------------------------------------------------------------

SETTINGS = ("threshold", "hate_threshold", "window_months", "acknowledge_days", "decision_days", "review_days")


def settings_for(panel):
    """The panel's Case Review settings (the defaults when none were saved)."""
    found = db.session.execute(select(CaseReviewSettings).where(CaseReviewSettings.panel_id == panel.id)
                               ).scalar_one_or_none()
    return found or CaseReviewSettings.defaults(panel)


def update_settings(actor, panel, values):
    """The manager sets the threshold, window and deadlines (whole numbers, checked by the form)."""
    if not panel.is_manager(actor) or panel.kind != PanelKind.ASB:
        raise StepRefused("Only the panel manager sets the Case Review threshold and deadlines.")
    if values["hate_threshold"] > values["threshold"]:
        raise StepRefused("The threshold for a hate incident cannot be higher than the usual one",
                          field="hate_threshold")
    settings = settings_for(panel)
    changed = [name for name in SETTINGS if getattr(settings, name) != values[name]]
    for name in SETTINGS:
        setattr(settings, name, values[name])
    db.session.add(settings)
    db.session.flush()
    record("case_review.settings_changed", actor, panel, detail={"fields": changed})
    return settings


# --- applications ---------------------------------------------------------------------------------

def window_start(received_on, months):
    """The first day of the threshold's window: the same day `months` months before (to the day)."""
    return add_months(received_on, -months)


def count_complaints(panel, name, date_of_birth, received_on, months):
    """The complaints the system holds for the complainant in the window (see the module's note): the
    panel's referrals (not drafts) whose complainant matches by name (or alias) and date of birth, by
    blind index only, referred from window_start to received_on, both days included."""
    if not (name and date_of_birth):
        return 0
    same = (select(CaseParty.case_id).join(PersonName, PersonName.person_id == CaseParty.person_id)
            .where(CaseParty.role == PartyRole.COMPLAINANT, name_dob_condition(name, date_of_birth)))
    return db.session.execute(
        select(func.count(func.distinct(Case.id))).where(
            Case.panel_id == panel.id, Case.status.in_(VISIBLE_TO_PANEL), Case.id.in_(same),
            Case.referred_on >= window_start(received_on, months), Case.referred_on <= received_on)
    ).scalar_one()


def apply(actor, panel, values):
    """Record an application for a Case Review (values: received_on, complainant_name, complainant_dob,
    complainant_contact, applicant, summary, is_hate, other_complaints): the complaints the system holds
    are counted now, against the threshold in force, and the deadlines set in working days."""
    if not can_apply(panel, actor):
        raise StepRefused("You cannot record Case Review applications for this panel.")
    settings = settings_for(panel)
    received_on = values["received_on"]
    application = CaseReviewApplication(
        panel_id=panel.id, panel=panel, received_on=received_on, recorded_by_id=actor.id,
        recorded_agency_id=actor.agency_id, is_hate=bool(values.get("is_hate")),
        other_complaints=values.get("other_complaints") or 0,
        threshold=settings.hate_threshold if values.get("is_hate") else settings.threshold,
        window_months=settings.window_months,
        acknowledge_by=deadline(received_on, settings.acknowledge_days),
        decide_by=deadline(received_on, settings.decision_days),
        reference=next_reference(REVIEW_PREFIX, received_on.year))
    for name in ("complainant_name", "complainant_contact", "applicant", "summary"):
        setattr(application, name, (values.get(name) or "").strip() or None)
    application.complainant_dob = values["complainant_dob"]
    fill_indexes(application)
    application.complaints_found = count_complaints(panel, application.complainant_name, application.complainant_dob,
                                                    received_on, settings.window_months)
    db.session.add(application)
    db.session.flush()
    record("case_review.applied", actor, application,
           detail={"complaints_found": application.complaints_found, "other_complaints": application.other_complaints,
                   "threshold": application.threshold, "hate": application.is_hate})
    return application


def _manager(actor, application):
    if not application.can_update(actor):
        raise StepRefused("Only the panel manager can record this.")


def acknowledge(actor, application, on, expected_version):
    """Record the day the application was acknowledged."""
    check_version(application, expected_version)
    _manager(actor, application)
    if on < application.received_on:
        raise StepRefused("The acknowledgement cannot be before the application was received", field="on")
    application.acknowledged_on = on
    db.session.flush()
    record("case_review.acknowledged", actor, application)
    return application


def decide(actor, application, decision, reason, on, expected_version):
    """Record whether the threshold is met, with the reason the applicant is told; when it is, the
    review is due `review_days` working days later."""
    check_version(application, expected_version)
    _manager(actor, application)
    if not application.acknowledged_on:
        raise StepRefused("Record the acknowledgement before the decision.")
    if decision not in Decision.values():
        raise StepRefused("Choose whether the threshold is met", field="decision")
    if not (reason or "").strip():
        raise StepRefused("Give the reason for the decision", field="reason")
    if on < application.acknowledged_on:
        raise StepRefused("The decision cannot be before the acknowledgement", field="on")
    if application.review_held_on:
        raise StepRefused("The review has been held: the decision can no longer change.")
    application.decision, application.decided_on = decision, on
    application.decision_reason = reason.strip()
    application.review_by = (deadline(on, settings_for(application.panel).review_days)
                             if decision == Decision.MET else None)
    db.session.flush()
    record("case_review.decided", actor, application,
           detail={"decision": decision, "as_counted": application.meets_threshold == (decision == Decision.MET)})
    return application


def record_review(actor, application, held_on, notes, expected_version):
    """Record the review meeting of an application whose threshold was met."""
    check_version(application, expected_version)
    _manager(actor, application)
    if application.decision != Decision.MET:
        raise StepRefused("A review is held only once the threshold is decided to be met.")
    if held_on < application.decided_on:
        raise StepRefused("The review cannot be before the decision", field="held_on")
    application.review_held_on = held_on
    application.review_notes = (notes or "").strip() or None
    db.session.flush()
    record("case_review.reviewed", actor, application)
    return application


def add_recommendation(actor, application, owner_agency_id, text, due_on):
    """Add a recommendation of the review, owned by one of the panel's agencies."""
    _manager(actor, application)
    if not application.review_held_on:
        raise StepRefused("Record the review meeting before its recommendations.")
    if not application.panel.is_member(owner_agency_id):
        raise StepRefused("Choose an agency that sits on the panel", field="owner_agency_id")
    if due_on and due_on < application.review_held_on:
        raise StepRefused("The due date cannot be before the review", field="due_on")
    recommendation = Recommendation(application_id=application.id, owner_agency_id=owner_agency_id, due_on=due_on,
                                    recorded_by_id=actor.id, recorded_at=utcnow())
    recommendation.text = text.strip()
    application.recommendations.append(recommendation)
    db.session.flush()
    record("case_review.recommended", actor, application, detail={"owner_agency": str(owner_agency_id)})
    return recommendation


def record_appeal(actor, application, received_on, outcome, decided_on, notes, expected_version):
    """Record an appeal against the decision or the review, and its outcome once decided."""
    check_version(application, expected_version)
    _manager(actor, application)
    if not application.decided_on:
        raise StepRefused("An appeal follows a decision: record the decision first.")
    if received_on < application.decided_on:
        raise StepRefused("The appeal cannot be before the decision", field="received_on")
    if outcome not in AppealOutcome.values():
        raise StepRefused("Choose the outcome of the appeal", field="outcome")
    if outcome != AppealOutcome.PENDING and not decided_on:
        raise StepRefused("Enter the date the appeal was decided", field="decided_on")
    if decided_on and decided_on < received_on:
        raise StepRefused("The appeal cannot be decided before it was received", field="decided_on")
    application.appeal_received_on, application.appeal_outcome = received_on, outcome
    application.appeal_decided_on = decided_on if outcome != AppealOutcome.PENDING else None
    application.appeal_notes = (notes or "").strip() or None
    db.session.flush()
    record("case_review.appealed", actor, application, detail={"outcome": outcome})
    return application


def applications(panel, page, per_page=50):
    """One page of the panel's applications, newest first."""
    stmt = (select(CaseReviewApplication).where(CaseReviewApplication.panel_id == panel.id)
            .order_by(CaseReviewApplication.received_on.desc(), CaseReviewApplication.reference.desc()))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


# --- the figures published each year -----------------------------------------------------------

FIGURES = (
    ("applications", "Applications for an ASB Case Review received"),
    ("not_met", "Times the threshold for a review was not met"),
    ("reviews", "ASB Case Reviews carried out"),
    ("with_recommendations", "ASB Case Reviews that led to recommendations"),
)


def financial_year(year):
    """(first day, last day, label) of the financial year that starts in April of `year`."""
    return dt.date(year, 4, 1), dt.date(year + 1, 3, 31), f"April {year} to March {year + 1}"


def statutory_figures(panel, start, end):
    """The four figures of the period, each counted by the day of its event: applications by the day
    received, threshold not met by the day decided, reviews (and those with recommendations) by the
    day held. Counts, published as they are (see the README)."""
    a = CaseReviewApplication
    mine = a.panel_id == panel.id

    def count(*conditions):
        return db.session.execute(select(func.count()).select_from(a).where(mine, *conditions)).scalar_one()

    recommended = select(Recommendation.id).where(Recommendation.application_id == a.id).exists()
    return {
        "applications": count(a.received_on.between(start, end)),
        "not_met": count(a.decision == Decision.NOT_MET, a.decided_on.between(start, end)),
        "reviews": count(a.review_held_on.between(start, end)),
        "with_recommendations": count(and_(a.review_held_on.between(start, end), recommended)),
    }


def figures_csv(actor, panel, year):
    """(file name, CSV bytes) of the four figures of the financial year, as the council publishes them
    (audited)."""
    start, end, label = financial_year(year)
    figures = statutory_figures(panel, start, end)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Panel", "Period", "Figure", "Count"])
    for key, figure in FIGURES:
        writer.writerow([panel.name, label, figure, figures[key]])
    record("case_review.figures_exported", actor, panel, detail={"year": year})
    # Marked OFFICIAL, not OFFICIAL-SENSITIVE: these four counts are for publication.
    return f"OFFICIAL_ASB_case-reviews_{start.isoformat()}_to_{end.isoformat()}.csv", out.getvalue().encode("utf-8")
