"""The steering group's statistics page, its exports (each table as CSV or XLSX, every table as one
workbook, the SafeLives return, the PDF report) and the panel manager's statistics settings.

Steering group members, the manager and the chair of the panel see them; everyone else gets 403.
The period is chosen in the query string (codes and dates, nothing personal)."""
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from marac.asb import services as asb
from marac.asb.forms import YearForm
from marac.core.downloads import attachment
from marac.core.permissions import access, get_or_404, require
from marac.core.steps import attempt
from marac.core.timeutil import today
from marac.panels.models import Panel, PanelKind
from marac.stats import charts, services
from marac.stats.forms import PeriodForm, SettingsForm
from marac.stats.models import ExportFormat

bp = Blueprint("stats", __name__)
FORMATS = "any(csv, xlsx)"


def _panel(panel_id):
    panel = get_or_404(Panel, panel_id)
    require(panel.can_view_statistics(current_user))
    return panel


def _period():
    """(form, period, valid): the period chosen in the query string, the last complete quarter by default."""
    form = PeriodForm(request.args, today())
    valid = form.validate() if request.args else True
    return form, form.chosen(), valid


def _case_reviews(panel):
    """An ASB panel's Case Review figures of the financial year chosen (?review_year=), else None."""
    if panel.kind != PanelKind.ASB:
        return None
    form = YearForm(request.args, today())
    start, end, label = asb.financial_year(form.chosen())
    return {"form": form, "label": label, "figures": asb.statutory_figures(panel, start, end), "names": asb.FIGURES}


def _page(panel, form, found, status=200):
    drawn = {key: charts.svg(chart) for key, chart in found.charts.items()}
    return render_template("stats/dashboard.html", panel=panel, form=form, figures=found, charts=drawn,
                           args=form.query_args(), can_edit=panel.can_edit_statistics_settings(current_user),
                           is_marac=panel.kind == PanelKind.MARAC, case_reviews=_case_reviews(panel)), status


def _export(panel_id, with_return=False):
    """(panel, figures) for an export, or the page with the period's errors (400)."""
    panel = _panel(panel_id)
    form, period, valid = _period()
    found = services.figures_for(panel, period, with_return=with_return)
    if not valid:
        abort(make_response(*_page(panel, form, found, 400)))
    return panel, found


@bp.route("/panels/<uuid:panel_id>/statistics")
@access("signed_in")
def dashboard(panel_id):
    """The panel's statistics for a period: aggregates only, small numbers suppressed."""
    panel = _panel(panel_id)
    form, period, _valid = _period()
    return _page(panel, form, services.figures_for(panel, period))


@bp.route(f"/panels/<uuid:panel_id>/statistics/tables/<key>.<{FORMATS}:fmt>")
@access("signed_in")
def export_table(panel_id, key, fmt):
    """One table of the page as CSV or XLSX (audited)."""
    panel, found = _export(panel_id)
    if found.table(key) is None:
        abort(404)
    return attachment(*services.export_table(current_user, panel, found, key, ExportFormat(fmt)))


@bp.route("/panels/<uuid:panel_id>/statistics/all-tables.xlsx")
@access("signed_in")
def export_workbook(panel_id):
    """Every table of the page in one workbook, with the SafeLives return for a MARAC (audited)."""
    panel, found = _export(panel_id, with_return=True)
    return attachment(*services.export_workbook(current_user, panel, found))


@bp.route(f"/panels/<uuid:panel_id>/statistics/safelives-return.<{FORMATS}:fmt>")
@access("signed_in")
def export_return(panel_id, fmt):
    """The SafeLives MARAC data return of the period, a row per meeting (MARAC panels; audited)."""
    panel, found = _export(panel_id, with_return=True)
    if found.safelives_return is None:
        abort(404)
    return attachment(*services.export_return(current_user, panel, found, ExportFormat(fmt)))


@bp.route("/panels/<uuid:panel_id>/statistics/report.pdf")
@access("signed_in")
def report(panel_id):
    """The steering group's report of the period as one PDF (audited)."""
    panel, found = _export(panel_id)
    return attachment(*services.export_report(current_user, panel, found))


@bp.route("/panels/<uuid:panel_id>/statistics/case-reviews.csv")
@access("signed_in")
def case_review_figures(panel_id):
    """An ASB panel's four published Case Review figures of a financial year (?review_year=) as CSV (audited)."""
    panel = _panel(panel_id)
    if panel.kind != PanelKind.ASB:
        abort(404)
    year = YearForm(request.args, today()).chosen()
    return attachment(*asb.figures_csv(current_user, panel, year), "text/csv; charset=utf-8")


@bp.route("/panels/<uuid:panel_id>/statistics/settings", methods=["GET", "POST"])
@access("signed_in")
def settings(panel_id):
    """The panel manager sets the population, attendance threshold, minutes deadline and local shares."""
    panel = get_or_404(Panel, panel_id)
    require(panel.can_edit_statistics_settings(current_user))
    form = SettingsForm(obj=panel)
    if form.validate_on_submit() and attempt(services.update_settings, current_user, panel, form.values(), form=form):
        flash("Statistics settings saved.")
        return redirect(url_for("stats.dashboard", panel_id=panel.id))
    return render_template("stats/settings.html", panel=panel, form=form)
