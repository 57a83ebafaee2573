"""Creating and editing agencies."""
from sqlalchemy import func, select

from marac.agencies.models import Agency
from marac.audit.services import record
from marac.core.changes import apply_changes
from marac.extensions import db


def name_taken(name, short_name, exclude_id=None):
    """Which of name / short name another agency already uses."""
    taken = set()
    for column, value, label in ((Agency.name, name, "name"), (Agency.short_name, short_name, "short_name")):
        stmt = select(Agency.id).where(func.lower(column) == (value or "").strip().lower())
        if exclude_id:
            stmt = stmt.where(Agency.id != exclude_id)
        if db.session.execute(stmt).first():
            taken.add(label)
    return taken


def create_agency(actor, name, short_name, kind):
    agency = Agency(name=name.strip(), short_name=short_name.strip(), kind=kind, is_active=True)
    db.session.add(agency)
    db.session.flush()
    record("agency.created", actor, agency, detail={"kind": kind})
    return agency


def update_agency(actor, agency, **values):
    changed = apply_changes(agency, values)
    if changed:
        record("agency.updated", actor, agency, detail={"fields": changed})
    return changed
