"""Reading the audit trail for the auditor's page: filter choices, the filtered events, names, the export."""
import csv
import io
import json
import uuid
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import or_, select

from marac.agencies.models import Agency
from marac.audit.models import AuditEvent, AuditEventRef
from marac.audit.services import record, refs_of
from marac.core.pagination import keyset_page
from marac.extensions import db
from marac.users.models import User

PER_PAGE = 50
EXPORT_LIMIT = 100_000
CSV_COLUMNS = ("seq", "occurred_at", "actor_user_id", "actor_agency_id", "action", "object_type", "object_id",
               "recipient_agency_id", "purpose", "client_addr", "detail", "hash")


def user_names():
    """(id, full name) of every user by name, for the filter."""
    return db.session.execute(select(User.id, User.full_name).order_by(User.full_name)).all()


def agency_names():
    """(id, name) of every agency by name, for the filter."""
    return db.session.execute(select(Agency.id, Agency.name).order_by(Agency.name)).all()


def filtered(user_id=None, agency_id=None, action=None, object_id=None, date_from=None, date_to=None):
    """The events matching the filters, newest first. An action ending in "." matches every action under it;
    an object id matches the events about the object and those that name it in their detail (a case
    among those a list showed), through audit_event_refs."""
    stmt = select(AuditEvent).order_by(AuditEvent.seq.desc())
    if user_id:
        stmt = stmt.where(AuditEvent.actor_user_id == uuid.UUID(user_id))
    if agency_id:
        stmt = stmt.where(AuditEvent.actor_agency_id == uuid.UUID(agency_id))
    if action:
        action = action.strip()
        stmt = stmt.where(AuditEvent.action.startswith(action) if action.endswith(".")
                          else AuditEvent.action == action)
    if object_id:
        object_id = object_id.strip()
        named = refs_of(None, {"id": object_id})  # a UUID also finds the events that name it in their detail
        stmt = stmt.where(or_(AuditEvent.object_id == object_id,
                              AuditEvent.seq.in_(select(AuditEventRef.seq).where(AuditEventRef.ref_id.in_(named))))
                          if named else AuditEvent.object_id == object_id)
    if date_from:
        stmt = stmt.where(AuditEvent.occurred_at >= datetime.combine(date_from, time(), timezone.utc))
    if date_to:
        stmt = stmt.where(AuditEvent.occurred_at < datetime.combine(date_to, time(), timezone.utc) + timedelta(days=1))
    return stmt


def events_page(criteria, at):
    """One page of the events matching the criteria (filtered()'s arguments), newest first, from the
    Cursor `at` (an event's sequence number); none when criteria is None."""
    stmt = filtered(**criteria) if criteria is not None else select(AuditEvent).where(False)
    return keyset_page(stmt, ((AuditEvent.seq, True),), AuditEvent.seq, at, PER_PAGE)


def names_beside_events():
    """({user id: full name}, {agency id: short name}), to name the actors beside events."""
    return (dict(db.session.execute(select(User.id, User.full_name)).all()),
            dict(db.session.execute(select(Agency.id, Agency.short_name)).all()))


def export_csv(actor, criteria, filter_names):
    """The matching events (up to EXPORT_LIMIT) as CSV text; the export is audited with the names of
    the filters used, never their values."""
    events = db.session.execute(filtered(**criteria).limit(EXPORT_LIMIT)).scalars().all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for event in events:
        writer.writerow([csv_cell(getattr(event, column)) for column in CSV_COLUMNS])
    record("audit.exported", actor, object_type="audit_events",
           detail={"rows": len(events), "filters": ",".join(sorted(filter_names))})
    return out.getvalue()


def csv_cell(value):
    """A value as CSV text, with spreadsheet formulas neutralised (CSV injection)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
