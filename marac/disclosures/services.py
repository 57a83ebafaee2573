"""The disclosure report: every sharing record of a case (or of a person's cases) and every audit event
that named the case or anything of it, as one timeline, newest first.

Sharing records are found by case (sharing_records.case_id); events through audit_event_refs, the
index of the objects each event names (its target and the ids in its detail), by the ids of the
cases, their agenda items, actions, people and locations: index lookups, however long the trail.
Nothing here decrypts: a person is found by the blind index of name and date of birth.
"""
import csv
import io
import uuid
from collections import namedtuple
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import BigInteger, String, cast, func, literal, null, select, union_all
from sqlalchemy.orm import selectinload

from marac.actions.models import Action
from marac.agencies.models import Agency
from marac.audit.models import AuditEvent, AuditEventRef
from marac.audit.services import record, record_read
from marac.cases.models import Case, CaseLocation, CaseParty, CaseStatus
from marac.core.formatting import format_date
from marac.disclosures.models import ReportRowKind
from marac.extensions import db
from marac.meetings.models import AgendaItem
from marac.people.models import PersonName
from marac.people.services import name_dob_condition
from marac.sharing.models import Category, SharingRecord
from marac.users.models import User

PER_PAGE = 50
EXPORT_LIMIT = 100_000
MAX_PEOPLE = 200  # person records in one person report (one per case the person is named in)


# One row of the report, as the page shows it and the CSV holds it (every field already text).
Row = namedtuple("Row", "when kind cases what user agency basis detail")
CSV_HEADER = ("When (UTC)", "Kind", "Case", "What", "User", "Agency", "Purpose and lawful basis", "Detail")


class Scope:
    """What a report covers: its cases, and every id whose events are about them (the cases, their
    agenda items, actions, people and locations). `people` are the person records a person report
    was asked for (each case has its own)."""

    def __init__(self, cases, people=()):
        self.cases = sorted(cases, key=lambda c: c.reference or "")
        self.people = list(people)
        case_ids = [c.id for c in self.cases]
        self.owner = {c.id: c for c in self.cases}  # id -> the case it belongs to
        if case_ids:
            for model, column in ((AgendaItem, AgendaItem.case_id), (Action, Action.case_id),
                                  (CaseParty, CaseParty.case_id), (CaseLocation, CaseLocation.case_id)):
                attribute = {CaseParty: CaseParty.person_id, CaseLocation: CaseLocation.location_id}.get(model,
                                                                                                      model.id)
                for object_id, case_id in db.session.execute(select(attribute, column).where(column.in_(case_ids))):
                    self.owner[object_id] = self.owner[case_id]
        self.ids = list(self.owner)


def person_cases(actor, name, date_of_birth):
    """The person records (one per case) whose name or alias and date of birth match, on the cases the
    actor may report on (Case.can_view_disclosures): blind index only, never decrypting a table. The
    search is audited (how many it found, never what was searched for)."""
    stmt = (select(CaseParty).join(PersonName, PersonName.person_id == CaseParty.person_id)
            .join(Case, Case.id == CaseParty.case_id)
            .where(name_dob_condition(name, date_of_birth), Case.status != CaseStatus.DRAFT)
            .options(selectinload(CaseParty.case).selectinload(Case.panel)))
    parties = db.session.execute(stmt).unique().scalars().all()
    found = [p for p in parties if p.case.can_view_disclosures(actor)][:MAX_PEOPLE]
    record("disclosures.searched", actor, object_type="disclosure_report",
           detail={"by": "name_dob", "results": len(found), "people": [str(p.person_id) for p in found]})
    return found


def case_by_reference(actor, reference):
    """The case with this reference, if the actor may report on it (Case.can_view_disclosures), else
    None; the search is audited (whether it found one, never the reference asked for)."""
    case = db.session.execute(select(Case).where(func.upper(Case.reference) == reference.strip().upper())
                              ).scalar_one_or_none()
    case = case if case is not None and case.can_view_disclosures(actor) else None
    record("disclosures.searched", actor, case, object_type=None if case else "disclosure_report",
           detail={"by": "reference", "results": int(case is not None)})
    return case


def parties_of(person_ids):
    """The case parties of these person records (one each, as each case has its own), or None if any
    is unknown."""
    parties = db.session.execute(select(CaseParty).where(CaseParty.person_id.in_(person_ids))
                                 .options(selectinload(CaseParty.case).selectinload(Case.panel))).scalars().all()
    return parties if {p.person_id for p in parties} == set(person_ids) else None


def may_report_on_people(actor):
    """Whether the actor may ask for a person report: a data protection officer, or a manager of a panel."""
    return actor.is_dpo or any(r.is_manager for r in actor.panel_roles)


def _bounds(date_from, date_to):
    start = datetime.combine(date_from, time(), timezone.utc) if date_from else None
    end = datetime.combine(date_to, time(), timezone.utc) + timedelta(days=1) if date_to else None
    return start, end


def _timeline(scope, date_from=None, date_to=None, agency_id=None):
    """The report's rows as (token, at, seq): "s:<sharing record id>" or "e:<event seq>"; newest first."""
    start, end = _bounds(date_from, date_to)
    shared = select(literal("s:").concat(cast(SharingRecord.id, String)).label("token"),
                    SharingRecord.shared_at.label("at"), cast(null(), BigInteger).label("seq")).where(
        SharingRecord.case_id.in_([c.id for c in scope.cases]))
    events = select(literal("e:").concat(cast(AuditEvent.seq, String)).label("token"),
                    AuditEvent.occurred_at.label("at"), AuditEvent.seq.label("seq")).where(
        AuditEvent.seq.in_(select(AuditEventRef.seq).where(AuditEventRef.ref_id.in_(scope.ids))))
    if start:
        shared, events = shared.where(SharingRecord.shared_at >= start), events.where(AuditEvent.occurred_at >= start)
    if end:
        shared, events = shared.where(SharingRecord.shared_at < end), events.where(AuditEvent.occurred_at < end)
    if agency_id:
        shared = shared.where(SharingRecord.agency_id == agency_id)
        events = events.where(AuditEvent.actor_agency_id == agency_id)
    both = union_all(shared, events).subquery()
    return select(both.c.token).order_by(both.c.at.desc(), both.c.seq.desc(), both.c.token)


def _rows(scope, tokens):
    """The report rows of these tokens, in their order."""
    record_ids = [uuid.UUID(t[2:]) for t in tokens if t.startswith("s:")]
    seqs = [int(t[2:]) for t in tokens if t.startswith("e:")]
    records = {r.id: r for r in db.session.execute(
        select(SharingRecord).where(SharingRecord.id.in_(record_ids))
        .options(selectinload(SharingRecord.case), selectinload(SharingRecord.user),
                 selectinload(SharingRecord.agency))).scalars()} if record_ids else {}
    events = {e.seq: e for e in db.session.execute(select(AuditEvent).where(AuditEvent.seq.in_(seqs))).scalars()}
    named = {}
    if seqs:
        for seq, ref in db.session.execute(select(AuditEventRef.seq, AuditEventRef.ref_id).where(
                AuditEventRef.seq.in_(seqs), AuditEventRef.ref_id.in_(scope.ids))):
            named.setdefault(seq, set()).add(scope.owner[ref].reference or "")
    user_ids = {e.actor_user_id for e in events.values() if e.actor_user_id}
    agency_ids = {e.actor_agency_id for e in events.values() if e.actor_agency_id}
    agency_ids |= {_as_uuid(v) for e in events.values() for k, v in (e.detail or {}).items()
                   if k.endswith("agency_id") and _as_uuid(v)}
    users = dict(db.session.execute(select(User.id, User.full_name).where(User.id.in_(user_ids))).all()) \
        if user_ids else {}
    agencies = dict(db.session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(agency_ids))).all()) \
        if agency_ids else {}
    rows = []
    for token in tokens:
        if token.startswith("s:"):
            r = records[uuid.UUID(token[2:])]
            rows.append(Row(format_date(r.shared_at, "seconds"), ReportRowKind.SHARED, r.case.reference or "",
                            Category(r.category).short_label, r.user.full_name, r.agency.name,
                            f"{r.purpose}; {r.lawful_basis}", ""))
        else:
            e = events[int(token[2:])]
            rows.append(Row(format_date(e.occurred_at, "seconds"), ReportRowKind.EVENT,
                            ", ".join(sorted(named.get(e.seq, ()))), e.action,
                            users.get(e.actor_user_id, "Unknown") if e.actor_user_id else "System",
                            agencies.get(e.actor_agency_id, "") if e.actor_agency_id else "",
                            e.purpose or "", _detail(e, agencies)))
    return rows


def _as_uuid(value):
    try:
        return uuid.UUID(value) if isinstance(value, str) and len(value) == 36 else None
    except ValueError:
        return None


def _detail(event, agencies):
    """An event's detail as one line, after its number in the trail: codes and counts as they are, an
    agency by its name, a list of ids by its length."""
    parts = [f"#{event.seq}"]
    for key, value in sorted((event.detail or {}).items()):
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value) if key == "categories" else f"{len(value)} ids"
        elif key.endswith("agency_id") and _as_uuid(value) in agencies:
            key, value = key.removesuffix("_id"), agencies[_as_uuid(value)]
        parts.append(f"{key}: {value}")
    return "; ".join(parts)


def report_page(scope, filters, page):
    """One page of the report: a pagination whose items are Rows."""
    pagination = db.paginate(_timeline(scope, **filters), page=page, per_page=PER_PAGE, error_out=False)
    pagination.items = _rows(scope, list(pagination.items))
    return pagination


def report_rows(scope, filters):
    """Every row of the report (up to EXPORT_LIMIT), in the page's order."""
    tokens = db.session.execute(_timeline(scope, **filters).limit(EXPORT_LIMIT)).scalars().all()
    rows = []
    for start in range(0, len(tokens), 1000):
        rows += _rows(scope, tokens[start:start + 1000])
    return rows


def as_csv(rows):
    """The rows as CSV text, with spreadsheet formulas neutralised (CSV injection)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow([_cell(row.kind.label if field == "kind" else value) for field, value in zip(Row._fields, row)])
    return out.getvalue()


def _cell(text):
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _audit(actor, scope, action, filter_names, extra):
    """The report's own audit event: which report, its filters by name (never values), the cases and
    person records it covered (so a later report lists this one too)."""
    target = scope.cases[0] if len(scope.cases) == 1 and not scope.people else None
    record_read(action, actor, target, object_type=None if target else "disclosure_report",
                recipient_agency_id=actor.agency_id, purpose="disclosure report (accountability, UK GDPR Art. 5(2))",
                detail={"cases": [str(c.id) for c in scope.cases], "people": [str(p) for p in scope.people],
                        "filters": ",".join(sorted(filter_names)), **extra})


def case_report(actor, case, filters, filter_names, page):
    """A page of the case's disclosure report; the view is audited."""
    scope = Scope([case])
    pagination = report_page(scope, filters, page)
    _audit(actor, scope, "disclosures.case_viewed", filter_names, {"page": pagination.page})
    return pagination


def case_export(actor, case, filters, filter_names):
    """The case's whole disclosure report as CSV text; the download is audited."""
    scope = Scope([case])
    rows = report_rows(scope, filters)
    _audit(actor, scope, "disclosures.case_exported", filter_names, {"rows": len(rows)})
    return as_csv(rows)


def person_report(actor, parties, filters, filter_names, page):
    """A page of the disclosure report of a person's cases (their person records `parties`); audited."""
    scope = Scope({p.case for p in parties}, people=[p.person_id for p in parties])
    pagination = report_page(scope, filters, page)
    _audit(actor, scope, "disclosures.person_viewed", filter_names, {"page": pagination.page})
    return scope, pagination


def person_export(actor, parties, filters, filter_names):
    """The whole disclosure report of a person's cases as CSV text; the download is audited."""
    scope = Scope({p.case for p in parties}, people=[p.person_id for p in parties])
    rows = report_rows(scope, filters)
    _audit(actor, scope, "disclosures.person_exported", filter_names, {"rows": len(rows)})
    return as_csv(rows)


def agency_choices():
    """(id, name) of every agency by name, for the filter."""
    return db.session.execute(select(Agency.id, Agency.name).order_by(Agency.name)).all()

