"""Actions: an agency's list across panels, the manager's RAG list, and updating or chasing one action."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from marac.actions import services
from marac.actions.forms import ActionFilterForm, ActionUpdateForm, BulkChaseForm, ChaseForm
from marac.actions.models import Action, UpdateKind
from marac.audit.services import record_read
from marac.core.pagination import cursor
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
    pagination = pagination_of(cursor(request), filter_form.filters())
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
    return _list_page(lambda at, filters: services.agency_actions(current_user, at, filters))


@bp.route("/panels/<uuid:panel_id>/actions")
@access("signed_in")
def panel(panel_id):
    """The actions on a panel's cases, for its manager, with their RAG status."""
    panel = get_or_404(Panel, panel_id)
    require(panel.is_manager(current_user))
    return _list_page(lambda at, filters: services.panel_actions(panel, at, filters), panel)


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
    return _list_page(lambda at, filters: services.panel_actions(panel, at, filters), panel, chase=form)


def _action_page(action, update=None, chase=None, stale=False):
    """The action with its two parts of one form (progress, and the manager's chase). What was typed in
    either is shown again; the version is the one now current when the step was taken or went stale."""
    update = update or ActionUpdateForm(prefix="update", formdata=None)
    chase = chase or ChaseForm(prefix="chase", formdata=None)
    for form in (update, chase):
        if stale or not form.version.data:
            form.version.data = str(action.version)
    record_read("action.viewed", current_user, action, recipient_agency_id=current_user.agency_id)
    return render_template("actions/detail.html", action=action, form=update, chase=chase, today=today(),
                           can_chase=action.can_chase(current_user))


def _typed(form):
    """Whether the form's note box holds text (from the post)."""
    return bool((form.note.data or "").strip())


def _after_step(action, message, other):
    """After one of the page's buttons: back to the page, and when the other part's box holds text, the
    page is shown with it (at the version now current) rather than dropped by a redirect."""
    flash(message)
    if _typed(other):
        other.version.data = str(action.version)
        return _action_page(action, **({"chase": other} if isinstance(other, ChaseForm) else {"update": other}))
    return redirect(url_for("actions.detail", action_id=action.id))


@bp.route("/actions/<uuid:action_id>", methods=["GET", "POST"])
@access("signed_in")
def detail(action_id):
    """One action: its history, and progress or completion by its owner agency (or the manager)."""
    action = get_or_404(Action, action_id)
    require(action.can_update(current_user))
    form = ActionUpdateForm(prefix="update")
    chase_form = ChaseForm(prefix="chase")
    outcome = None
    if form.validate_on_submit():
        outcome = attempt(services.update_action, current_user, action, form.kind.data, form.note.data,
                          form.version.data, form=form, stale=STALE_UPDATE)
        if outcome:
            return _after_step(action, "Action updated.", chase_form)
    return _action_page(action, update=form if form.is_submitted() else None,
                        chase=chase_form if form.is_submitted() and _typed(chase_form) else None,
                        stale=outcome is not None and outcome.stale)


@bp.route("/actions/<uuid:action_id>/chase", methods=["POST"])
@access("signed_in")
def chase(action_id):
    """Record the manager's chase of the owner agency."""
    action = get_or_404(Action, action_id)
    require(action.can_update(current_user) and action.can_chase(current_user))
    form = ChaseForm(prefix="chase")
    update_form = ActionUpdateForm(prefix="update")
    outcome = None
    if form.validate_on_submit():
        outcome = attempt(services.update_action, current_user, action, UpdateKind.CHASE, form.note.data,
                          form.version.data, form=form, stale=STALE_UPDATE)
        if outcome:
            return _after_step(action, "Chase recorded.", update_form)
    return _action_page(action, chase=form, update=update_form if _typed(update_form) else None,
                        stale=outcome is not None and outcome.stale)
