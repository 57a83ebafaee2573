"""The auditor page for administrators: filter, page through and export audit events."""
import csv
import io
import json
import uuid
from datetime import datetime, time, timedelta, timezone

from flask import Blueprint, Response, render_template, request
from flask_login import current_user
from sqlalchemy import select

from marac.agencies.models import Agency
from marac.auditor.forms import AuditFilterForm
from marac.audit.models import AuditEvent
from marac.audit.services import record
from marac.core.pagination import page_number
from marac.core.permissions import access
from marac.extensions import db
from marac.users.models import User

bp = Blueprint("auditor", __name__, url_prefix="/admin/audit")

EXPORT_LIMIT = 100_000
CSV_COLUMNS = ("seq", "occurred_at", "actor_user_id", "actor_agency_id", "action", "object_type", "object_id",
               "recipient_agency_id", "purpose", "client_addr", "detail", "hash")


def _filter_form():
    form = AuditFilterForm(request.args)
    users = db.session.execute(select(User.id, User.full_name).order_by(User.full_name)).all()
    agencies = db.session.execute(select(Agency.id, Agency.name).order_by(Agency.name)).all()
    form.user_id.choices = [("", "Any user")] + [(str(i), n) for i, n in users]
    form.agency_id.choices = [("", "Any agency")] + [(str(i), n) for i, n in agencies]
    return form


def _filtered(form):
    stmt = select(AuditEvent).order_by(AuditEvent.seq.desc())
    if form.user_id.data:
        stmt = stmt.where(AuditEvent.actor_user_id == uuid.UUID(form.user_id.data))
    if form.agency_id.data:
        stmt = stmt.where(AuditEvent.actor_agency_id == uuid.UUID(form.agency_id.data))
    if form.action.data:
        action = form.action.data.strip()
        stmt = stmt.where(AuditEvent.action.startswith(action) if action.endswith(".")
                          else AuditEvent.action == action)
    if form.object_id.data:
        stmt = stmt.where(AuditEvent.object_id == form.object_id.data.strip())
    if form.date_from.data:
        stmt = stmt.where(AuditEvent.occurred_at >= datetime.combine(form.date_from.data, time(), timezone.utc))
    if form.date_to.data:
        end = datetime.combine(form.date_to.data, time(), timezone.utc) + timedelta(days=1)
        stmt = stmt.where(AuditEvent.occurred_at < end)
    return stmt


@bp.route("/")
@access("admin")
def index():
    form = _filter_form()
    valid = form.validate() if request.args else True
    pagination = db.paginate(_filtered(form) if valid else select(AuditEvent).where(False),
                             page=page_number(request), per_page=50, error_out=False)
    names = dict(db.session.execute(select(User.id, User.full_name)).all())
    agencies = dict(db.session.execute(select(Agency.id, Agency.short_name)).all())
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("auditor/index.html", form=form, pagination=pagination, names=names,
                           agencies=agencies, args=args, valid=valid)


@bp.route("/export.csv")
@access("admin")
def export():
    form = _filter_form()
    if request.args and not form.validate():
        return render_template("auditor/index.html", form=form, pagination=None, names={}, agencies={},
                               args={}, valid=False), 400
    events = db.session.execute(_filtered(form).limit(EXPORT_LIMIT)).scalars().all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for event in events:
        writer.writerow([_csv_cell(getattr(event, column)) for column in CSV_COLUMNS])
    filters = {k: v for k, v in request.args.items() if v}
    record("audit.exported", current_user, object_type="audit_events",
           detail={"rows": len(events), "filters": ",".join(sorted(filters))})
    db.session.commit()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="OFFICIAL-SENSITIVE-audit-{stamp}.csv"'})


def _csv_cell(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    text = "" if value is None else str(value)
    # Neutralise spreadsheet formulas (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
