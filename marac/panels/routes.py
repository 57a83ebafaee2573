"""Panel overview for role holders; administrators' pages for panels, members and roles."""
import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from marac.agencies.models import Agency
from marac.core.forms import ConfirmForm
from marac.core.pagination import page_number
from marac.core.permissions import access, get_or_404, require
from marac.extensions import db
from marac.panels import services
from marac.panels.forms import MemberForm, PanelForm, RoleForm
from marac.panels.models import Panel, PanelMember, PanelRole
from marac.users.models import User

bp = Blueprint("panels", __name__)

PANEL_FIELDS = ("kind", "name", "area", "cadence", "agenda_lead_days", "capacity", "is_active")


def _values(form):
    values = {name: getattr(form, name).data for name in PANEL_FIELDS}
    values["name"], values["area"] = values["name"].strip(), values["area"].strip()
    values["weekday"] = int(form.weekday.data)
    return values


@bp.route("/panels/<uuid:panel_id>")
@access("signed_in")
def overview(panel_id):
    panel = get_or_404(Panel, panel_id)
    require(panel.can_view_overview(current_user))
    members = sorted(panel.members, key=lambda m: m.agency.name)
    roles = sorted(panel.roles, key=lambda r: (r.role, r.user.full_name))
    return render_template("panels/overview.html", panel=panel, members=members, roles=roles,
                           can_manage=panel.can_manage(current_user))


@bp.route("/admin/panels/")
@access("admin")
def index():
    pagination = db.paginate(select(Panel).order_by(Panel.name), page=page_number(request), per_page=50,
                             error_out=False)
    return render_template("panels/index.html", pagination=pagination)


@bp.route("/admin/panels/new", methods=["GET", "POST"])
@access("admin")
def new():
    form = PanelForm()
    if form.is_submitted():
        valid = form.validate()
        if services.name_taken(form.name.data):
            form.name.errors.append("Another panel already has this name")
        elif valid:
            panel = services.create_panel(current_user, **_values(form))
            db.session.commit()
            flash(f"Panel {panel.name} added. Now add its member agencies and roles.")
            return redirect(url_for("panels.overview", panel_id=panel.id))
    return render_template("panels/form.html", form=form, panel=None)


@bp.route("/admin/panels/<uuid:panel_id>/edit", methods=["GET", "POST"])
@access("admin")
def edit(panel_id):
    panel = get_or_404(Panel, panel_id)
    form = PanelForm(obj=panel, weekday=str(panel.weekday))
    if form.is_submitted():
        valid = form.validate()
        if services.name_taken(form.name.data, exclude_id=panel.id):
            form.name.errors.append("Another panel already has this name")
        elif valid:
            services.update_panel(current_user, panel, **_values(form))
            db.session.commit()
            flash("Panel saved.")
            return redirect(url_for("panels.overview", panel_id=panel.id))
    return render_template("panels/form.html", form=form, panel=panel)


@bp.route("/admin/panels/<uuid:panel_id>/members/new", methods=["GET", "POST"])
@access("admin")
def add_member(panel_id):
    panel = get_or_404(Panel, panel_id)
    present = {m.agency_id for m in panel.members}
    agencies = [a for a in db.session.execute(
        select(Agency).where(Agency.is_active.is_(True)).order_by(Agency.name)).scalars() if a.id not in present]
    form = MemberForm()
    form.agency_id.choices = [("", "Choose an agency")] + [(str(a.id), a.name) for a in agencies]
    if form.validate_on_submit():
        agency = get_or_404(Agency, uuid.UUID(form.agency_id.data))
        services.add_member(current_user, panel, agency, form.is_core.data)
        db.session.commit()
        flash(f"{agency.name} added to {panel.name}.")
        return redirect(url_for("panels.overview", panel_id=panel.id))
    return render_template("panels/member_form.html", form=form, panel=panel, agencies=agencies)


@bp.route("/admin/panels/<uuid:panel_id>/members/<uuid:member_id>/remove", methods=["GET", "POST"])
@access("admin")
def remove_member(panel_id, member_id):
    panel = get_or_404(Panel, panel_id)
    member = get_or_404(PanelMember, member_id)
    if member.panel_id != panel.id:
        abort(404)
    form = ConfirmForm()
    blocking = services.representatives_of(panel, member.agency_id)
    if form.validate_on_submit() and not blocking:
        name = member.agency.name
        services.remove_member(current_user, panel, member)
        db.session.commit()
        flash(f"{name} removed from {panel.name}.")
        return redirect(url_for("panels.overview", panel_id=panel.id))
    return render_template("panels/remove_member.html", form=form, panel=panel, member=member, blocking=blocking)


@bp.route("/admin/panels/<uuid:panel_id>/roles/new", methods=["GET", "POST"])
@access("admin")
def add_role(panel_id):
    panel = get_or_404(Panel, panel_id)
    users = db.session.execute(
        select(User).where(User.is_active.is_(True)).order_by(User.full_name)).scalars().all()
    form = RoleForm()
    form.user_id.choices = [("", "Choose a user")] + [(str(u.id), f"{u.full_name} ({u.agency.short_name})")
                                                      for u in users]
    if form.validate_on_submit():
        user = get_or_404(User, uuid.UUID(form.user_id.data))
        problem = services.role_problem(panel, user, form.role.data)
        if problem:
            form.user_id.errors.append(problem)
        else:
            services.add_role(current_user, panel, user, form.role.data)
            db.session.commit()
            flash(f"{user.full_name} is now {form.role.data} on {panel.name}.")
            return redirect(url_for("panels.overview", panel_id=panel.id))
    return render_template("panels/role_form.html", form=form, panel=panel)


@bp.route("/admin/panels/<uuid:panel_id>/roles/<uuid:role_id>/remove", methods=["GET", "POST"])
@access("admin")
def remove_role(panel_id, role_id):
    panel = get_or_404(Panel, panel_id)
    panel_role = get_or_404(PanelRole, role_id)
    if panel_role.panel_id != panel.id:
        abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.remove_role(current_user, panel, panel_role)
        db.session.commit()
        flash("Role removed.")
        return redirect(url_for("panels.overview", panel_id=panel.id))
    return render_template("panels/remove_role.html", form=form, panel=panel, panel_role=panel_role)
