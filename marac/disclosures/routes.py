"""The disclosure report of a case (its panel's manager and the data protection officer) and of a
person found by name and date of birth (the same, across the panels they may report on)."""
import uuid

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user

from marac.cases.models import Case
from marac.core.pagination import page_number
from marac.core.permissions import access, get_or_404, require
from marac.core.timeutil import utcnow
from marac.disclosures import services
from marac.disclosures.forms import CaseReportForm, PersonReportForm, ReportFilterForm

bp = Blueprint("disclosures", __name__)


def _filter_form():
    form = ReportFilterForm(request.args)
    form.set_choices(services.agency_choices())
    return form


def _csv(text, what):
    """A CSV download: the marking and what it is in the file name, nothing personal."""
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="OFFICIAL-SENSITIVE-disclosure-report-{what}-{stamp}.csv"'})


@bp.route("/cases/<uuid:case_id>/disclosures")
@access("signed_in")
def case_report(case_id):
    """Every sharing record and audit event of the case, a page at a time; the view is audited."""
    case = get_or_404(Case, case_id)
    require(case.can_view_disclosures(current_user))
    form = _filter_form()
    valid = form.validate() if request.args.keys() - {"page"} else True
    pagination = services.case_report(current_user, case, form.filters(), form.names(),
                                      page_number(request)) if valid else None
    return render_template("disclosures/case.html", case=case, form=form, pagination=pagination,
                           args={**(form.args() if valid else {}), "case_id": case.id})


@bp.route("/cases/<uuid:case_id>/disclosures.csv")
@access("signed_in")
def case_export(case_id):
    """The case's whole disclosure report (with the page's filters) as a CSV file; audited."""
    case = get_or_404(Case, case_id)
    require(case.can_view_disclosures(current_user))
    form = _filter_form()
    if request.args and not form.validate():
        return render_template("disclosures/case.html", case=case, form=form, pagination=None,
                               args={"case_id": case.id}), 400
    return _csv(services.case_export(current_user, case, form.filters(), form.names()), case.panel.kind)


@bp.route("/disclosures", methods=["GET", "POST"])
@access("signed_in")
def index():
    """Find a case by reference, or a person by name and date of birth, for their disclosure report
    (by POST, so that nothing personal enters a URL)."""
    require(services.may_report_on_people(current_user))
    case_form, person_form = CaseReportForm(prefix="case"), PersonReportForm(prefix="person")
    missed = None
    if request.method == "POST" and "case-reference" in request.form:
        if case_form.validate_on_submit():
            case = services.case_by_reference(current_user, case_form.reference.data)
            if case is not None:
                return redirect(url_for("disclosures.case_report", case_id=case.id))
            missed = "case"
    elif person_form.validate_on_submit():
        parties = services.person_cases(current_user, person_form.name.data, person_form.date_of_birth.data)
        if parties:
            return redirect(url_for("disclosures.person_report", person=[str(p.person_id) for p in parties]))
        missed = "person"
    return render_template("disclosures/index.html", case_form=case_form, person_form=person_form, missed=missed,
                           other_form_errors=case_form.errors or person_form.errors)


def _parties():
    """The person records named in the query string (one per case), each on a case the user may report
    on: 404 if any is unknown, 403 if any case is not theirs to report on."""
    try:
        person_ids = sorted({uuid.UUID(value) for value in request.args.getlist("person")})
    except ValueError:
        abort(404)
    if not person_ids or len(person_ids) > services.MAX_PEOPLE:
        abort(404)
    parties = services.parties_of(person_ids)
    if parties is None:
        abort(404)
    require(all(p.case.can_view_disclosures(current_user) for p in parties))
    return parties


@bp.route("/disclosures/people/report")
@access("signed_in")
def person_report():
    """Every sharing record and audit event of a person's cases, a page at a time; audited."""
    require(services.may_report_on_people(current_user))
    parties = _parties()
    form = _filter_form()
    valid = form.validate() if request.args.keys() - {"page", "person"} else True
    scope, pagination = (services.person_report(current_user, parties, form.filters(), form.names(),
                                                page_number(request)) if valid else (None, None))
    person = [str(p.person_id) for p in parties]
    return render_template("disclosures/person.html", parties=parties, form=form, pagination=pagination,
                           person=person, args={**(form.args() if valid else {}), "person": person})


@bp.route("/disclosures/people/report.csv")
@access("signed_in")
def person_export():
    """The whole disclosure report of a person's cases (with the page's filters) as a CSV file; audited."""
    require(services.may_report_on_people(current_user))
    parties = _parties()
    form = _filter_form()
    if request.args.keys() - {"person"} and not form.validate():
        person = [str(p.person_id) for p in parties]
        return render_template("disclosures/person.html", parties=parties, form=form, pagination=None,
                               person=person, args={"person": person}), 400
    return _csv(services.person_export(current_user, parties, form.filters(), form.names()), "person")
