"""The steering group's statistics: reading the counts, the panel's statistics settings, and the
audited exports.

Every figure comes from SQL aggregates over plain coded columns (statuses, dates, agency kinds, the
coded categories of people and cases): nothing is decrypted. `load` reads a panel's counts per
meeting in a fixed number of statements, however many meetings, cases or actions there are;
`figures.build` then works out the page, and `suppression` hides small numbers, the same way for
the page and for every export.
"""
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app

from sqlalchemy import JSON, Date, String, and_, case, cast, column, distinct, func, literal, or_, select, true, union_all
from sqlalchemy.orm import aliased

from marac.actions.models import Action, ActionStatus
from marac.agencies.models import Agency
from marac.audit.services import record
from marac.cases.models import SUBJECT_ROLE, Case, CaseLocation, CaseParty, CaseStatus, PartyRole
from marac.core import shared_cache
from marac.core.changes import apply_changes
from marac.core.pdf import sha256_of
from marac.core.timeutil import today as today_
from marac.core.timeutil import utcnow
from marac.core.workdays import add_working_days
from marac.extensions import db
from marac.meetings.models import AgendaItem, Attendance, Attendee, ItemStatus, Meeting, MeetingStatus, ResearchReturn
from marac.panels.models import PanelKind, PanelMember
from marac.people.models import Gender, Person, YesNoUnknown
from marac.stats import exports, figures
from marac.stats.figures import (AGED_16_17, LGBT_GENDERS, LGBT_SEXUALITIES, MINORITISED, UNDER_18, previous_period,
                                 trend_quarters)
from marac.stats.models import ExportFormat

LOCAL_TIME = ZoneInfo("Europe/London")
SETTINGS = ("women_16_plus", "attendance_threshold", "minutes_days", "local_minoritised_share", "local_lgbt_share",
            "local_disabled_share", "local_male_share", "local_aged_16_17_share")


# --- the page ----------------------------------------------------------------------------------

# Figures worked out in this process: {key: (monotonic time, Figures)}, kept STATS_CACHE_SECONDS.
_RECENT = {}
_RECENT_KEPT = 64
# How long a worker that set out to work a panel's figures out has before another may (seconds), and how
# long the others wait for them when they have no copy to show meanwhile.
RECLAIM_SECONDS = 120
WAIT_SECONDS = 15


@functools.cache
def code_version():
    """A digest of the application's code (every module of the package): part of the figures' key in
    Redis, so that figures pickled by another version of it (a deployment rolling out) are never taken
    for this version's. Worked out once a process, when the first figures are kept (reading the package
    takes some 20 ms: not at import, which every command and worker pays)."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def figures_for(panel, period, today=None, with_return=False):
    """The statistics of the panel for a period (figures.Period): the period beside the one before
    it and the last eight quarters, suppressed (and the SafeLives per-meeting return when asked);
    reads the database in a fixed number of queries.

    Working them out reads two years of a panel's cases (seconds at 100,000 cases), and they are
    aggregates of whole quarters that a steering group reads at its meeting: the figures of a panel,
    period, day and settings are kept for STATS_CACHE_SECONDS (0: never kept), in this process and,
    with REDIS_URL, for every process of the service (core.shared_cache: what the page shows, the
    suppressed figures, without the counts behind them), so that they are worked out once, not once by
    each worker: one worker works them out while the others show the copy they have, or wait for it.
    They carry the time they were worked out (Figures.as_at), which the page shows. Who may see them
    is decided before they are asked for, each time."""
    today = today or today_()
    keep = current_app.config.get("STATS_CACHE_SECONDS", 0)
    key = (panel.id, period, today, with_return, tuple(getattr(panel, name) for name in SETTINGS))
    if keep:
        kept = _RECENT.get(key)
        if kept and time.monotonic() - kept[0] < keep:
            return kept[1]
        shared_key = (code_version(), key)
        shared = shared_cache.get("statistics", shared_key)
        if shared is not None and (utcnow() - shared.as_at).total_seconds() < keep:
            _keep(key, shared, keep)
            return shared
        # None kept, or older than `keep`: one worker works them out while the others show the old copy,
        # or, with none, wait for the new one (each would otherwise spend the same seconds at once, and
        # every page wait for them).
        if not shared_cache.claim("statistics", shared_key, min(RECLAIM_SECONDS, keep)):
            shared = shared or shared_cache.wait_for("statistics", shared_key, WAIT_SECONDS)
            if shared is not None:
                return shared
    previous = previous_period(period)
    quarters = trend_quarters(period)
    loaded = load(panel, [period, previous, *quarters], today)
    found = figures.build(loaded, period, previous, quarters, with_return)
    found.as_at = utcnow()
    if keep:
        _keep(key, found, keep)
        # Without the raw counts behind the suppressed cells (Figures.protection): Redis holds only what
        # the page shows. Kept twice as long there: the old copy is what the others show while one works
        # out the new.
        shared_cache.put("statistics", shared_key, dataclasses.replace(found, protection=None), 2 * keep)
    return found


def _keep(key, found, keep):
    """Keep the figures in this process until they are `keep` seconds old (as_at on)."""
    if len(_RECENT) >= _RECENT_KEPT:
        _RECENT.pop(min(_RECENT, key=lambda k: _RECENT[k][0]))
    age = max(0.0, (utcnow() - found.as_at).total_seconds())
    _RECENT[key] = (time.monotonic() - age, found)


def _date_of(column):
    """The date part of a UTC timestamp column, on SQLite and PostgreSQL."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.date(column)
    return cast(column, Date)


def _elements(column, name):
    """A table of the text elements of the JSON list under `name` of a JSON column (Case.codes):
    json_each on SQLite, json_array_elements_text on PostgreSQL. Join it with `ON true`."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.json_each(column, f"$.{name}").table_valued("value")
    return func.json_array_elements_text(column[name]).table_valued("value").lateral()


def _periods_table(periods):
    """The periods as a derived table (index, start, end), to count distinct things per period."""
    rows = [select(literal(index).label("w"), literal(p.start, Date).label("starts"), literal(p.end, Date).label("ends"))
            for index, p in enumerate(periods)]
    return union_all(*rows).subquery("periods")


def _end_of_day(day):
    """The end of a local day (Europe/London) as a UTC time: deadlines are working days in England."""
    local = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), LOCAL_TIME)
    return local.astimezone(dt.timezone.utc)


def load(panel, periods, today):
    """The per-meeting counts of the panel's held meetings (and its referrals) over the periods."""
    span_start = min(p.start for p in periods)
    span_end = max(p.end for p in periods)
    held = and_(Meeting.panel_id == panel.id, Meeting.status == MeetingStatus.HELD,
                Meeting.meets_on.between(span_start, span_end))

    meetings = []
    for row in db.session.execute(select(Meeting.id, Meeting.meets_on, Meeting.agenda_published_at,
                                         Meeting.agenda_due_on, Meeting.minutes_finalised_at)
                                  .where(held).order_by(Meeting.meets_on)):
        meetings.append(figures.MeetingFacts(
            id=row.id, meets_on=row.meets_on,
            # the deadline recorded when the agenda went out; else the panel's lead time today
            agenda_deadline=row.agenda_due_on or add_working_days(row.meets_on, -panel.agenda_lead_days),
            agenda_published_on=_local_date(row.agenda_published_at),
            minutes_deadline=add_working_days(row.meets_on, panel.minutes_days),
            minutes_finalised_on=_local_date(row.minutes_finalised_at)))

    attendance = {(r.meeting_id, r.agency_id): (r.status, r.is_core) for r in db.session.execute(
        select(Attendance.meeting_id, Attendance.agency_id, Attendance.status, Attendance.is_core)
        .join(Meeting, Meeting.id == Attendance.meeting_id).where(held))}
    attendees = {r.meeting_id: (r.people, r.agreed) for r in db.session.execute(
        select(Attendee.meeting_id, func.count().label("people"),
               func.count(Attendee.confidentiality_agreed_at).label("agreed"))
        .join(Meeting, Meeting.id == Attendee.meeting_id).where(held, Attendee.is_observer.is_(False))
        .group_by(Attendee.meeting_id))}

    heard = and_(held, AgendaItem.status == ItemStatus.HEARD)
    hearings = _hearings(panel, heard)
    routes = {}
    for r in db.session.execute(
            select(AgendaItem.meeting_id, Agency.kind, func.count().label("cases"))
            .join(Meeting, Meeting.id == AgendaItem.meeting_id).join(Case, Case.id == AgendaItem.case_id)
            .join(Agency, Agency.id == Case.referring_agency_id).where(heard)
            .group_by(AgendaItem.meeting_id, Agency.kind)):
        routes.setdefault(r.meeting_id, {})[r.kind] = r.cases
    categories, links, responses = {}, {}, []
    if panel.kind == PanelKind.MACE:
        _add_categories(categories, heard, ("type",), "exploitation_types")
        _add_levels(categories, heard, "risk")
        links = _mace_links(panel, held, periods[:2])
    elif panel.kind == PanelKind.ASB:
        _add_categories(categories, heard, ("asb",), "categories")
        _add_levels(categories, heard, "priority")
        responses = _asb_responses(panel, span_start, span_end)

    actions = _actions(held, today)
    items = dict(db.session.execute(
        select(AgendaItem.meeting_id, func.count()).join(Meeting, Meeting.id == AgendaItem.meeting_id).where(held)
        .group_by(AgendaItem.meeting_id)).all())
    research = _research(held, meetings)
    first_hearings = _first_hearings(panel, span_start, span_end)

    members = {m.agency_id: m.is_core for m in db.session.execute(
        select(PanelMember).where(PanelMember.panel_id == panel.id)).scalars()}
    agency_ids = set(members) | {a for _, a in attendance} | {a for _, a in actions} | {a for _, a in research}
    agencies = {r.id: figures.AgencyFacts(r.id, r.name, r.short_name, r.kind) for r in db.session.execute(
        select(Agency.id, Agency.name, Agency.short_name, Agency.kind).where(Agency.id.in_(agency_ids)))
    } if agency_ids else {}

    earliest = min([span_start] + [r[0] for r in first_hearings if r[0]] + [r[0] for r in responses if r[0]])
    return figures.Loaded(
        panel_kind=panel.kind, today=today, settings={name: getattr(panel, name) for name in SETTINGS},
        meetings=meetings, agencies=agencies, members=members, attendance=attendance, attendees=attendees,
        hearings=hearings, routes=routes, categories=categories, links=links, responses=responses, actions=actions,
        research=research, items=items, first_hearings=first_hearings,
        workdays=figures.workday_counter(earliest, max(span_end, today)))


def _local_date(moment):
    return moment.astimezone(LOCAL_TIME).date() if moment is not None else None


def _hearings(panel, heard):
    """{meeting id: {measure: count}} of the cases heard: repeats and the subject's coded categories,
    and the children and young perpetrators in their households."""
    subject, person = aliased(CaseParty), aliased(Person)

    def flag(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    rows = db.session.execute(
        select(AgendaItem.meeting_id, func.count(AgendaItem.id).label("heard"),
               flag(Case.is_repeat.is_(True)).label("repeat"),
               flag(person.ethnic_group.in_(MINORITISED)).label("minoritised"),
               flag(or_(person.sexuality.in_(LGBT_SEXUALITIES), person.gender.in_(LGBT_GENDERS))).label("lgbt"),
               flag(person.disability == YesNoUnknown.YES).label("disabled"),
               flag(person.gender == Gender.MALE).label("male"),
               flag(person.age_band == AGED_16_17).label("aged_16_17"))
        .join(Meeting, Meeting.id == AgendaItem.meeting_id).join(Case, Case.id == AgendaItem.case_id)
        .outerjoin(subject, and_(subject.case_id == Case.id, subject.role == SUBJECT_ROLE[panel.kind]))
        .outerjoin(person, person.id == subject.person_id)
        .where(heard).group_by(AgendaItem.meeting_id)).all()
    found = {r.meeting_id: {name: int(getattr(r, name)) for name in
                            ("heard", "repeat", "minoritised", "lgbt", "disabled", "male", "aged_16_17")}
             for r in rows}
    if panel.kind == PanelKind.MARAC:
        for name, condition in (("children", CaseParty.role == PartyRole.CHILD),
                                ("young_perps", and_(CaseParty.role == PartyRole.PERPETRATOR,
                                                     Person.age_band.in_(UNDER_18)))):
            for r in db.session.execute(
                    select(AgendaItem.meeting_id, func.count(CaseParty.id).label("n"))
                    .join(Meeting, Meeting.id == AgendaItem.meeting_id)
                    .join(CaseParty, CaseParty.case_id == AgendaItem.case_id)
                    .join(Person, Person.id == CaseParty.person_id)
                    .where(heard, condition).group_by(AgendaItem.meeting_id)):
                found.setdefault(r.meeting_id, {})[name] = r.n
    return found


def _add_categories(categories, heard, family, name):
    """Cases heard per meeting and per code of a coded list in Case.codes (exploitation types, kinds
    of anti-social behaviour)."""
    elements = _elements(Case.codes, name)
    for r in db.session.execute(
            select(AgendaItem.meeting_id, elements.c.value, func.count().label("n"))
            .join(Meeting, Meeting.id == AgendaItem.meeting_id).join(Case, Case.id == AgendaItem.case_id)
            .join(elements, true()).where(heard).group_by(AgendaItem.meeting_id, elements.c.value)):
        categories.setdefault(r.meeting_id, {})[(*family, r.value)] = r.n


def _add_levels(categories, heard, family):
    """Cases heard per meeting and risk level (MACE) or priority (ASB) at referral."""
    for r in db.session.execute(
            select(AgendaItem.meeting_id, Case.risk_level, func.count().label("n"))
            .join(Meeting, Meeting.id == AgendaItem.meeting_id).join(Case, Case.id == AgendaItem.case_id)
            .where(heard).group_by(AgendaItem.meeting_id, Case.risk_level)):
        categories.setdefault(r.meeting_id, {})[(family, r.risk_level)] = r.n


def _mace_links(panel, held, periods):
    """{period key: {"persons", "locations", "linked"}}: distinct persons and locations of concern
    linked to the children heard in each period, and how many children heard were linked to one."""
    table = _periods_table(periods)
    in_period = and_(Meeting.meets_on >= table.c.starts, Meeting.meets_on <= table.c.ends)
    heard_in = (select(table.c.w, AgendaItem.case_id, AgendaItem.id.label("item_id")).select_from(table)
                .join(Meeting, in_period).join(AgendaItem, AgendaItem.meeting_id == Meeting.id)
                .where(held, AgendaItem.status == ItemStatus.HEARD)).subquery()
    found = {p.key: {"persons": 0, "locations": 0, "linked": 0} for p in periods}
    for r in db.session.execute(
            select(heard_in.c.w, func.count(distinct(CaseParty.person_id)).label("n"))
            .join(CaseParty, and_(CaseParty.case_id == heard_in.c.case_id,
                                  CaseParty.role == PartyRole.PERSON_OF_CONCERN))
            .group_by(heard_in.c.w)):
        found[periods[r.w].key]["persons"] = r.n
    for r in db.session.execute(
            select(heard_in.c.w, func.count(distinct(CaseLocation.location_id)).label("n"))
            .join(CaseLocation, CaseLocation.case_id == heard_in.c.case_id).group_by(heard_in.c.w)):
        found[periods[r.w].key]["locations"] = r.n
    linked_case = or_(
        select(CaseParty.id).where(CaseParty.case_id == heard_in.c.case_id,
                                   CaseParty.role == PartyRole.PERSON_OF_CONCERN).exists(),
        select(CaseLocation.id).where(CaseLocation.case_id == heard_in.c.case_id).exists())
    for r in db.session.execute(select(heard_in.c.w, func.count().label("n")).where(linked_case)
                                .group_by(heard_in.c.w)):
        found[periods[r.w].key]["linked"] = r.n
    return found


def _asb_responses(panel, span_start, span_end):
    """(referred_on, decided on, response working days, referrals) of the ASB referrals made in the
    span: the decision is the manager's screening."""
    decided = _date_of(Case.screened_at)
    days = Case.codes["response_days"].as_integer()
    rows = db.session.execute(
        select(Case.referred_on, decided.label("decided"), days.label("days"), func.count().label("n"))
        .where(Case.panel_id == panel.id, Case.status != CaseStatus.DRAFT,
               Case.referred_on.between(span_start, span_end))
        .group_by(Case.referred_on, decided, days)).all()
    return [(r.referred_on, _as_date(r.decided), r.days, r.n) for r in rows]


def _as_date(value):
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


ACTION_COUNTS = ("agreed", "on_time", "late", "overdue", "open", ActionStatus.NOT_POSSIBLE, ActionStatus.NOT_DONE)


def _actions(held, today):
    """{(meeting id, owner agency id): {count name: actions}} of the actions agreed at the held
    meetings, as they stand today: agreed, done on time or late, open and overdue or not yet due, not
    possible, not done (ACTION_COUNTS)."""
    closed_on = _date_of(Action.closed_at)
    done, open_ = Action.status == ActionStatus.DONE, Action.status == ActionStatus.OPEN

    def count(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    rows = db.session.execute(
        select(AgendaItem.meeting_id, Action.owner_agency_id, func.count().label("agreed"),
               count(and_(done, closed_on <= Action.due_on)).label("on_time"),
               count(and_(done, or_(closed_on > Action.due_on, Action.closed_at.is_(None)))).label("late"),
               count(and_(open_, Action.due_on < today)).label("overdue"),
               count(and_(open_, Action.due_on >= today)).label("open"),
               count(Action.status == ActionStatus.NOT_POSSIBLE).label("not_possible"),
               count(Action.status == ActionStatus.NOT_DONE).label("not_done"))
        .join(AgendaItem, AgendaItem.id == Action.agenda_item_id)
        .join(Meeting, Meeting.id == AgendaItem.meeting_id).where(held)
        .group_by(AgendaItem.meeting_id, Action.owner_agency_id))
    return {(r.meeting_id, r.owner_agency_id): dict(zip(ACTION_COUNTS, (int(r.agreed), int(r.on_time), int(r.late),
                                                                        int(r.overdue), int(r.open),
                                                                        int(r.not_possible), int(r.not_done))))
            for r in rows}


def _deadlines(meetings):
    """The meetings' research deadlines as a table (meeting_id, ends: the end of the deadline day, UTC),
    from one JSON parameter (json_each on SQLite, json_array_elements on PostgreSQL), materialised once
    so that its values are read once per meeting, not once per return. One bound value: the statement
    is the same however many meetings there are."""
    ends = {m.id: _end_of_day(add_working_days(m.meets_on, -1)) for m in meetings}
    if db.session.get_bind().dialect.name == "sqlite":
        # as SQLite stores them: uuids as 32 hex digits, times as UTC text
        data = json.dumps([[key.hex, end.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")]
                           for key, end in ends.items()])
        rows = func.json_each(literal(data, String)).table_valued("value")
        meeting_id, deadline = func.json_extract(rows.c.value, "$[0]"), func.json_extract(rows.c.value, "$[1]")
    else:
        data = json.dumps([[str(key), end.isoformat()] for key, end in ends.items()])
        rows = func.json_array_elements(cast(literal(data, String), JSON)).table_valued(column("value", JSON))
        meeting_id = cast(rows.c.value[0].as_string(), AgendaItem.meeting_id.type)
        deadline = cast(rows.c.value[1].as_string(), ResearchReturn.created_at.type)
    return select(meeting_id.label("meeting_id"), deadline.label("ends")).cte("deadlines").prefix_with("MATERIALIZED")


def _research(held, meetings):
    """{(meeting id, agency id): (returns, returned by the deadline)}: a return is on time when it was
    first saved by the end of the working day before the meeting."""
    if not meetings:
        return {}
    deadlines = _deadlines(meetings)
    on_time = case((ResearchReturn.created_at < deadlines.c.ends, 1), else_=0)
    rows = db.session.execute(
        select(AgendaItem.meeting_id, ResearchReturn.agency_id, func.count().label("n"),
               func.coalesce(func.sum(on_time), 0).label("on_time"))
        .join(AgendaItem, AgendaItem.id == ResearchReturn.agenda_item_id)
        .join(deadlines, deadlines.c.meeting_id == AgendaItem.meeting_id)
        .group_by(AgendaItem.meeting_id, ResearchReturn.agency_id))
    return {(r.meeting_id, r.agency_id): (r.n, int(r.on_time)) for r in rows}


def _first_hearings(panel, span_start, span_end):
    """(referred_on, first heard on, cases) of the cases first heard in the span: heard at a meeting
    of the span, and at no held meeting before it."""
    earlier_item, earlier_meeting = aliased(AgendaItem), aliased(Meeting)
    heard_before = (select(earlier_item.id).join(earlier_meeting, earlier_meeting.id == earlier_item.meeting_id)
                    .where(earlier_item.case_id == AgendaItem.case_id, earlier_item.status == ItemStatus.HEARD,
                           earlier_meeting.status == MeetingStatus.HELD, earlier_meeting.meets_on < Meeting.meets_on)
                    .exists())
    rows = db.session.execute(
        select(Case.referred_on, Meeting.meets_on, func.count().label("n"))
        .select_from(AgendaItem).join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .join(Case, Case.id == AgendaItem.case_id)
        .where(Meeting.panel_id == panel.id, Meeting.status == MeetingStatus.HELD, AgendaItem.status == ItemStatus.HEARD,
               Meeting.meets_on.between(span_start, span_end), ~heard_before)
        .group_by(Case.referred_on, Meeting.meets_on))
    return [(r.referred_on, r.meets_on, r.n) for r in rows]


# --- settings ------------------------------------------------------------------------------------

def update_settings(actor, panel, values):
    """Set the panel's statistics settings (population, attendance threshold, minutes deadline, local
    population shares); audits the names of the settings changed."""
    changed = apply_changes(panel, {name: values[name] for name in SETTINGS if name in values})
    if changed:
        db.session.flush()
        record("stats.settings_updated", actor, panel, detail={"fields": changed})
    return changed


# --- exports -------------------------------------------------------------------------------------

def _audit_export(actor, panel, found, what, fmt):
    record("stats.exported", actor, panel, detail={"what": what, "format": str(fmt),
                                                   "from": found.period.start.isoformat(),
                                                   "to": found.period.end.isoformat()})


def export_table(actor, panel, found, key, fmt):
    """One table of the page as CSV or XLSX: (file name, bytes, media type); audited."""
    table = found.table(key)
    _audit_export(actor, panel, found, key, fmt)
    return exports.table_file(panel, found, table, fmt)


def export_workbook(actor, panel, found):
    """Every table of the page in one XLSX workbook, a sheet each (and the SafeLives return when
    `found` has it); audited."""
    _audit_export(actor, panel, found, "all-tables", ExportFormat.XLSX)
    tables = list(found.tables.values()) + ([found.safelives_return] if found.safelives_return else [])
    return exports.workbook_file(panel, found, tables)


def export_return(actor, panel, found, fmt):
    """The SafeLives MARAC data return of the period, one row per meeting, as CSV or XLSX; audited."""
    _audit_export(actor, panel, found, "safelives-return", fmt)
    return exports.table_file(panel, found, found.safelives_return, fmt)


def export_report(actor, panel, found):
    """The steering group's report of the period as a PDF; audited with the file's SHA-256."""
    name, pdf, media_type = exports.report_file(panel, found)
    record("stats.exported", actor, panel, detail={"what": "report", "format": "pdf",
                                                   "from": found.period.start.isoformat(),
                                                   "to": found.period.end.isoformat(),
                                                   "sha256": sha256_of(pdf)})
    return name, pdf, media_type
