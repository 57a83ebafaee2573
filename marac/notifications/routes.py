"""One's own choice of optional emails, from the account page."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from marac.core.permissions import access
from marac.core.steps import attempt
from marac.notifications import services
from marac.notifications.forms import EmailPreferencesForm
from marac.notifications.models import OPTIONAL_KINDS

bp = Blueprint("notifications", __name__)


@bp.route("/account/emails", methods=["GET", "POST"])
@access("signed_in")
def preferences():
    """Choose which optional emails to receive; the others are always sent."""
    form = EmailPreferencesForm()
    if not form.is_submitted():
        off = services.opted_out_kinds(current_user)
        form.wanted.data = [kind.value for kind in OPTIONAL_KINDS if kind not in off]
    if form.validate_on_submit() and attempt(services.set_preferences, current_user, form.wanted.data or [],
                                             form=form):
        flash("Your email choices are saved.")
        return redirect(url_for("auth.account"))
    return render_template("notifications/preferences.html", form=form)
