"""Referral forms, the case list and search, the case page, screening."""
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from marac.cases import questions, services
from marac.audit.services import record_read
from marac.cases.forms import (CaseFilterForm, CloseCaseForm, HoldForm, LiftHoldForm, ReopenCaseForm, ScreeningForm,
                               SearchForm, referral_form, referral_summary)
from marac.cases.models import Case, CaseStatus, LegalHold
from marac.core.errors import render_error
from marac.core.pagination import cursor, page_number
from marac.core.permissions import access, get_or_404, require
from marac.core.steps import attempt
from marac.core.timeutil import today
from marac.extensions import limiter
from marac.panels.models import Panel
from marac.sharing.services import panel_categories, records_for

bp = Blueprint("cases", __name__)

STALE_REFERRAL = ("Someone else changed this case while you were editing it. Your changes have not been saved: "
                  "open the case again to see the latest version, then make your changes.")
STALE_SCREENING = "The referral changed while you were screening it. Check it again."
STALE_CASE = "Someone else changed this case while you were looking at it. Check it again, then try once more."
THROTTLED = ("You have sent as many referrals as one person can in a short time ({limit}). This referral has not "
             "been sent: save it as a draft, and send it later.")


# --- throttling: sending a referral runs the repeat check, so a user may send only so many -------

def _submission_limit():
    """Referrals one user may send in the window (REFERRAL_SUBMISSION_LIMIT, e.g. "20 per hour")."""
    return current_app.config["REFERRAL_SUBMISSION_LIMIT"]


def _submitter_key():
    return f"referral-submission:{current_user.id}"


def _not_a_submission():
    """Exempt from the limit: anything but sending a referral (saving a draft, adding an entry, editing a
    referral already sent: those run no repeat check)."""
    if request.form.get("action") != "submit":
        return True
    if request.endpoint == "cases.edit":
        return get_or_404(Case, request.view_args["case_id"]).status != CaseStatus.DRAFT
    return False


def _submitted(response):
    """Only a referral actually sent counts towards the limit."""
    return bool(g.get("referral_submitted"))


submission_limit = limiter.shared_limit(_submission_limit, scope="referral-submission", key_func=_submitter_key,
                                        methods=["POST"], exempt_when=_not_a_submission, deduct_when=_submitted)


@bp.errorhandler(429)
def too_many_referrals(error):
    """A referral sent over the limit: the form again, as typed, with the reason (status 429; the
    request's transaction rolls back at the edge). Other pages get the general 429 page."""
    try:
        if request.endpoint == "cases.refer":
            panel = get_or_404(Panel, request.view_args["panel_id"])
            require(panel.can_refer(current_user))
            case = services.new_case(current_user, panel)
        elif request.endpoint == "cases.edit":
            case = get_or_404(Case, request.view_args["case_id"])
            require(case.can_edit(current_user))
            panel = case.panel
        else:
            return render_error(429)
    except HTTPException as refused:  # the limit is checked before the view's own checks
        return render_error(refused.code)
    form = referral_form(panel)
    form.form_errors = [THROTTLED.format(limit=_submission_limit())]
    return render_template(f"cases/referral_{panel.kind.lower()}.html", panel=panel, case=case, form=form,
                           questions=questions), 429


def _referral(panel, case, form, saved=False):
    """Add another entry, save a draft, or submit: a redirect once saved, else the form again (for a
    `saved` case, its opening is declared: the form shows what is on record)."""
    if form.is_submitted() and not form.add_entry():
        draft = form.action.data == CaseStatus.DRAFT and services.may_save_draft(case)
        was_draft = case.status == CaseStatus.DRAFT
        if form.validate_as(draft) and attempt(services.save_referral, current_user, case, form, draft=draft,
                                               form=form, stale=STALE_REFERRAL):
            g.referral_submitted = was_draft and not draft
            if draft:
                flash("Your draft has been saved. You can finish it later from 'Your referrals'.")
                return redirect(url_for("cases.mine"))
            if was_draft and case.is_transfer_in and case.status == CaseStatus.ACCEPTED:
                flash(f"{case.reference} received from another area and accepted. It waits first for the next agenda.")
            else:
                flash(f"Referral {case.reference} sent to the {panel.name} panel manager for screening." if was_draft
                      else "Case saved.")
            return redirect(url_for("cases.detail", case_id=case.id))
    if saved:
        services.record_form_view(current_user, case)
    return render_template(f"cases/referral_{panel.kind.lower()}.html", panel=panel, case=case, form=form,
                           questions=questions)


def _form(panel, shown):
    """The referral form: `shown` filled in when the page is opened, what was posted otherwise (a posted
    form must not take a list entry the user removed back from `shown`)."""
    return referral_form(panel, data=shown) if request.method == "GET" else referral_form(panel)


@bp.route("/panels/<uuid:panel_id>/referrals/new", methods=["GET", "POST"])
@access("signed_in")
@submission_limit
def refer(panel_id):
    """A new referral to the panel."""
    panel = get_or_404(Panel, panel_id)
    require(panel.can_refer(current_user))
    form = _form(panel, {"referrer_name": current_user.full_name, "referrer_role": current_user.job_title,
                         "referrer_contact": current_user.email, "referred_on": today()})
    return _referral(panel, services.new_case(current_user, panel), form)


@bp.route("/cases/<uuid:case_id>/edit", methods=["GET", "POST"])
@access("signed_in")
@submission_limit
def edit(case_id):
    """Finish a draft, or edit a referral or case."""
    case = get_or_404(Case, case_id)
    require(case.can_edit(current_user))
    return _referral(case.panel, case, _form(case.panel, dict(services.answers_to_edit(current_user, case),
                                                              version=str(case.version))), saved=True)


@bp.route("/referrals/mine")
@access("signed_in")
def mine():
    """The user's own referrals."""
    return render_template("cases/mine.html",
                           pagination=services.referrals_of(current_user, cursor(request)))


@bp.route("/panels/<uuid:panel_id>/cases")
@access("signed_in")
def index(panel_id):
    """The panel's case list, filtered and sorted."""
    panel = get_or_404(Panel, panel_id)
    require(panel.can_list_cases(current_user))
    filter_form = CaseFilterForm(request.args, services.member_agencies(panel), panel_categories(panel, current_user),
                                 panel.kind)
    filter_form.validate()
    pagination = services.case_list(panel, filter_form.filters(), filter_form.order(), cursor(request))
    return render_template("cases/index.html", panel=panel, pagination=pagination, filter_form=filter_form,
                           args=filter_form.query_args(), search_form=SearchForm(),
                           shown=services.list_disclosed(current_user, panel, pagination.items, "case_list.viewed",
                                                         "case list viewed"))


@bp.route("/panels/<uuid:panel_id>/cases/search", methods=["POST"])
@access("signed_in")
def search(panel_id):
    """Search the panel's cases (by POST, so nothing personal enters a URL; the page number is the only
    thing in the query string, and the buttons to other pages post the search again)."""
    panel = get_or_404(Panel, panel_id)
    require(panel.can_list_cases(current_user))
    form = SearchForm()
    results, shown = None, {}
    if form.validate():
        results, shown = services.search_visible(
            current_user, panel, page_number(request), reference=form.reference.data, name=form.name.data,
            date_of_birth=form.date_of_birth.data, postcode=form.postcode.data, sounds_like=form.sounds_like.data,
            birth_year=form.birth_year.data)
    return render_template("cases/search.html", panel=panel, form=form, results=results,
                           shown=shown)


@bp.route("/cases/<uuid:case_id>")
@access("signed_in")
def detail(case_id):
    """The case page, showing only the categories the user may see; the view is audited."""
    case = get_or_404(Case, case_id, options=services.case_page_loads())
    require(case.can_view(current_user))
    categories = services.record_view(current_user, case)
    sent = services.referral_as_sent(current_user, case)
    history = services.history_of(case, current_user)
    return render_template("cases/detail.html", case=case, categories=categories, questions=questions,
                           sees_record=case.can_view_record(current_user),
                           sent=None if sent is None else referral_summary(case.panel, sent),
                           history=history,
                           chronology=(services.chronology(case, current_user, categories, history)
                                       if case.can_view_record(current_user) else []),
                           earlier=services.earlier_cases_for(current_user, case),
                           linked=services.linked_cases(current_user, case),
                           can_edit=case.can_edit(current_user), can_screen=case.can_screen(current_user),
                           can_close=case.can_close(current_user), can_reopen=case.can_reopen(current_user),
                           can_hold=case.can_hold(current_user), is_manager=case.panel.is_manager(current_user),
                           can_report=case.can_view_disclosures(current_user),
                           parts=services.case_page_context(current_user, case, categories))


@bp.route("/cases/<uuid:case_id>/screen", methods=["GET", "POST"])
@access("signed_in")
def screen(case_id):
    """The panel manager accepts a referral or screens it out."""
    case = get_or_404(Case, case_id)
    require(case.can_screen(current_user))
    form = ScreeningForm(data={"version": str(case.version), "confirm_repeat": case.is_repeat})
    if form.validate_on_submit() and attempt(services.screen, current_user, case, form.decision.data,
                                             form.reason.data, form.confirm_repeat.data, form.version.data,
                                             form=form, stale=STALE_SCREENING):
        flash(f"{case.reference} {CaseStatus(case.status).label.lower()}.")
        return redirect(url_for("cases.detail", case_id=case.id))
    categories = services.record_form_view(current_user, case, "case.screening_viewed", "screening page viewed")
    return render_template("cases/screen.html", case=case, form=form, categories=categories,
                           earlier=services.earlier_cases_of_subject(case), window=services.REPEAT_WINDOW)


@bp.route("/cases/<uuid:case_id>/close", methods=["GET", "POST"])
@access("signed_in")
def close(case_id):
    """The panel manager closes a case with its outcome (the page asks for confirmation)."""
    case = get_or_404(Case, case_id)
    require(case.can_close(current_user))
    form = CloseCaseForm(case.panel.kind, data={"version": str(case.version)})
    if form.validate_on_submit() and attempt(services.close_case, current_user, case, form.outcome.data,
                                             form.reason.data, form.version.data, form=form, stale=STALE_CASE):
        flash(f"{case.reference} is closed. It has left the waiting list; you can reopen it from this page.")
        return redirect(url_for("cases.detail", case_id=case.id))
    categories = services.record_form_view(current_user, case, "case.close_viewed", "closing page viewed")
    return render_template("cases/close.html", case=case, form=form, categories=categories)


@bp.route("/cases/<uuid:case_id>/reopen", methods=["GET", "POST"])
@access("signed_in")
def reopen(case_id):
    """The panel manager reopens a closed case, saying why."""
    case = get_or_404(Case, case_id)
    require(case.can_reopen(current_user))
    form = ReopenCaseForm(data={"version": str(case.version)})
    if form.validate_on_submit() and attempt(services.reopen_case, current_user, case, form.reason.data,
                                             form.version.data, form=form, stale=STALE_CASE):
        flash(f"{case.reference} is open again and waits for a meeting.")
        return redirect(url_for("cases.detail", case_id=case.id))
    categories = services.record_form_view(current_user, case, "case.reopen_viewed", "reopening page viewed")
    return render_template("cases/reopen.html", case=case, form=form, categories=categories)


@bp.route("/cases/<uuid:case_id>/hold", methods=["GET", "POST"])
@access("signed_in")
def place_hold(case_id):
    """The panel manager places a legal hold on a case, with the reason (the page shows no personal data)."""
    case = get_or_404(Case, case_id)
    require(case.can_hold(current_user))
    form = HoldForm()
    if form.validate_on_submit() and attempt(services.place_hold, current_user, case, form.reason.data, form=form):
        flash(f"{case.reference} is under a legal hold: it will not be deleted until the hold is lifted.")
        return redirect(url_for("cases.detail", case_id=case.id))
    return render_template("cases/hold.html", case=case, form=form)


@bp.route("/holds/<uuid:hold_id>/lift", methods=["GET", "POST"])
@access("signed_in")
def lift_hold(hold_id):
    """The panel manager lifts a legal hold, with the reason; the page shows why it was placed."""
    hold = get_or_404(LegalHold, hold_id)
    require(hold.can_update(current_user))
    case = hold.case
    form = LiftHoldForm()
    if form.validate_on_submit() and attempt(services.lift_hold, current_user, hold, form.reason.data, form=form):
        flash(f"The legal hold on {case.reference} is lifted: the case follows its panel's retention schedule again.")
        return redirect(url_for("cases.detail", case_id=case.id))
    record_read("case.hold_viewed", current_user, case, purpose="legal hold reviewed")
    return render_template("cases/lift_hold.html", case=case, hold=hold, form=form)


@bp.route("/panels/<uuid:panel_id>/holds")
@access("signed_in")
def holds(panel_id):
    """The legal holds in force on the panel's cases: the manager's list (references, dates, who placed them)."""
    panel = get_or_404(Panel, panel_id)
    require(panel.is_manager(current_user))
    return render_template("cases/holds.html", panel=panel, pagination=services.holds_of(panel, page_number(request)))


@bp.route("/cases/<uuid:case_id>/sharing")
@access("signed_in")
def sharing_log(case_id):
    """What of the case was shown to whom."""
    case = get_or_404(Case, case_id)
    require(case.can_view_sharing_log(current_user))
    return render_template("cases/sharing_log.html", case=case, pagination=records_for(case, page_number(request)))
