"""The disclosure report of a case (its panel's manager and the data protection officer) and of a
person found by name and date of birth (the same, across the panels they may report on)."""
import uuid

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from marac.cases.models import Case
from marac.core.downloads import attachment
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
    return attachment(f"OFFICIAL-SENSITIVE-disclosure-report-{what}-{stamp}.csv", text, "text/csv; charset=utf-8")


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


CASE, PERSON = "case", "person"  # the prefixes of the search page's two parts


def _index_page(case_form=None, person_form=None, missed=None):
    """The search page, one form: each part as posted (its errors on its fields), or empty."""
    case_form = case_form or CaseReportForm(formdata=None, prefix=CASE)
    person_form = person_form or PersonReportForm(formdata=None, prefix=PERSON)
    return render_template("disclosures/index.html", case_form=case_form, person_form=person_form, missed=missed,
                           other_form_errors=case_form.errors or person_form.errors)


def _person_typed(form):
    """Whether the person part of the search page holds anything (from the post)."""
    return bool((form.name.data or "").strip() or any(form.date_of_birth.parts.values()))


@bp.route("/disclosures", methods=["GET", "POST"])
@access("signed_in")
def index():
    """Find a case by reference, or a person by name and date of birth, for their disclosure report
    (by POST, so that nothing personal enters a URL). The page is one form: "Show the case's report"
    posts here, "Show the person's report" to find_person, and either page that comes back keeps what
    both parts hold. Enter sends the form here: with no reference typed but a person, that is the
    person's search."""
    require(services.may_report_on_people(current_user))
    case_form, person_form = CaseReportForm(prefix=CASE), PersonReportForm(prefix=PERSON)
    if request.method == "GET":
        return _index_page()
    if not (case_form.reference.data or "").strip() and _person_typed(person_form):
        return _find_person(case_form, person_form)
    if case_form.validate_on_submit():
        case = services.case_by_reference(current_user, case_form.reference.data)
        if case is not None:
            return redirect(url_for("disclosures.case_report", case_id=case.id))
        return _index_page(case_form, person_form, missed=CASE)
    return _index_page(case_form, person_form)


@bp.route("/disclosures/people", methods=["POST"])
@access("signed_in")
def find_person():
    """Find a person by name and date of birth for their report (the "Show the person's report" button
    of the search page's one form); no match or an error shows the page again with both parts as typed."""
    require(services.may_report_on_people(current_user))
    return _find_person(CaseReportForm(prefix=CASE), PersonReportForm(prefix=PERSON))


def _find_person(case_form, person_form):
    if person_form.validate_on_submit():
        parties = services.person_cases(current_user, person_form.name.data, person_form.date_of_birth.data)
        if parties:
            return redirect(url_for("disclosures.person_report", person=[str(p.person_id) for p in parties]))
        return _index_page(case_form, person_form, missed=PERSON)
    return _index_page(case_form, person_form)


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
