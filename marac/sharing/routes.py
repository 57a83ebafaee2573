"""The panel manager's page of the panel's sharing rules."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from marac.core.permissions import access, get_or_404, require
from marac.panels.models import Panel
from marac.sharing import services
from marac.sharing.forms import SharingRulesForm

bp = Blueprint("sharing", __name__)


@bp.route("/panels/<uuid:panel_id>/sharing-rules", methods=["GET", "POST"])
@access("signed_in")
def rules(panel_id):
    """The panel's sharing rules: shown, and saved by the panel manager."""
    panel = get_or_404(Panel, panel_id)
    require(panel.is_manager(current_user))
    form = SharingRulesForm() if request.method == "POST" else SharingRulesForm.of(services.rules_for(panel))
    if form.validate_on_submit():
        changes = services.set_rules(current_user, panel, form.allowed())
        flash(f"Sharing rules saved ({len(changes)} change{'' if len(changes) == 1 else 's'}).")
        return redirect(url_for("sharing.rules", panel_id=panel.id))
    return render_template("sharing/rules.html", panel=panel, form=form)
