"""Creating and editing agencies, and the lists of them that other pages choose from."""
from sqlalchemy import func, select

from marac.agencies.models import Agency
from marac.audit.services import record
from marac.core.changes import apply_changes
from marac.core.steps import StepRefused
from marac.extensions import db

PER_PAGE = 50
TAKEN = {"name": "Another agency already has this name",
         "short_name": "Another agency already has this short name"}


def agencies_page(page):
    """One page of every agency by name, for the administrators' list."""
    return db.paginate(select(Agency).order_by(Agency.name), page=page, per_page=PER_PAGE, error_out=False)


def active_agencies():
    """The active agencies by name: what a user can belong to and a panel can add."""
    return db.session.execute(select(Agency).where(Agency.is_active.is_(True)).order_by(Agency.name)).scalars().all()


def agency_named(name):
    """The agency with exactly this name, or None."""
    return db.session.execute(select(Agency).where(Agency.name == name)).scalar_one_or_none()


def name_taken(name, short_name, exclude_id=None):
    """Which of name / short name another agency already uses (ignoring case and outer spaces)."""
    taken = set()
    for column, value, label in ((Agency.name, name, "name"), (Agency.short_name, short_name, "short_name")):
        stmt = select(Agency.id).where(func.lower(column) == (value or "").strip().lower())
        if exclude_id:
            stmt = stmt.where(Agency.id != exclude_id)
        if db.session.execute(stmt).first():
            taken.add(label)
    return taken


def check_name(field, name, short_name, exclude_id=None):
    """Refuse the name ("name") or short name ("short_name") if another agency uses it: lists and
    registers tell agencies apart by them."""
    if field in name_taken(name, short_name, exclude_id):
        raise StepRefused(TAKEN[field], field=field)


def _check_names(name, short_name, exclude_id=None):
    for field in TAKEN:
        check_name(field, name, short_name, exclude_id)


def create_agency(actor, name, short_name, kind):
    """Add an agency (active), refusing a name or short name already in use; audited."""
    _check_names(name, short_name)
    agency = Agency(name=name.strip(), short_name=short_name.strip(), kind=kind, is_active=True)
    db.session.add(agency)
    db.session.flush()
    record("agency.created", actor, agency, detail={"kind": kind})
    return agency


def update_agency(actor, agency, **values):
    """Change an agency's details, refusing a name or short name already in use; audits the fields changed."""
    _check_names(values.get("name", agency.name), values.get("short_name", agency.short_name), agency.id)
    changed = apply_changes(agency, values)
    if changed:
        record("agency.updated", actor, agency, detail={"fields": changed})
    return changed
