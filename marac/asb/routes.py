"""The interventions ladder of an ASB case, and ASB Case Reviews: the list, an application, its steps
(acknowledgement, decision, review, recommendations, appeal) and the panel's Case Review settings."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from marac.asb import services
from marac.asb.forms import (REVIEW_STEPS, ApplicationForm, SettingsForm, intervention_form, review_forms, typed_field,
                             was_on_the_page)
from marac.asb.models import CaseReviewApplication, Intervention, can_apply, can_list_reviews, can_record_intervention
from marac.audit.services import record_read
from marac.cases.models import Case
from marac.core.pagination import page_number
from marac.core.permissions import access, get_or_404, require
from marac.core.steps import attempt
from marac.core.timeutil import today
from marac.panels.models import Panel, PanelKind
from marac.sharing.services import panel_categories, visible_categories

bp = Blueprint("asb", __name__)

STALE_STEP = "Someone else changed this intervention while you were editing it. Check it and save again."
STALE_REVIEW = "Someone else updated this application while you were writing. Check it and save again."


# --- the interventions ladder --------------------------------------------------------------------

def _step_page(case, form, step=None):
    categories = services.disclose_step_form(current_user, case)
    return render_template("asb/intervention.html", case=case, form=form, step=step, categories=categories)


@bp.route("/cases/<uuid:case_id>/interventions/new", methods=["GET", "POST"])
@access("signed_in")
def new_intervention(case_id):
    """Record a step of a respondent's interventions ladder."""
    case = get_or_404(Case, case_id)
    require(can_record_intervention(case, current_user))
    form = intervention_form(case, visible_categories(case, current_user))
    if form.validate_on_submit() and attempt(services.record_intervention, current_user, case, form.values(),
                                             form=form):
        flash("Intervention recorded.")
        return redirect(url_for("cases.detail", case_id=case.id, _anchor="interventions"))
    return _step_page(case, form)


@bp.route("/interventions/<uuid:intervention_id>/edit", methods=["GET", "POST"])
@access("signed_in")
def edit_intervention(intervention_id):
    """Change a step of the ladder: its outcome and next review above all."""
    step = get_or_404(Intervention, intervention_id)
    require(step.can_update(current_user))
    form = intervention_form(step.case, visible_categories(step.case, current_user), step)
    if form.validate_on_submit() and attempt(services.update_intervention, current_user, step, form.values(),
                                             form.version.data, form=form, stale=STALE_STEP):
        flash("Intervention updated.")
        return redirect(url_for("cases.detail", case_id=step.case_id, _anchor="interventions"))
    return _step_page(step.case, form, step)


# --- ASB Case Reviews -----------------------------------------------------------------------------

def _asb_panel(panel_id, allowed):
    panel = get_or_404(Panel, panel_id)
    if panel.kind != PanelKind.ASB:
        abort(404)
    require(allowed(panel, current_user))
    return panel


@bp.route("/panels/<uuid:panel_id>/case-reviews")
@access("signed_in")
def reviews(panel_id):
    """The panel's Case Review applications with their deadlines, the overdue flagged."""
    panel = _asb_panel(panel_id, can_list_reviews)
    pagination = services.applications(panel, page_number(request))
    record_read("case_reviews.listed", current_user, panel, recipient_agency_id=current_user.agency_id,
                detail={"applications": [str(a.id) for a in pagination.items]})
    return render_template("asb/reviews.html", panel=panel, pagination=pagination, today=today(),
                           settings=services.settings_for(panel), is_manager=panel.is_manager(current_user),
                           categories=panel_categories(panel, current_user))


@bp.route("/panels/<uuid:panel_id>/case-reviews/new", methods=["GET", "POST"])
@access("signed_in")
def apply(panel_id):
    """Record an application for an ASB Case Review (the Community Trigger)."""
    panel = _asb_panel(panel_id, can_apply)
    form = ApplicationForm()
    if not form.is_submitted():
        form.received_on.process(None, today())
        form.other_complaints.data = 0
    if form.validate_on_submit():
        outcome = attempt(services.apply, current_user, panel, form.values(), form=form)
        if outcome:
            flash(f"Application {outcome.value.reference} recorded.")
            return redirect(url_for("asb.review", application_id=outcome.value.id))
    return render_template("asb/apply.html", panel=panel, form=form, settings=services.settings_for(panel))


# The button of each step of an application's page (and the note on a step typed but not recorded).
BUTTONS = {"acknowledge": "Record the acknowledgement", "decision": "Record the decision",
           "review": "Record the review", "recommendation": "Add the recommendation", "appeal": "Record the appeal"}


def _review_page(application, forms=None, kept=(), stale=False):
    """The application with the manager's steps, all in one form: the forms given (as posted) keep what
    was typed, the others start from the record; `kept` are shown even where the stage would hide them
    (text typed there is never dropped)."""
    forms = {**review_forms(application, today()), **(forms or {})}
    for form in forms.values():
        if "version" in form and (stale or not form.version.data):
            form.version.data = str(application.version)
    record_read("case_review.viewed", current_user, application, recipient_agency_id=current_user.agency_id)
    return render_template("asb/review.html", application=application, panel=application.panel, forms=forms,
                           kept=set(kept), buttons=BUTTONS, today=today(),
                           can_update=application.can_update(current_user),
                           categories=application.shows(current_user))


def _application(application_id, update=False):
    application = get_or_404(CaseReviewApplication, application_id)
    require(application.can_update(current_user) if update else application.can_view(current_user))
    return application


@bp.route("/case-reviews/<uuid:application_id>")
@access("signed_in")
def review(application_id):
    """One application: the complaints counted, its deadlines, decision, review, recommendations, appeal."""
    return _review_page(_application(application_id))


def _step(application_id, name, step, *args, message):
    """A step's button of the application's page (one form): the step's own boxes are validated and
    recorded; what was typed in the other steps' boxes is shown again, never dropped. On success the page
    is shown again when another step holds typed text (each marked as not recorded yet), else reloaded;
    on an error or a refusal it is shown with everything as posted."""
    application = _application(application_id, update=True)
    recorded = review_forms(application, today())
    posted = review_forms(application, today(), posted=True)
    typed = {other: field for other in REVIEW_STEPS if (field := typed_field(posted[other], recorded[other]))}
    form, outcome = posted[name], None
    if form.validate_on_submit():
        outcome = attempt(step, current_user, application, *[arg(form) for arg in args], form=form,
                          stale=STALE_REVIEW)
        if outcome:
            flash(message)
            others = {other: posted[other] for other in typed if other != name}
            if not others:
                return redirect(url_for("asb.review", application_id=application.id))
            for other, again in others.items():
                if "version" in again:
                    again.version.data = str(application.version)  # this step moved the application on
                typed[other].errors = [*typed[other].errors, f"This is not recorded yet: press "
                                                             f"“{BUTTONS[other]}” to record it, or clear it"]
            return _review_page(application, others, kept=others)
    on_the_page = {other: f for other, f in posted.items() if other == name or was_on_the_page(f)}
    return _review_page(application, on_the_page, kept={name, *typed},
                        stale=outcome is not None and outcome.stale)


@bp.route("/case-reviews/<uuid:application_id>/acknowledge", methods=["POST"])
@access("signed_in")
def acknowledge(application_id):
    """Record the acknowledgement."""
    return _step(application_id, "acknowledge", services.acknowledge, lambda f: f.on.data, lambda f: f.version.data,
                 message="Acknowledgement recorded.")


@bp.route("/case-reviews/<uuid:application_id>/decision", methods=["POST"])
@access("signed_in")
def decide(application_id):
    """Record whether the threshold is met, and why."""
    return _step(application_id, "decision", services.decide, lambda f: f.decision.data, lambda f: f.reason.data,
                 lambda f: f.on.data, lambda f: f.version.data, message="Decision recorded.")


@bp.route("/case-reviews/<uuid:application_id>/review", methods=["POST"])
@access("signed_in")
def record_review(application_id):
    """Record the review meeting."""
    return _step(application_id, "review", services.record_review, lambda f: f.held_on.data, lambda f: f.notes.data,
                 lambda f: f.version.data, message="Review meeting recorded.")


@bp.route("/case-reviews/<uuid:application_id>/recommendations", methods=["POST"])
@access("signed_in")
def add_recommendation(application_id):
    """Add a recommendation of the review."""
    return _step(application_id, "recommendation", services.add_recommendation, lambda f: f.owner_agency_id.data,
                 lambda f: f.text.data, lambda f: f.due_on.data, message="Recommendation added.")


@bp.route("/case-reviews/<uuid:application_id>/appeal", methods=["POST"])
@access("signed_in")
def appeal(application_id):
    """Record an appeal and its outcome."""
    return _step(application_id, "appeal", services.record_appeal, lambda f: f.received_on.data,
                 lambda f: f.outcome.data, lambda f: f.decided_on.data, lambda f: f.notes.data,
                 lambda f: f.version.data, message="Appeal recorded.")


@bp.route("/panels/<uuid:panel_id>/case-reviews/settings", methods=["GET", "POST"])
@access("signed_in")
def settings(panel_id):
    """The panel manager sets the Case Review threshold and deadlines."""
    panel = _asb_panel(panel_id, lambda p, user: p.is_manager(user))
    form = SettingsForm(obj=services.settings_for(panel))
    if form.validate_on_submit() and attempt(services.update_settings, current_user, panel, form.values(), form=form):
        flash("Case Review settings saved.")
        return redirect(url_for("asb.reviews", panel_id=panel.id))
    return render_template("asb/settings.html", panel=panel, form=form)


@bp.app_context_processor
def ladder_helpers():
    """For the case page's include (asb/_ladder.html) and the home page's link to Case Reviews: the
    cases package sits below this one, so the ladder reaches its page through these, asked for the
    signed-in user."""
    return {"asb_ladder": lambda case: services.ladder_for(current_user, case),
            "asb_can_record": lambda case: can_record_intervention(case, current_user),
            "asb_lists_reviews": lambda panel: can_list_reviews(panel, current_user),
            "asb_today": today}
