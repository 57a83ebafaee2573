"""Administrators' pages for user accounts."""
import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from marac.agencies.models import Agency
from marac.agencies.services import active_agencies
from marac.core.forms import ConfirmForm
from marac.core.pagination import page_number
from marac.core.permissions import access, get_or_404
from marac.core.steps import attempt
from marac.users import services
from marac.users.forms import UserForm
from marac.users.models import ApprovalRequest, User

bp = Blueprint("users", __name__, url_prefix="/admin/users")


def _agency_filter():
    value = request.args.get("agency", "")
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _submitted(form, user=None):
    """Validate the form and ask the service about the email address and administrator access, so
    that every problem shows at once."""
    if not form.is_submitted():
        return False
    valid = form.validate()
    allowed = attempt(services.check_details, current_user, user, form.email.data, form.is_admin.data, form=form)
    return valid and bool(allowed)


@bp.route("/")
@access("admin")
def index():
    """Every user (of one agency, or all), a page at a time."""
    agency_id = _agency_filter()
    return render_template("users/index.html", pagination=services.users_page(page_number(request), agency_id),
                           agencies=active_agencies(), agency_id=agency_id)


@bp.route("/new", methods=["GET", "POST"])
@access("admin")
def new():
    """Add an account and show its one-time password once."""
    form = UserForm()
    form.set_agencies(active_agencies())
    if _submitted(form):
        agency = get_or_404(Agency, uuid.UUID(form.agency_id.data))
        created = attempt(services.create_user, current_user, agency, form.email.data, form.full_name.data,
                          form.job_title.data, is_admin=form.is_admin.data, is_dpo=form.is_dpo.data, form=form)
        if created:
            user, password = created.value
            return render_template("users/one_time_password.html", user=user, password=password, created=True,
                                   admin_waiting=(form.is_admin.data and not user.is_admin)
                                   or (form.is_dpo.data and not user.is_dpo))
    return render_template("users/form.html", form=form, user=None)


@bp.route("/<uuid:user_id>")
@access("admin")
def detail(user_id):
    """One account: details, panel roles and what an administrator can do to it."""
    user = get_or_404(User, user_id)
    return render_template("users/detail.html", user=user, roles=user.panel_roles)


@bp.route("/<uuid:user_id>/edit", methods=["GET", "POST"])
@access("admin")
def edit(user_id):
    """Change an account's details."""
    user = get_or_404(User, user_id)
    form = UserForm(obj=user, agency_id=str(user.agency_id))
    form.set_agencies(active_agencies())
    if _submitted(form, user):
        agency = get_or_404(Agency, uuid.UUID(form.agency_id.data))
        if attempt(services.update_user, current_user, user, full_name=form.full_name.data.strip(),
                   email=form.email.data, job_title=(form.job_title.data or "").strip() or None,
                   agency_id=agency.id, is_admin=form.is_admin.data, is_dpo=form.is_dpo.data, form=form):
            waiting = (form.is_admin.data and not user.is_admin) or (form.is_dpo.data and not user.is_dpo)
            flash("User saved." + (" The access asked for waits for another administrator's approval on the Approvals "
                                   "page." if waiting else ""))
            return redirect(url_for("users.detail", user_id=user.id))
    return render_template("users/form.html", form=form, user=user)


# Each account operation asks for confirmation first (GET), then does it (POST):
# title, body, button and button kind of its confirmation page.
CONFIRMATIONS = {
    "deactivate": ("Deactivate this user?",
                   "They will be signed out at once and cannot sign in until reactivated.", "Deactivate user",
                   "warning"),
    "reactivate": ("Reactivate this user?", "They will be able to sign in again.", "Reactivate user", None),
    "reset_password": ("Reset this user's password?",
                       "They will be signed out and given a new one-time password, which you pass on to them.",
                       "Reset password", None),
    "reset_mfa": ("Reset this user's authenticator?",
                  "They will be signed out and asked to set up their authenticator app again at next sign-in.",
                  "Reset authenticator", None),
}


def _confirm(user_id, operation, step, done, problem=None, needs_approval=None):
    """The confirmation page of an account operation; on a confirmed POST, the step, then done(user,
    value); or, when the step only asked for a second administrator's approval, back to the user."""
    user = get_or_404(User, user_id)
    form = ConfirmForm()
    if form.validate_on_submit() and (outcome := attempt(step, current_user, user, form=form)):
        if isinstance(outcome.value, ApprovalRequest):
            return _waiting_for_approval(user)
        return done(user, outcome.value)
    title, body, button, kind = CONFIRMATIONS[operation]
    approval = bool(needs_approval and needs_approval(user))
    return render_template("users/confirm.html", user=user, form=form, title=title, body=body,
                           button="Ask for approval" if approval else button, kind=kind, needs_approval=approval,
                           problem=problem(current_user, user) if problem else None)


def _waiting_for_approval(user):
    flash(f"Another administrator must approve this before it happens to {user.full_name}: it is waiting on "
          "the Approvals page." + ("" if services.active_admin_count() > 1 else
                                    " You are the only administrator, so a second administrator is needed."))
    return redirect(url_for("users.detail", user_id=user.id))


def _back_to_user(message):
    """done() for _confirm: flash the message (with {name}) and go back to the user's page."""
    def done(user, _):
        """Flash the message and go back to the user's page."""
        flash(message.format(name=user.full_name))
        return redirect(url_for("users.detail", user_id=user.id))
    return done


@bp.route("/<uuid:user_id>/deactivate", methods=["GET", "POST"])
@access("admin")
def deactivate(user_id):
    """Deactivate an account (not one's own), after confirmation."""
    return _confirm(user_id, "deactivate", services.deactivate_user,
                    _back_to_user("{name} has been deactivated and signed out."), problem=services.why_not_deactivate)


@bp.route("/<uuid:user_id>/reactivate", methods=["GET", "POST"])
@access("admin")
def reactivate(user_id):
    """Reactivate an account, after confirmation."""
    return _confirm(user_id, "reactivate", services.reactivate_user, _back_to_user("{name} has been reactivated."))


@bp.route("/<uuid:user_id>/reset-password", methods=["GET", "POST"])
@access("admin")
def reset_password(user_id):
    """Give an account a new one-time password, after confirmation."""
    return _confirm(user_id, "reset_password", services.reset_password, lambda user, password: render_template(
        "users/one_time_password.html", user=user, password=password, created=False),
        needs_approval=services.reset_needs_approval)


@bp.route("/<uuid:user_id>/reset-mfa", methods=["GET", "POST"])
@access("admin")
def reset_mfa(user_id):
    """Remove an account's authenticator, after confirmation."""
    return _confirm(user_id, "reset_mfa", services.reset_mfa,
                    _back_to_user("{name} will set up their authenticator app at next sign-in."),
                    needs_approval=services.reset_needs_approval)
