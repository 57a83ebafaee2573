"""Administrators' pages for user accounts."""
import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from marac.agencies.models import Agency
from marac.core.forms import ConfirmForm
from marac.core.pagination import page_number
from marac.core.permissions import access, get_or_404
from marac.extensions import db
from marac.users import services
from marac.users.forms import UserForm
from marac.users.models import User

bp = Blueprint("users", __name__, url_prefix="/admin/users")


def _agencies():
    return db.session.execute(select(Agency).where(Agency.is_active.is_(True)).order_by(Agency.name)).scalars().all()


def _agency_filter():
    value = request.args.get("agency", "")
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@bp.route("/")
@access("admin")
def index():
    agency_id = _agency_filter()
    stmt = select(User).order_by(User.full_name)
    if agency_id:
        stmt = stmt.where(User.agency_id == agency_id)
    pagination = db.paginate(stmt, page=page_number(request), per_page=50, error_out=False)
    return render_template("users/index.html", pagination=pagination, agencies=_agencies(),
                           agency_id=agency_id)


@bp.route("/new", methods=["GET", "POST"])
@access("admin")
def new():
    form = UserForm()
    form.set_agencies(_agencies())
    if form.is_submitted():
        valid = form.validate()
        if services.email_taken(form.email.data):
            form.email.errors.append("Another user already has this email address")
        elif valid:
            agency = get_or_404(Agency, uuid.UUID(form.agency_id.data))
            user, password = services.create_user(
                current_user, agency, form.email.data, form.full_name.data, form.job_title.data,
                is_admin=form.is_admin.data)
            db.session.commit()
            return render_template("users/one_time_password.html", user=user, password=password, created=True)
    return render_template("users/form.html", form=form, user=None)


@bp.route("/<uuid:user_id>")
@access("admin")
def detail(user_id):
    user = get_or_404(User, user_id)
    return render_template("users/detail.html", user=user, roles=user.panel_roles, form=ConfirmForm())


@bp.route("/<uuid:user_id>/edit", methods=["GET", "POST"])
@access("admin")
def edit(user_id):
    user = get_or_404(User, user_id)
    form = UserForm(obj=user, agency_id=str(user.agency_id))
    form.set_agencies(_agencies())
    if form.is_submitted():
        valid = form.validate()
        if services.email_taken(form.email.data, exclude_id=user.id):
            form.email.errors.append("Another user already has this email address")
        elif user.id == current_user.id and not form.is_admin.data:
            form.is_admin.errors.append("You cannot remove your own administrator access")
        elif valid:
            agency = get_or_404(Agency, uuid.UUID(form.agency_id.data))
            services.update_user(current_user, user, full_name=form.full_name.data.strip(),
                                 email=form.email.data, job_title=(form.job_title.data or "").strip() or None,
                                 agency_id=agency.id, is_admin=form.is_admin.data)
            db.session.commit()
            flash("User saved.")
            return redirect(url_for("users.detail", user_id=user.id))
    return render_template("users/form.html", form=form, user=user)


CONFIRMATIONS = {
    "deactivate": ("Deactivate this user?",
                   "They will be signed out at once and cannot sign in until reactivated.", "Deactivate user"),
    "reactivate": ("Reactivate this user?", "They will be able to sign in again.", "Reactivate user"),
    "reset-password": ("Reset this user's password?",
                       "They will be signed out and given a new one-time password, which you pass on to them.",
                       "Reset password"),
    "reset-mfa": ("Reset this user's authenticator?",
                  "They will be signed out and asked to set up their authenticator app again at next sign-in.",
                  "Reset authenticator"),
}


@bp.route("/<uuid:user_id>/<any(deactivate, reactivate, 'reset-password', 'reset-mfa'):operation>",
          methods=["GET", "POST"])
@access("admin")
def confirm(user_id, operation):
    """Each account operation asks for confirmation first (GET), then does it (POST)."""
    user = get_or_404(User, user_id)
    form = ConfirmForm()
    problem = None
    if operation == "deactivate" and user.id == current_user.id:
        problem = "You cannot deactivate your own account."
    if form.validate_on_submit() and problem is None:
        if operation == "deactivate":
            services.deactivate_user(current_user, user)
            message = f"{user.full_name} has been deactivated and signed out."
        elif operation == "reactivate":
            services.reactivate_user(current_user, user)
            message = f"{user.full_name} has been reactivated."
        elif operation == "reset-mfa":
            services.reset_mfa(current_user, user)
            message = f"{user.full_name} will set up their authenticator app at next sign-in."
        else:
            password = services.reset_password(current_user, user)
            db.session.commit()
            return render_template("users/one_time_password.html", user=user, password=password, created=False)
        db.session.commit()
        flash(message)
        return redirect(url_for("users.detail", user_id=user.id))
    title, body, button = CONFIRMATIONS[operation]
    return render_template("users/confirm.html", user=user, form=form, title=title, body=body,
                           button=button, problem=problem, operation=operation)
