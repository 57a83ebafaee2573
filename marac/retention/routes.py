"""The administrator's retention pages: every panel's schedule, its form, and the cases now due."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from marac.audit.services import record_read
from marac.core.permissions import access, get_or_404
from marac.core.steps import attempt
from marac.panels.models import Panel, PanelKind
from marac.retention import services
from marac.retention.forms import ScheduleForm

bp = Blueprint("retention", __name__)


@bp.route("/admin/retention")
@access("admin")
def index():
    """Every panel's retention schedule, and what the next daily run would delete (reference and date only)."""
    due = services.due_cases()
    # Working out a MACE case's date reads its young person's date of birth (never shown): declared.
    record_read("retention.due_viewed", current_user, object_type="retention", detail={"due": len(due)})
    return render_template("retention/index.html", schedules=services.panel_schedules(),
                           due=[d for d in due if not d.held], held=[d for d in due if d.held])


@bp.route("/admin/retention/panels/<uuid:panel_id>", methods=["GET", "POST"])
@access("admin")
def schedule(panel_id):
    """Set a panel's retention schedule."""
    panel = get_or_404(Panel, panel_id)
    current = services.schedule_of(panel)
    form = ScheduleForm(data={"years": current.years, "age_limit": current.age_limit})
    if form.validate_on_submit() and attempt(services.update_schedule, current_user, panel, form.years.data,
                                             form.age_limit.data, form=form):
        flash(f"Retention schedule of {panel.name} saved: cases are kept {services.schedule_of(panel).description}.")
        return redirect(url_for("retention.index"))
    return render_template("retention/schedule.html", panel=panel, form=form, current=current,
                           asks_age=panel.kind == PanelKind.MACE)
