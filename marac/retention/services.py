"""Retention: the panels' schedules, which cases are due, and deleting them.

Deletion is a mechanism over the schema, not a list of tables. `case_graph` walks the metadata's
foreign keys from `cases`: every table whose rows refer to a case (directly, or through another such
table: an action through its agenda item, an update through its action) belongs to it, and so does a
table of personal values that such rows refer to and that refers to nothing itself (people and
locations: each case has its own rows). A table added tomorrow that refers to a case is handled
without anyone listing it.

Each table of the graph is handled one of two ways:

* the tables the statistics count (`TOMBSTONE_TABLES`) keep their rows as the case's tombstone, with
  every encrypted value and blind index set to NULL: only plain columns stay, which hold no personal
  data by the codebase's rule (coded categories, dates, statuses, agency ids). So the statistics of a
  period give the same figures before and after its cases go, from the same queries;
* every other table (history, sharing records, names, minute amendments, action updates, legal
  holds, and whatever is added) loses the rows outright.

The case itself becomes CaseStatus.DELETED (reference, panel, dates, the coded values the statistics
read); references are never reused (the counter only counts up, and the tombstone keeps its
reference). Meeting packs that contain a deleted case lose their PDF (packs are regenerable documents;
the minutes rows are the record): the render row, its hash and its issues stay for tracing, as when a
pack expires. Each deletion is audited by id, never content, so the chain stays valid.

Then `scrub_files` removes the deleted values from the database files: see its docstring.
"""
import dataclasses
import datetime as dt

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import aliased

from marac.audit.services import record
from marac.cases.models import SUBJECT_ROLE, Case, CaseChange, CaseParty, CaseStatus, LegalHold
from marac.core.blind_index import BlindIndex
from marac.core.crypto import Encrypted
from marac.core.steps import StepRefused
from marac.core.timeutil import today as today_
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.meetings.models import AgendaItem, ItemStatus, Meeting, MeetingStatus
from marac.packs.models import PackRender
from marac.panels.models import Panel, PanelKind
from marac.people.models import Person
from marac.retention.models import (BASIS, DEFAULT_AGE_LIMIT, DEFAULT_YEARS, MAX_AGE, MAX_YEARS, MIN_AGE, MIN_YEARS,
                                    RetentionBasis, RetentionSchedule)

# The tables whose rows stay, emptied of every encrypted value and blind index, as the case's tombstone:
# the rows the statistics count (stats.services.load reads their plain columns only).
TOMBSTONE_TABLES = {
    "cases": "the reference, panel, dates, status flags and coded values",
    "agenda_items": "the hearings per meeting",
    "case_parties": "the roles of the people counted (victim, children, perpetrators, persons of concern)",
    "people": "the coded categories of the people counted (gender, ethnic group, disability, age band)",
    "case_locations": "the locations of concern counted",
    "locations": "the kind of a location counted",
    "actions": "the actions per meeting and owner agency, their status and dates",
    "research_returns": "the research returns per meeting and agency, and when they were saved",
}
# The keys of Case.codes a tombstone keeps: those the statistics read (stats.services).
TOMBSTONE_CODES = ("exploitation_types", "categories", "response_days")
# Tables that hold personal values but are not a case's: why each is not in the case graph.
NOT_CASE_DATA = {
    "users": "accounts of the professionals (the authenticator seed is not personal data)",
    "attendees": "the register of a meeting: the professionals who attended, kept with the meeting",
    "pack_renders": "meeting packs: a pack that contains a deleted case loses its PDF in the same run",
    # Not yet under a schedule of their own (the closing note of issue 15 says so): an ASB Case Review
    # application is the council's statutory record of a complainant's request, not part of a case.
    "asb_case_reviews": "ASB Case Review applications: the council's statutory record, not a case's",
    "asb_review_recommendations": "the recommendations of an ASB Case Review, kept with its application",
    # The DPO's record of a subject access request and its response outlive the cases they covered (a
    # request's links to a deleted case go with it): they are kept under the council's own schedule for
    # such records, not a panel's.
    "subject_requests": "the DPO's log of subject access requests (not part of a case)",
    "subject_responses": "the response sent for a subject access request, kept with the request",
    "subject_rectifications": "the reason for a correction, kept with the request",
}


# --- the schedule -------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Schedule:
    """A panel's retention rule in force: its basis (RetentionBasis), years, and age limit (or None)."""

    basis: str
    years: int
    age_limit: int | None
    is_default: bool

    @property
    def description(self):
        """The rule in words, as the administrator's page and the README put it."""
        if self.basis == RetentionBasis.LAST_ACTIVITY:
            text = f"{self.years} years after the last hearing or referral"
        else:
            text = f"{self.years} years after closure"
        if self.age_limit:
            text = f"until the young person is {self.age_limit}, and at least {text}"
        return text


def schedule_of(panel):
    """The panel's schedule: the administrator's, or the defaults for its kind."""
    row = db.session.execute(select(RetentionSchedule).where(RetentionSchedule.panel_id == panel.id)).scalar()
    if row is None:
        return Schedule(BASIS[panel.kind], DEFAULT_YEARS, DEFAULT_AGE_LIMIT.get(panel.kind), True)
    return Schedule(BASIS[panel.kind], row.years, row.age_limit if panel.kind == PanelKind.MACE else None, False)


def update_schedule(actor, panel, years, age_limit=None):
    """Set the panel's schedule (an administrator): whole years between MIN_YEARS and MAX_YEARS, and for
    MACE the age limit between MIN_AGE and MAX_AGE. Audited with the values (they are not personal)."""
    if not getattr(actor, "is_admin", False):
        raise StepRefused("Only an administrator can set a retention schedule.")
    if years is None:
        raise StepRefused("Enter how many years cases are kept", field="years")
    if not MIN_YEARS <= years <= MAX_YEARS:
        raise StepRefused(f"Cases must be kept for between {MIN_YEARS} and {MAX_YEARS} years", field="years")
    if panel.kind == PanelKind.MACE:
        if age_limit is None:
            raise StepRefused("Enter the age the young person must reach before the case is deleted",
                              field="age_limit")
        if not MIN_AGE <= age_limit <= MAX_AGE:
            raise StepRefused(f"The age must be between {MIN_AGE} and {MAX_AGE}", field="age_limit")
    else:
        age_limit = None
    row = db.session.execute(select(RetentionSchedule).where(RetentionSchedule.panel_id == panel.id)).scalar()
    if row is None:
        row = RetentionSchedule(panel_id=panel.id)
        db.session.add(row)
    row.years, row.age_limit = years, age_limit
    db.session.flush()
    record("retention.schedule_set", actor, panel, detail={"years": years, "age_limit": age_limit})
    return row


def panel_schedules():
    """(panel, Schedule) of every panel, by name: the administrator's page."""
    panels = db.session.execute(select(Panel).order_by(Panel.name)).scalars().all()
    return [(panel, schedule_of(panel)) for panel in panels]


# --- which cases are due -------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Due:
    """A case past its retention date: what the dry run and the administrator's page list (its
    reference and dates only), and whether a legal hold keeps it."""

    case_id: object
    reference: str | None
    panel_name: str
    due_on: dt.date
    held: bool


def add_years(day, years):
    """The same day `years` later (29 February becomes 28 February in a year without one)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _local_date(moment):
    return moment.date() if moment is not None else None


def due_on(panel_kind, schedule, status, referred_on, last_heard, saved_on, ended_on, date_of_birth):
    """The date a case's retention ends (it is deleted from that day on), or None while it is kept
    whatever the date (an open MACE or ASB case; a MACE case whose young person's age is not known).

    A draft is deleted `years` after it was last saved, whatever the panel. MARAC: `years` after the
    later of the last hearing and the referral. MACE and ASB: `years` after closure (or screening out);
    MACE also not before the young person reaches the age limit."""
    if status == CaseStatus.DRAFT:
        return add_years(saved_on, schedule.years)
    if schedule.basis == RetentionBasis.LAST_ACTIVITY:
        base = max(day for day in (referred_on, last_heard, saved_on if referred_on is None else None) if day)
        return add_years(base, schedule.years)
    if ended_on is None:
        return None
    end = add_years(ended_on, schedule.years)
    if schedule.age_limit:
        if date_of_birth is None:
            return None
        end = max(end, add_years(date_of_birth, schedule.age_limit))
    return end


def due_cases(today=None, include_held=True):
    """Every case past its retention date (Due), oldest first; held ones flagged (never deleted).
    Reads plain columns, and decrypts only the date of birth of the young people of MACE cases past
    their closure period (the age limit needs it).

    Only the cases that could be due are read (_could_be_due): the daily run deletes them as they fall
    due, so these are the few past their date, not the panel's 100,000 (the administrator's page read
    and judged every case of every panel: 1.6 s at 100,000). Each one's dates are then judged by due_on,
    the one rule."""
    today = today or today_()
    found = []
    heard = (select(func.max(Meeting.meets_on)).join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
             .where(AgendaItem.case_id == Case.id, AgendaItem.status == ItemStatus.HEARD,
                    Meeting.status == MeetingStatus.HELD).scalar_subquery())
    changed = select(func.max(CaseChange.at)).where(CaseChange.case_id == Case.id).scalar_subquery()
    held = select(LegalHold.case_id).where(LegalHold.lifted_at.is_(None))
    for panel, schedule in panel_schedules():
        rows = db.session.execute(
            select(Case.id, Case.reference, Case.status, Case.referred_on, Case.created_at, changed.label("at"),
                   Case.closed_at, Case.screened_at, heard.label("on"), Case.id.in_(held).label("held"))
            .where(Case.panel_id == panel.id, Case.status != CaseStatus.DELETED,
                   _could_be_due(schedule, changed, today))).all()
        for r in rows:
            ended = (_local_date(r.closed_at) if r.status == CaseStatus.CLOSED
                     else _local_date(r.screened_at) if r.status == CaseStatus.SCREENED_OUT else None)
            saved = _local_date(r.at or r.created_at)
            dob = None
            if schedule.age_limit and r.status != CaseStatus.DRAFT and ended and add_years(ended, schedule.years) <= today:
                dob = _subject_dob(r.id, panel.kind)
            on = due_on(panel.kind, schedule, r.status, r.referred_on, r.on, saved, ended, dob)
            if on is not None and on <= today and (include_held or not r.held):
                found.append(Due(r.id, r.reference, panel.name, on, bool(r.held)))
    return sorted(found, key=lambda d: (d.due_on, d.reference or ""))


def _could_be_due(schedule, changed, today):
    """A condition every case due by `today` under `schedule` meets (due_on never gives a date earlier
    than `years` after the date it starts from), on columns with indexes: the date each rule counts from
    is at least `years` old. A bound, not the rule: due_on judges each case found. Two days' margin for
    29 February and for a moment's date."""
    day = add_years(today, -schedule.years) + dt.timedelta(days=2)
    moment = dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)
    saved_before = func.coalesce(changed, Case.created_at) < moment
    draft = and_(Case.status == CaseStatus.DRAFT, saved_before)
    # One OR of terms each of which an index serves (both planners then read each term's range and join
    # them; a term nested inside another's AND has SQLite read every case of the panel).
    if schedule.basis == RetentionBasis.LAST_ACTIVITY:  # the later of the referral and the last hearing
        return or_(draft, and_(Case.status != CaseStatus.DRAFT, Case.referred_on < day),
                   and_(Case.status != CaseStatus.DRAFT, Case.referred_on.is_(None), saved_before))
    return or_(draft, and_(Case.status == CaseStatus.CLOSED, Case.closed_at < moment),  # from the closure
               and_(Case.status == CaseStatus.SCREENED_OUT, Case.screened_at < moment))


def _subject_dob(case_id, kind):
    subject = aliased(CaseParty)
    person = db.session.execute(select(Person).join(subject, subject.person_id == Person.id).where(
        subject.case_id == case_id, subject.role == SUBJECT_ROLE[kind])).scalars().first()
    return person.date_of_birth if person is not None else None


# --- the case graph ---------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Edge:
    """How rows of `table` come to belong to a case: `column` refers to a doomed row of `parent`
    (kind "refers"), or a doomed row of `parent` refers to them through `column` of `parent`
    (kind "owned": people and locations, deleted only when no surviving row still refers to them)."""

    table: str
    column: str
    parent: str
    kind: str


def _personal_columns(table_name):
    """The encrypted (personal) and blind-index columns of a table."""
    names = [cls.__dict__[attr].name for cls, attr in Encrypted.registry
             if cls.__table__.name == table_name and cls.__dict__[attr].personal]
    names += [entry.attr for entry in BlindIndex.registry if entry.model.__table__.name == table_name]
    return names


def _has_personal_columns(table):
    return any(cls.__table__.name == table.name and cls.__dict__[attr].personal for cls, attr in Encrypted.registry)


def case_graph(metadata=None):
    """(tables, edges): every table whose rows belong to a case, in the metadata's dependency order,
    and the foreign keys by which they do (Edge). A table belongs when one of its foreign keys refers
    to a table of the graph (a self-reference is a link between siblings: a later case that repeats a
    deleted one keeps its own record), or when a table of the graph refers to it and it holds personal
    values and refers to nothing itself (a person, a location)."""
    metadata = metadata if metadata is not None else db.metadata
    tables = {"cases"}
    edges = []
    changed = True
    while changed:
        changed = False
        for table in metadata.sorted_tables:
            for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
                target = fk.column.table
                if target.name in tables and target.name != table.name:
                    edge = Edge(table.name, fk.parent.name, target.name, "refers")
                    if edge not in edges:
                        edges.append(edge)
                        tables.add(table.name)
                        changed = True
                if (table.name in tables and target.name not in tables and not target.foreign_keys
                        and _has_personal_columns(target)):
                    edges.append(Edge(target.name, fk.parent.name, table.name, "owned"))
                    tables.add(target.name)
                    changed = True
    order = [t.name for t in metadata.sorted_tables if t.name in tables]
    return order, edges


def _doomed_rows(case_ids):
    """{table name: set of row ids} of everything that belongs to the cases (case_graph)."""
    order, edges = case_graph()
    tables = db.metadata.tables
    doomed = {name: set() for name in order}
    doomed["cases"] = set(case_ids)
    changed = True
    while changed:
        changed = False
        for edge in edges:
            table, parent = tables[edge.table], tables[edge.parent]
            if not doomed[edge.parent]:
                continue
            if edge.kind == "refers":
                found = set(db.session.execute(select(table.c.id).where(
                    table.c[edge.column].in_(doomed[edge.parent]))).scalars())
            else:
                found = set(db.session.execute(select(parent.c[edge.column]).where(
                    parent.c.id.in_(doomed[edge.parent]), parent.c[edge.column].is_not(None))).scalars())
                found -= _still_referred(edges, edge.table, found, doomed)
            if not found <= doomed[edge.table]:
                doomed[edge.table] |= found
                changed = True
    return order, doomed


def _still_referred(edges, table_name, ids, doomed):
    """The ids among `ids` (of an owned table) that a row of an owning table outside `doomed` still
    refers to (a person named in a case that stays): those are not the deleted case's alone."""
    kept = set()
    tables = db.metadata.tables
    for edge in edges:
        if edge.kind == "owned" and edge.table == table_name and ids:
            owner = tables[edge.parent]
            query = select(owner.c[edge.column]).where(owner.c[edge.column].in_(ids))
            if doomed.get(edge.parent):
                query = query.where(owner.c.id.not_in(doomed[edge.parent]))
            kept |= set(db.session.execute(query).scalars())
    return kept


# --- deleting --------------------------------------------------------------------------------------

@dataclasses.dataclass
class RunResult:
    """What a run did: the cases due (Due), those deleted, and the tables touched."""

    due: list
    deleted: list
    tables: list


def delete_cases(actor, case_ids, now=None):
    """Turn the cases into tombstones and delete everything else of theirs (see the module's docstring).
    Refuses a case under a legal hold. Flushes; the caller commits, then calls scrub_files.
    Returns the names of the tables touched."""
    now = now or utcnow()
    case_ids = list(case_ids)
    if not case_ids:
        return []
    on_hold = db.session.execute(select(LegalHold.case_id).where(
        LegalHold.case_id.in_(case_ids), LegalHold.lifted_at.is_(None))).scalars().first()
    if on_hold is not None:
        raise StepRefused("A case under a legal hold is never deleted.")
    db.session.flush()
    order, doomed = _doomed_rows(case_ids)
    tables = db.metadata.tables
    items = doomed.get("agenda_items")
    meetings = set(db.session.execute(select(AgendaItem.meeting_id).where(AgendaItem.id.in_(items))).scalars()
                   ) if items else set()
    touched = []
    for name in reversed(order):  # children first
        ids = doomed[name]
        if not ids:
            continue
        table = tables[name]
        touched.append(name)
        if name in TOMBSTONE_TABLES:
            emptied = {column: None for column in _personal_columns(name)}
            if emptied:
                db.session.execute(update(table).where(table.c.id.in_(ids)).values(emptied))
        else:
            db.session.execute(table.delete().where(table.c.id.in_(ids)))
    for case_id, codes in db.session.execute(select(Case.id, Case.codes).where(Case.id.in_(case_ids))).all():
        kept = {key: value for key, value in (codes or {}).items() if key in TOMBSTONE_CODES}
        db.session.execute(update(tables["cases"]).where(tables["cases"].c.id == case_id).values(
            status=CaseStatus.DELETED.value, deleted_at=now, codes=kept))
    if meetings:
        renders = PackRender.__table__
        packs = db.session.execute(update(renders).where(
            renders.c.meeting_id.in_(meetings), renders.c.deleted_at.is_(None)).values(pdf=None, deleted_at=now))
        if packs.rowcount:
            touched.append("pack_renders")
    db.session.expire_all()
    for case_id in case_ids:
        record("retention.case_deleted", actor, object_type="cases", object_id=str(case_id),
               detail={"cases_in_step": len(case_ids), "tables": len(touched)})
    return touched


def run(today=None, dry_run=False):
    """The daily run: the cases due and not held are deleted (unless `dry_run`). Returns a RunResult;
    the caller commits, then calls scrub_files(result.tables)."""
    due = due_cases(today, include_held=False)
    if dry_run or not due:
        return RunResult(due, [], [])
    tables = delete_cases(None, [d.case_id for d in due])
    record("retention.run", None, object_type="retention", detail={"deleted": len(due)})
    db.session.flush()
    return RunResult(due, due, tables)


def scrub_files(tables):
    """Remove deleted values from the database files, after the run's commit.

    SQLite: every connection sets `PRAGMA secure_delete=ON` (marac/__init__.py), so a deleted or
    overwritten record is zeroed in its page as it is freed; the WAL is then checkpointed and truncated
    (the old pages it held go), VACUUM rebuilds the file (no free page keeps an old record), and the WAL
    that VACUUM wrote is truncated again.

    PostgreSQL: VACUUM FULL of the tables the run touched (and so their TOAST tables and indexes: the
    blind indexes are in indexes). A plain VACUUM only marks dead tuples' space free: the bytes stay in
    the page until something overwrites them. VACUUM FULL writes each table anew and unlinks the old
    files; it locks the table while it runs, which the nightly run can afford (see the benchmark).
    Write-ahead log segments are recycled at checkpoints; backups are made unreadable by retiring the
    data key (README: the retention paragraph). Returns the statements run."""
    engine = db.engine
    statements = []
    if engine.dialect.name == "sqlite":
        statements = ["PRAGMA wal_checkpoint(TRUNCATE)", "VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"]
        with engine.connect() as connection:
            raw = connection.connection.driver_connection
            for statement in statements:
                raw.execute(statement).fetchall()
    elif tables:
        names = sorted(set(tables))
        statements = ["VACUUM FULL " + ", ".join(f'"{name}"' for name in names)]
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    return statements
