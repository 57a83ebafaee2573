"""MACE pages: the reviews due and overdue, recording a review, the review interval, and the registers
of persons and locations of concern with their links."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from marac.cases.models import Case
from marac.cases.services import record_form_view
from marac.core.pagination import page_number
from marac.core.permissions import access, get_or_404, require
from marac.core.steps import attempt
from marac.core.timeutil import today
from marac.mace import services
from marac.mace.forms import IntervalForm, LinkForm, ReviewForm, UnlinkForm
from marac.panels.models import Panel

bp = Blueprint("mace", __name__)

REGISTERS = "any(persons, locations)"


def _panel(panel_id, allowed):
    panel = get_or_404(Panel, panel_id)
    require(allowed(current_user, panel))
    return panel


@bp.route("/panels/<uuid:panel_id>/reviews")
@access("signed_in")
def reviews(panel_id):
    """The panel's reviews overdue and due in the next two weeks, the most overdue first."""
    panel = _panel(panel_id, services.can_read)
    pagination = services.reviews_due(panel, page_number(request))
    shown = services.declare_reviews_list(current_user, panel, pagination.items)
    return render_template("mace/reviews.html", panel=panel, pagination=pagination, shown=shown, today=today(),
                           window=services.DUE_WINDOW, can_set=services.can_set_interval(current_user, panel),
                           shows_name=services.shows_name)


@bp.route("/cases/<uuid:case_id>/reviews/new", methods=["GET", "POST"])
@access("signed_in")
def record_review(case_id):
    """The manager or chair records a child's risk review."""
    case = get_or_404(Case, case_id)
    require(services.can_record_review(current_user, case))
    form = ReviewForm(data={"reviewed_on": today()})
    if form.validate_on_submit():
        outcome = attempt(services.record_review, current_user, case, form.reviewed_on.data, form.risk_level.data,
                          form.what_changed.data, form.tactics.data, form.disruption_plan.data, form.stays(),
                          form=form)
        if outcome:
            if not form.stays() and case.can_close(current_user):
                flash("Review recorded. The young person leaves the panel's scope: close the case with its outcome.")
                return redirect(url_for("cases.close", case_id=case.id))
            flash("Review recorded.")
            return redirect(url_for("cases.detail", case_id=case.id))
    categories = record_form_view(current_user, case, "mace.review_form_viewed", "review form viewed")
    last = services.reviews_of(case)
    return render_template("mace/review.html", case=case, form=form, categories=categories,
                           last=last[0] if last else None, scope_age=services.SCOPE_AGE_LIMIT)


@bp.route("/panels/<uuid:panel_id>/reviews/interval", methods=["GET", "POST"])
@access("signed_in")
def interval(panel_id):
    """The panel manager sets the weeks between a child's reviews."""
    panel = _panel(panel_id, services.can_set_interval)
    form = IntervalForm(data={"weeks": panel.review_interval_weeks})
    if form.validate_on_submit() and attempt(services.set_interval, current_user, panel, form.weeks.data, form=form):
        flash(f"Reviews are now due every {panel.review_interval_weeks} weeks.")
        return redirect(url_for("mace.reviews", panel_id=panel.id))
    return render_template("mace/interval.html", panel=panel, form=form)


@bp.route(f"/panels/<uuid:panel_id>/<{REGISTERS}:register>")
@access("signed_in")
def register(panel_id, register):
    """A register of persons or locations of concern: each entry with the children's cases linked to it
    that the viewer may see."""
    panel = _panel(panel_id, services.can_read)
    pagination = services.register_page(current_user, panel, register, page_number(request))
    return render_template("mace/register.html", panel=panel, kind=register, pagination=pagination,
                           category=services.REGISTER_CATEGORY[register])


def _entry(panel, register, entry_id):
    entry = services.entry_for(current_user, panel, register, entry_id)
    if entry is None:
        abort(404)
    return entry


def _entry_page(panel, register, entry, form):
    services.declare_entry(current_user, panel, entry)
    return render_template("mace/entry.html", panel=panel, kind=register, entry=entry, form=form,
                           history=services.history_of(current_user, panel, entry),
                           can_run=services.can_run(current_user, panel),
                           is_manager=panel.is_manager(current_user))


@bp.route(f"/panels/<uuid:panel_id>/<{REGISTERS}:register>/<uuid:entry_id>", methods=["GET", "POST"])
@access("signed_in")
def entry(panel_id, register, entry_id):
    """One person or location of concern: its cases, dates and tactics; the manager or chair links a case."""
    panel = _panel(panel_id, services.can_read)
    entry = _entry(panel, register, entry_id)
    form = LinkForm()
    if request.method == "POST":
        require(services.can_run(current_user, panel))
        if form.validate_on_submit() and attempt(services.link_case, current_user, panel, entry,
                                                 form.reference.data, form.reason.data, form=form):
            flash("Case linked.")
            return redirect(url_for("mace.entry", panel_id=panel.id, register=register, entry_id=entry_id))
    return _entry_page(panel, register, entry, form)


@bp.route(f"/panels/<uuid:panel_id>/<{REGISTERS}:register>/<uuid:entry_id>/cases/<uuid:case_id>/unlink",
          methods=["GET", "POST"])
@access("signed_in")
def unlink(panel_id, register, entry_id, case_id):
    """Unlink a case from a person or location of concern, saying why (after confirmation)."""
    panel = _panel(panel_id, services.can_run)
    entry = _entry(panel, register, entry_id)
    linked = next((lc for lc in entry.cases if lc.case.id == case_id), None)
    if linked is None:
        abort(404)
    form = UnlinkForm()
    if form.validate_on_submit() and attempt(services.unlink_case, current_user, panel, entry, linked.case,
                                             form.reason.data, form=form):
        flash(f"{linked.case.reference} unlinked.")
        return redirect(url_for("mace.entry", panel_id=panel.id, register=register, entry_id=entry_id))
    services.declare_entry(current_user, panel, entry)
    return render_template("mace/unlink.html", panel=panel, kind=register, entry=entry, linked=linked, form=form)
