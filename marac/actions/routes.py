"""Actions: an agency's list across panels, the manager's RAG list, and updating one action."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from marac.actions import services
from marac.actions.models import ACTION_STATUSES, UPDATE_KINDS, Action
from marac.core.pagination import page_number
from marac.core.permissions import access, get_or_404, require
from marac.core.timeutil import utcnow
from marac.core.steps import StaleEdit, StepRefused
from marac.extensions import db
from marac.meetings.forms import ActionUpdateForm, ChaseForm
from marac.panels.models import Panel

bp = Blueprint("actions", __name__)


def _status_filter():
    value = request.args.get("status", "open")
    return value if value in ACTION_STATUSES else None


@bp.route("/actions")
@access("signed_in")
def mine():
    """The actions of the user's agency, open ones first and the most overdue first."""
    today = utcnow().date()
    status = _status_filter()
    pagination = services.agency_actions(current_user, today, page_number(request), status)
    return render_template("actions/index.html", pagination=pagination, today=today, status=status,
                           statuses=ACTION_STATUSES, panel=None)


@bp.route("/panels/<uuid:panel_id>/actions")
@access("signed_in")
def panel(panel_id):
    panel = get_or_404(Panel, panel_id)
    require(panel.is_manager(current_user))
    today = utcnow().date()
    status = _status_filter()
    pagination = services.panel_actions(panel, today, page_number(request), status)
    return render_template("actions/index.html", pagination=pagination, today=today, status=status,
                           statuses=ACTION_STATUSES, panel=panel)


@bp.route("/actions/<uuid:action_id>", methods=["GET", "POST"])
@access("signed_in")
def detail(action_id):
    action = get_or_404(Action, action_id)
    require(action.can_update(current_user))
    form = ActionUpdateForm(prefix="update")
    chase = ChaseForm(prefix="chase")
    stale = False
    if request.method == "POST":
        chosen = chase if request.form.get("op") == "chase" else form
        if chosen is chase:
            require(action.can_chase(current_user))
        if chosen.validate_on_submit():
            kind = "chase" if chosen is chase else form.kind.data
            try:
                services.update_action(current_user, action, kind, chosen.note.data, chosen.version.data)
                db.session.commit()
            except (StaleEdit, StaleDataError):
                db.session.rollback()
                db.session.refresh(action)
                stale = True
                chosen.form_errors.append("Someone else updated this action while you were writing. Their update "
                                          "is shown below; your note is still in the box: check it and save again.")
            except StepRefused as error:
                chosen.form_errors.append(str(error))
            else:
                flash("Action updated." if kind != "chase" else "Chase recorded.")
                return redirect(url_for("actions.detail", action_id=action.id))
    if request.method == "GET" or stale:
        form.version.data = chase.version.data = str(action.version)
    return render_template("actions/detail.html", action=action, form=form, chase=chase, kinds=UPDATE_KINDS,
                           today=utcnow().date(), can_chase=action.can_chase(current_user))
