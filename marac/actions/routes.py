"""Actions: an agency's list across panels, the manager's RAG list, and updating or chasing one action."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from marac.actions import services
from marac.actions.forms import ActionFilterForm, ActionUpdateForm, BulkChaseForm, ChaseForm
from marac.actions.models import Action, UpdateKind
from marac.audit.services import record_read
from marac.core.pagination import page_number
from marac.core.permissions import access, get_or_404, require
from marac.core.steps import attempt
from marac.core.timeutil import today
from marac.panels.models import Panel

bp = Blueprint("actions", __name__)

STALE_UPDATE = ("Someone else updated this action while you were writing. Their update is shown below; your note "
                "is still in the box: check it and save again.")


def _list_page(pagination_of, panel=None, chase=None):
    """An action list filtered by status (open unless the query asks for another, or all), owner agency
    (the manager's list) and due dates; the manager's list carries the form that chases several at once."""
    agencies = sorted((m.agency for m in panel.members), key=lambda a: a.name) if panel else ()
    filter_form = ActionFilterForm(request.args, agencies)
    filter_form.validate()
    pagination = pagination_of(page_number(request), filter_form.filters())
    record_read("actions.listed", current_user, panel, detail={"actions": [str(a.id) for a in pagination.items]})
    if panel is not None and chase is None:
        chase = BulkChaseForm(formdata=None)
    return render_template("actions/index.html", pagination=pagination, today=today(), filter_form=filter_form,
                           args=filter_form.query_args(), panel=panel, chase=chase,
                           ticked=set(chase.action_ids.data or []) if chase else set())


@bp.route("/actions")
@access("signed_in")
def mine():
    """The actions of the user's agency, open ones first and the most overdue first."""
    return _list_page(lambda page, filters: services.agency_actions(current_user, page, filters))


@bp.route("/panels/<uuid:panel_id>/actions")
@access("signed_in")
def panel(panel_id):
    """The actions on a panel's cases, for its manager, with their RAG status."""
    panel = get_or_404(Panel, panel_id)
    require(panel.is_manager(current_user))
    return _list_page(lambda page, filters: services.panel_actions(panel, page, filters), panel)


@bp.route("/panels/<uuid:panel_id>/actions/chase", methods=["POST"])
@access("signed_in")
def chase_several(panel_id):
    """The manager chases the actions ticked on the list, with one note; on a refusal the list comes back
    with the ticks and the note as they were."""
    panel = get_or_404(Panel, panel_id)
    require(panel.is_manager(current_user))
    form = BulkChaseForm()
    if form.validate_on_submit():
        outcome = attempt(services.chase_actions, current_user, panel, form.action_ids.ids(), form.note.data, form=form)
        if outcome:
            count = len(outcome.value)
            flash(f"Chase recorded on {count} action{'' if count == 1 else 's'}.")
            return redirect(url_for("actions.panel", panel_id=panel.id, **request.args))
    return _list_page(lambda page, filters: services.panel_actions(panel, page, filters), panel, chase=form)


def _action_page(action, update=None, chase=None, stale=False):
    """The action with its two forms. The one posted keeps what was typed; the other, and both after
    a stale edit, carry the version now current."""
    update = update or ActionUpdateForm(prefix="update", formdata=None)
    chase = chase or ChaseForm(prefix="chase", formdata=None)
    for form in (update, chase):
        if stale or not form.version.data:
            form.version.data = str(action.version)
    record_read("action.viewed", current_user, action, recipient_agency_id=current_user.agency_id)
    return render_template("actions/detail.html", action=action, form=update, chase=chase, today=today(),
                           can_chase=action.can_chase(current_user))


@bp.route("/actions/<uuid:action_id>", methods=["GET", "POST"])
@access("signed_in")
def detail(action_id):
    """One action: its history, and progress or completion by its owner agency (or the manager)."""
    action = get_or_404(Action, action_id)
    require(action.can_update(current_user))
    form = ActionUpdateForm(prefix="update")
    outcome = None
    if form.validate_on_submit():
        outcome = attempt(services.update_action, current_user, action, form.kind.data, form.note.data,
                          form.version.data, form=form, stale=STALE_UPDATE)
        if outcome:
            flash("Action updated.")
            return redirect(url_for("actions.detail", action_id=action.id))
    return _action_page(action, update=form if form.is_submitted() else None,
                        stale=outcome is not None and outcome.stale)


@bp.route("/actions/<uuid:action_id>/chase", methods=["POST"])
@access("signed_in")
def chase(action_id):
    """Record the manager's chase of the owner agency."""
    action = get_or_404(Action, action_id)
    require(action.can_update(current_user) and action.can_chase(current_user))
    form = ChaseForm(prefix="chase")
    outcome = None
    if form.validate_on_submit():
        outcome = attempt(services.update_action, current_user, action, UpdateKind.CHASE, form.note.data,
                          form.version.data, form=form, stale=STALE_UPDATE)
        if outcome:
            flash("Chase recorded.")
            return redirect(url_for("actions.detail", action_id=action.id))
    return _action_page(action, chase=form, stale=outcome is not None and outcome.stale)
