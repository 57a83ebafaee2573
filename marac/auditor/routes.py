"""The auditor page for administrators: filter, page through and export audit events."""
from flask import Blueprint, render_template, request
from flask_login import current_user

from marac.auditor import services
from marac.auditor.forms import AuditFilterForm
from marac.core.downloads import attachment
from marac.core.pagination import CURSORS, cursor
from marac.core.permissions import access
from marac.core.timeutil import utcnow

bp = Blueprint("auditor", __name__, url_prefix="/admin/audit")


def _filter_form():
    form = AuditFilterForm(request.args)
    form.set_choices(services.user_names(), services.agency_names())
    return form


@bp.route("/")
@access("admin")
def index():
    """The audit events matching the filters, a page at a time."""
    form = _filter_form()
    valid = form.validate() if request.args else True
    pagination = services.events_page(form.criteria() if valid else None, cursor(request, key_type=int))
    names, agencies = services.names_beside_events()
    args = {k: v for k, v in request.args.items() if k not in ("page", "last", *CURSORS)}
    return render_template("auditor/index.html", form=form, pagination=pagination, names=names,
                           agencies=agencies, args=args, valid=valid)


@bp.route("/export.csv")
@access("admin")
def export():
    """The audit events matching the filters as a CSV file; the export is audited."""
    form = _filter_form()
    if request.args and not form.validate():
        return render_template("auditor/index.html", form=form, pagination=None, names={}, agencies={},
                               args={}, valid=False), 400
    filters = [k for k, v in request.args.items() if v]
    text = services.export_csv(current_user, form.criteria(), filters)
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    return attachment(f"OFFICIAL-SENSITIVE-audit-{stamp}.csv", text, "text/csv; charset=utf-8")
