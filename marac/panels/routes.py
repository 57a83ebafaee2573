"""Panel overview for role holders; administrators' pages for panels, members and roles, and for the
requests that wait for a second administrator's approval."""
import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from marac.agencies.models import Agency
from marac.core.forms import ConfirmForm
from marac.core.pagination import page_number
from marac.core.permissions import access, get_or_404, require
from marac.core.steps import attempt
from marac.panels import services
from marac.panels.forms import MemberForm, PanelForm, RoleForm
from marac.panels.models import Panel, PanelMember, PanelRole
from marac.users import services as users
from marac.users.models import ApprovalRequest, User
from marac.users.services import active_users

bp = Blueprint("panels", __name__)


def _submitted(form, exclude_id=None):
    """Validate the form and ask the service whether the name is free, so that every problem shows at once."""
    if not form.is_submitted():
        return False
    valid = form.validate()
    free = attempt(services.check_name, form.name.data, exclude_id, form=form)
    return valid and bool(free)


def _part_of(panel, obj):
    """404 unless the member or role belongs to this panel (it was named in the panel's URL)."""
    if obj.panel_id != panel.id:
        abort(404)
    return obj


@bp.route("/panels/<uuid:panel_id>")
@access("signed_in")
def overview(panel_id):
    """A panel's settings, member agencies and people, for its role holders and administrators."""
    panel = get_or_404(Panel, panel_id)
    require(panel.can_view_overview(current_user))
    members = sorted(panel.members, key=lambda m: m.agency.name)
    roles = sorted(panel.roles, key=lambda r: (r.role, r.user.full_name))
    return render_template("panels/overview.html", panel=panel, members=members, roles=roles,
                           can_manage=panel.can_manage(current_user))


@bp.route("/admin/panels/")
@access("admin")
def index():
    """Every panel, a page at a time."""
    return render_template("panels/index.html", pagination=services.panels_page(page_number(request)))


@bp.route("/admin/panels/new", methods=["GET", "POST"])
@access("admin")
def new():
    """Add a panel."""
    form = PanelForm()
    if _submitted(form) and (created := attempt(services.create_panel, current_user, **form.values(), form=form)):
        panel = created.value
        flash(f"Panel {panel.name} added. Now add its member agencies and roles.")
        return redirect(url_for("panels.overview", panel_id=panel.id))
    return render_template("panels/form.html", form=form, panel=None)


@bp.route("/admin/panels/<uuid:panel_id>/edit", methods=["GET", "POST"])
@access("admin")
def edit(panel_id):
    """Change a panel's settings."""
    panel = get_or_404(Panel, panel_id)
    form = PanelForm(obj=panel, weekday=str(panel.weekday))
    if _submitted(form, exclude_id=panel.id) and attempt(services.update_panel, current_user, panel,
                                                         **form.values(), form=form):
        flash("Panel saved.")
        return redirect(url_for("panels.overview", panel_id=panel.id))
    return render_template("panels/form.html", form=form, panel=panel)


@bp.route("/admin/panels/<uuid:panel_id>/members/new", methods=["GET", "POST"])
@access("admin")
def add_member(panel_id):
    """Seat an agency on the panel."""
    panel = get_or_404(Panel, panel_id)
    agencies = services.agencies_to_add(panel)
    form = MemberForm()
    form.set_agencies(agencies)
    if form.validate_on_submit():
        agency = get_or_404(Agency, uuid.UUID(form.agency_id.data))
        if attempt(services.add_member, current_user, panel, agency, form.is_core.data, form=form):
            flash(f"{agency.name} added to {panel.name}.")
            return redirect(url_for("panels.overview", panel_id=panel.id))
    return render_template("panels/member_form.html", form=form, panel=panel, agencies=agencies)


@bp.route("/admin/panels/<uuid:panel_id>/members/<uuid:member_id>/remove", methods=["GET", "POST"])
@access("admin")
def remove_member(panel_id, member_id):
    """Remove an agency from the panel, after confirmation."""
    panel = get_or_404(Panel, panel_id)
    member = _part_of(panel, get_or_404(PanelMember, member_id))
    name = member.agency.name
    form = ConfirmForm()
    if form.validate_on_submit() and attempt(services.remove_member, current_user, panel, member, form=form):
        flash(f"{name} removed from {panel.name}.")
        return redirect(url_for("panels.overview", panel_id=panel.id))
    return render_template("panels/remove_member.html", form=form, panel=panel, member=member,
                           problem=services.why_not_remove_member(panel, member),
                           blocking=services.representatives_of(panel, member.agency_id))


@bp.route("/admin/panels/<uuid:panel_id>/roles/new", methods=["GET", "POST"])
@access("admin")
def add_role(panel_id):
    """Give someone a role on the panel."""
    panel = get_or_404(Panel, panel_id)
    form = RoleForm()
    form.set_users(active_users())
    if form.validate_on_submit():
        user = get_or_404(User, uuid.UUID(form.user_id.data))
        if added := attempt(services.add_role, current_user, panel, user, form.role.data, form=form):
            if isinstance(added.value, ApprovalRequest):
                flash("Giving yourself a role needs another administrator's approval: your request is waiting on "
                      "the Approvals page." + _second_admin_note())
            else:
                flash(f"{user.full_name} is now {form.role.data} on {panel.name}.")
            return redirect(url_for("panels.overview", panel_id=panel.id))
    return render_template("panels/role_form.html", form=form, panel=panel)


@bp.route("/admin/panels/<uuid:panel_id>/roles/<uuid:role_id>/remove", methods=["GET", "POST"])
@access("admin")
def remove_role(panel_id, role_id):
    """Take a role away, after confirmation."""
    panel = get_or_404(Panel, panel_id)
    panel_role = _part_of(panel, get_or_404(PanelRole, role_id))
    form = ConfirmForm()
    if form.validate_on_submit() and attempt(services.remove_role, current_user, panel, panel_role, form=form):
        flash("Role removed.")
        return redirect(url_for("panels.overview", panel_id=panel.id))
    return render_template("panels/remove_role.html", form=form, panel=panel, panel_role=panel_role)


def _second_admin_note():
    return "" if users.active_admin_count() > 1 else " You are the only administrator, so a second administrator is needed."


@bp.route("/admin/approvals/")
@access("admin")
def approvals():
    """The requests waiting for a second administrator, and the latest decisions."""
    pending, decided = users.pending_approvals(), users.recent_decisions()
    return render_template("panels/approvals.html", pending=pending, decided=decided,
                           panels=services.panels_of([*pending, *decided]),
                           admin_count=users.active_admin_count())


# The decisions on a request, each confirmed first (GET) and then taken (POST): title, button, button kind.
DECISIONS = {
    "approve": ("Approve this request?", "Approve", None),
    "reject": ("Reject this request?", "Reject", "warning"),
}


def _decide(approval_id, decision, step):
    """The confirmation page of a decision; on a confirmed POST, the step."""
    approval = get_or_404(ApprovalRequest, approval_id)
    form = ConfirmForm()
    if form.validate_on_submit() and (outcome := attempt(step, current_user, approval, form=form)):
        if isinstance(outcome.value, str):  # a password reset: its one-time password, shown once
            return render_template("users/one_time_password.html", user=approval.target_user,
                                   password=outcome.value, created=False)
        flash("Request approved and done." if decision == "approve" else "Request rejected: nothing has changed.")
        return redirect(url_for("panels.approvals"))
    title, button, kind = DECISIONS[decision]
    return render_template("panels/decide.html", approval=approval, form=form, title=title, button=button,
                           kind=kind, panels=services.panels_of([approval]),
                           problem=users.why_not_decide(current_user, approval))


@bp.route("/admin/approvals/<uuid:approval_id>/approve", methods=["GET", "POST"])
@access("admin")
def approve(approval_id):
    """Approve another administrator's request, and so do what it asks, after confirmation."""
    return _decide(approval_id, "approve", services.approve)


@bp.route("/admin/approvals/<uuid:approval_id>/reject", methods=["GET", "POST"])
@access("admin")
def reject(approval_id):
    """Reject another administrator's request, after confirmation."""
    return _decide(approval_id, "reject", users.reject)
