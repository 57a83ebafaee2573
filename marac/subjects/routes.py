"""Subject access: the request log, a request (its deadline, status, the cases found and confirmed,
the responses built), the response's build and downloads, and the correction of the person's details.

The data protection officer and panel managers (for their panels' cases) handle requests; everyone
else gets 403. The person is searched for from the name and date of birth stored (encrypted) with the
request, so nothing personal is ever in a URL."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from marac.core.downloads import attachment
from marac.core.forms import ConfirmForm
from marac.core.pagination import page_number
from marac.core.permissions import access, get_or_404, require
from marac.core.steps import attempt
from marac.core.timeutil import today
from marac.subjects import services
from marac.subjects.forms import ConfirmCasesForm, ExtendForm, RectifyForm, RequestForm, StatusForm
from marac.subjects.models import SubjectRequest, SubjectResponse, can_handle_requests

bp = Blueprint("subjects", __name__)


def _request(request_id):
    subject_request = get_or_404(SubjectRequest, request_id)
    require(subject_request.can_view(current_user))
    return subject_request


@bp.route("/subject-requests/")
@access("signed_in")
def index():
    """The log of subject access requests: deadlines, status, overdue ones flagged."""
    require(can_handle_requests(current_user))
    page = services.request_log(current_user, page_number(request))
    services.log_viewed(current_user, page.items)
    return render_template("subjects/index.html", page=page, today=today())


@bp.route("/subject-requests/new", methods=["GET", "POST"])
@access("signed_in")
def new():
    """Record a subject access request as received."""
    require(can_handle_requests(current_user))
    form = RequestForm()
    if form.validate_on_submit() and (outcome := attempt(
            services.record_request, current_user, form.received_on.data, form.requester.data,
            form.identity_checked.data, form.subject_name.data, form.date_of_birth.data, form.notes.data, form=form)):
        flash(f"Request {outcome.value.reference} recorded. Find the person's cases next.")
        return redirect(url_for("subjects.detail", request_id=outcome.value.id))
    return render_template("subjects/new.html", form=form)


STATUS, EXTEND = "status", "extend"  # the prefixes of the request page's two parts


def _detail_page(subject_request, status_form=None, extend_form=None, stale=False):
    """The request page, one form: "Record", "Extend" and "Build the response" each post the whole page.
    A part not given is empty; a part given is shown as posted (its errors on its fields). Its version
    is the one now current when a step went stale or another step moved the request on."""
    links = services.links_for(current_user, subject_request)
    services.request_viewed(current_user, subject_request, links)
    status_form = status_form or StatusForm(formdata=None, prefix=STATUS)
    extend_form = extend_form or ExtendForm(formdata=None, prefix=EXTEND)
    for form in (status_form, extend_form):
        if stale or not form.version.data:
            form.version.data = str(subject_request.version)
    responses = [r for r in subject_request.responses if r.can_view(current_user)]
    return render_template("subjects/detail.html", subject_request=subject_request, links=links,
                           responses=responses, status_form=status_form, extend_form=extend_form,
                           button=ConfirmForm(formdata=None), today=today(),
                           other_form_errors=bool(status_form.errors or extend_form.errors),
                           caution=services.CAUTION_ROLES)


def _typed(form):
    """Whether a part of the request page holds something chosen or typed (from the post)."""
    return any(str(field.data or "").strip() for field in form if field.short_name not in ("version", "csrf_token"))


def _kept(status_form=None, extend_form=None):
    """The parts of the request page that hold something, as _detail_page takes them."""
    return {name: form for name, form in (("status_form", status_form), ("extend_form", extend_form))
            if form is not None and _typed(form)}


def _after_step(subject_request, message, kept):
    """After one of the page's buttons: back to the request, and when another part holds something, the
    page is shown with it (at the version now current) rather than dropped by a redirect."""
    flash(message)
    if not kept:
        return redirect(url_for("subjects.detail", request_id=subject_request.id))
    for form in kept.values():
        form.version.data = str(subject_request.version)
    return _detail_page(subject_request, **kept)


@bp.route("/subject-requests/<uuid:request_id>")
@access("signed_in")
def detail(request_id):
    """A request: deadline, status, the subject's cases, the responses built and the corrections."""
    return _detail_page(_request(request_id))


@bp.route("/subject-requests/<uuid:request_id>/status", methods=["POST"])
@access("signed_in")
def set_status(request_id):
    """Record where the request stands (the "Record" button of the request page's one form); a refusal
    shows the page again with both parts as typed."""
    subject_request = _request(request_id)
    require(subject_request.can_update(current_user))
    form, extend_form = StatusForm(prefix=STATUS), ExtendForm(prefix=EXTEND)
    outcome = None
    if form.validate_on_submit():
        outcome = attempt(services.set_status, current_user, subject_request, form.status.data, form.reason.data,
                          form.version.data, form=form)
        if outcome:
            return _after_step(subject_request, "Status recorded.", _kept(extend_form=extend_form))
    return _detail_page(subject_request, status_form=form, extend_form=extend_form,
                        stale=outcome is not None and outcome.stale)


@bp.route("/subject-requests/<uuid:request_id>/extend", methods=["POST"])
@access("signed_in")
def extend(request_id):
    """Extend the deadline, with the reason (the "Extend" button of the request page's one form); a
    refusal shows the page again with both parts as typed."""
    subject_request = _request(request_id)
    require(subject_request.can_update(current_user))
    form, status_form = ExtendForm(prefix=EXTEND), StatusForm(prefix=STATUS)
    months = int(form.months.data) if (form.months.data or "").isdigit() else 0
    outcome = None
    if form.validate_on_submit():
        outcome = attempt(services.extend, current_user, subject_request, months, form.reason.data,
                          form.version.data, form=form)
        if outcome:
            return _after_step(subject_request, "Deadline extended.", _kept(status_form=status_form))
    return _detail_page(subject_request, status_form=status_form, extend_form=form,
                        stale=outcome is not None and outcome.stale)


@bp.route("/subject-requests/<uuid:request_id>/matches", methods=["GET", "POST"])
@access("signed_in")
def matches(request_id):
    """The cases on which someone has the subject's name (or an alias) and date of birth, among those
    the user may reach; the user confirms which are the subject."""
    subject_request = _request(request_id)
    require(subject_request.can_update(current_user))
    form = ConfirmCasesForm(version=subject_request.version)
    if request.method == "POST" and form.validate_on_submit() and attempt(
            services.confirm_cases, current_user, subject_request, form.cases.data or [], form.version.data, form=form):
        flash("The subject's cases are recorded.")
        return redirect(url_for("subjects.detail", request_id=subject_request.id))
    found = services.find_matches(current_user, subject_request)
    confirmed = {(link.case_id, link.position) for link in subject_request.cases}
    if request.method == "GET":
        form.cases.data = [services.match_key(case, party) for case, party in found
                           if (case.id, party.position) in confirmed]
    return render_template("subjects/matches.html", subject_request=subject_request, form=form,
                           found=[(case, party, services.match_key(case, party)) for case, party in found],
                           caution=services.CAUTION_ROLES)


@bp.route("/subject-requests/<uuid:request_id>/responses", methods=["POST"])
@access("signed_in")
def build(request_id):
    """Build the response over the confirmed cases (a background job); then follow the build. The
    "Build the response" button of the request page's one form: when the status or extension part
    holds something, the page comes back with it (the build listed, or the refusal in a banner)."""
    subject_request = _request(request_id)
    require(subject_request.can_update(current_user))
    form = ConfirmForm()
    status_form, extend_form = StatusForm(prefix=STATUS), ExtendForm(prefix=EXTEND)
    typed = _kept(status_form, extend_form)
    outcome = form.validate_on_submit() and attempt(services.build_response, current_user, subject_request)
    if outcome and not typed:
        return redirect(url_for("subjects.response", response_id=outcome.value.id))
    if not typed:  # nothing typed to keep: back to the request, the refusal (if any) in a banner
        return redirect(url_for("subjects.detail", request_id=subject_request.id))
    if outcome:
        flash("The response is being built: it is listed under “Responses built”.")
    return _detail_page(subject_request, **typed)


@bp.route("/subject-responses/<uuid:response_id>")
@access("signed_in")
def response(response_id):
    """How the build of a response stands; the page refreshes itself until it has finished."""
    built = get_or_404(SubjectResponse, response_id)
    require(built.can_view(current_user))
    return render_template("subjects/response.html", built=built, subject_request=built.request)


@bp.route("/subject-responses/<uuid:response_id>/<fmt>")
@access("signed_in")
def download(response_id, fmt):
    """The response as a PDF or as JSON (audited with its SHA-256)."""
    built = get_or_404(SubjectResponse, response_id)
    if fmt not in services.FORMATS:
        abort(404)
    require(built.can_view(current_user))
    outcome = attempt(services.download, current_user, built, fmt)
    if not outcome:
        return redirect(url_for("subjects.response", response_id=built.id))
    name, data, media_type = outcome.value
    return attachment(name, data, media_type)


@bp.route("/subject-requests/<uuid:request_id>/rectify", methods=["GET", "POST"])
@access("signed_in")
def rectify(request_id):
    """Correct the person's details on every confirmed case in one step, with the reason."""
    subject_request = _request(request_id)
    require(subject_request.can_update(current_user))
    form = RectifyForm(version=subject_request.version)
    if request.method == "POST" and form.validate_on_submit() and (outcome := attempt(
            services.rectify, current_user, subject_request, form.changes(), form.reason.data, form.version.data,
            form=form)):
        flash(f"Details corrected on {outcome.value.case_count} case{'s' if outcome.value.case_count != 1 else ''}.")
        return redirect(url_for("subjects.detail", request_id=subject_request.id))
    rows = services.current_details(current_user, subject_request)
    services.rectify_viewed(current_user, subject_request, [link for link, _ in rows])
    return render_template("subjects/rectify.html", subject_request=subject_request, form=form, rows=rows,
                           fields=services.RECTIFIABLE)
