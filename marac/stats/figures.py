"""What the statistics pages say, worked out from per-meeting counts: pure Python, no database.

`services.load` reads the counts (SQL aggregates over plain coded columns, a fixed number of queries
however many meetings or cases there are) into a `Loaded`; `build` turns them into the page's
tables and charts for a period, its previous period and the last eight quarters, with every count
of people or cases registered in one `suppression.Disclosure` (so that the page, its CSV and XLSX
tables, the SafeLives return and the PDF report show exactly the same, suppressed, figures).

Definitions (written on the page too):

* a meeting *held* is one closed (MeetingStatus.HELD) on a date in the period; *cases heard* count
  the hearings at those meetings (a case heard at two meetings counts at each, as SafeLives counts
  cases per meeting);
* an agency's *attendance rate*: meetings where it was present or sent a deputy ÷ meetings it was on
  the register as a core member; *core agency engagement*: present, deputy or apologies with
  information sent, over the same; a member that attends when needed is shown but not rated;
* *racially minoritised*: Asian, Black, mixed or other ethnic groups (not White British, White other
  or not known); *LGBT+*: gay, lesbian, bisexual or other sexuality, or non-binary gender;
* an action is *completed on time* when it was done on or before its due date; *overdue* when still
  open after it; actions are counted at the meeting that agreed them, as they stand today;
* research is *returned by the deadline* when an agency first saved it by the end of the working day
  before the meeting (`Meeting.research_deadline`).
"""
import dataclasses
import datetime as dt
import statistics
from collections import defaultdict

from marac.actions.models import ActionStatus
from marac.agencies.models import AgencyKind
from marac.cases.models import risk_levels
from marac.cases.questions import AsbCategory, ExploitationType
from marac.core.formatting import format_date
from marac.core.workdays import is_working_day, working_days_between
from marac.meetings.models import ATTENDED, AttendanceStatus
from marac.panels.models import PanelKind
from marac.people.models import EthnicGroup, Gender, Sexuality
from marac.stats.models import PeriodKind
from marac.stats.suppression import (MIN_BASE, NO_PERCENTAGE, Cell, Disclosure, Table, format_percent, number, plain,
                                     ratio)

# Who counts as racially minoritised and as LGBT+ (see the module's docstring).
MINORITISED = (EthnicGroup.ASIAN, EthnicGroup.BLACK, EthnicGroup.MIXED, EthnicGroup.OTHER)
LGBT_SEXUALITIES = (Sexuality.GAY_LESBIAN, Sexuality.BISEXUAL, Sexuality.OTHER)
LGBT_GENDERS = (Gender.NON_BINARY,)
AGED_16_17 = "16-17"  # people.services.age_band: the age on the date of the referral
UNDER_18 = ("0-15", "16-17")
REPEATED_NOT_DONE = 2  # an agency with this many actions "not done" in a period is flagged
TREND_QUARTERS = 8
PER_POPULATION = 10_000
CASES_PER_IDVA, CASES_PER_COORDINATOR = 100, 400

SAFELIVES_SOURCE = "SafeLives MARAC data, 12 months to 30 September 2024 (276 MARACs)"
RECOMMENDED_PER_10000 = 40
# The national figures SafeLives gives for the 12 months to 30 September 2024.
NATIONAL = {
    "per_10000": "47 (recommended 40)",
    "repeat": "31%",
    "nonpolice": "36.1%",
    "minoritised": "14.1%",
    "lgbt": "1.6%",
    "disabled": "10.1%",
    "male": "6.4%",
    "aged_16_17": "1.3%",
    "children": "148,270 children in 119,985 cases",
    "young_perps": "1,425 perpetrators aged 17 or under",
}
NATIONAL_REPEAT_RATE = 31.0

# The coded figures of a hearing (services.load reads them per meeting).
DIVERSITY = [
    ("minoritised", "Victims who are racially minoritised", "local_minoritised_share"),
    ("lgbt", "Victims who are LGBT+", "local_lgbt_share"),
    ("disabled", "Victims who are disabled", "local_disabled_share"),
    ("male", "Victims who are male", "local_male_share"),
    ("aged_16_17", "Victims aged 16 or 17", "local_aged_16_17_share"),
]
HEARING_MEASURES = ("heard", "repeat", *(name for name, _, _ in DIVERSITY), "children", "young_perps")

STATUS_CODES = {
    AttendanceStatus.PRESENT: "P",
    AttendanceStatus.DEPUTY: "D",
    AttendanceStatus.APOLOGIES_INFO: "AI",
    AttendanceStatus.APOLOGIES: "A",
    AttendanceStatus.ABSENT: "X",
}


# --- periods ---------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Period:
    """A span of whole days, both ends included, of a kind (PeriodKind), and how pages name it."""

    start: dt.date
    end: dt.date
    label: str
    kind: str = PeriodKind.RANGE

    @property
    def days(self):
        """The number of days in the period."""
        return (self.end - self.start).days + 1

    def contains(self, day):
        """Whether the day falls in the period."""
        return self.start <= day <= self.end

    @property
    def key(self):
        """What identifies the period's counts in a Disclosure (the same dates, the same counts)."""
        return ("W", self.start.isoformat(), self.end.isoformat())

    @property
    def dates(self):
        """The period's dates in words: 1 April 2026 to 30 June 2026."""
        return f"{_day(self.start)} to {_day(self.end)}"


def _day(day):
    return format_date(day, "date").lstrip("0")


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def _month_end(year, month):
    """The last day of a month (month may run past 12 into the next years)."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def quarter_of(day):
    """The calendar quarter holding the day ("April to June 2026")."""
    first = 3 * ((day.month - 1) // 3) + 1
    return Period(dt.date(day.year, first, 1), _month_end(day.year, first + 2),
                  f"{MONTHS[first - 1]} to {MONTHS[first + 1]} {day.year}", PeriodKind.QUARTER)


def previous_quarter(quarter):
    """The quarter before a quarter."""
    return quarter_of(quarter.start - dt.timedelta(days=1))


def last_complete_quarter(today):
    """The latest quarter that ended before today: the default period."""
    return previous_quarter(quarter_of(today))


def recent_quarters(today, count=12):
    """The last `count` complete quarters, newest first."""
    quarters = [last_complete_quarter(today)]
    while len(quarters) < count:
        quarters.append(previous_quarter(quarters[-1]))
    return quarters


def quarter_code(quarter):
    """A quarter's code, such as 2026-Q2 (April to June 2026)."""
    return f"{quarter.start.year}-Q{(quarter.start.month - 1) // 3 + 1}"


def twelve_months(today):
    """The last 12 complete calendar months."""
    end = today.replace(day=1) - dt.timedelta(days=1)
    return _twelve_months_to(end)


def _twelve_months_to(end):
    start = (_month_end(end.year, end.month - 11) - dt.timedelta(days=1)).replace(day=1)
    return Period(start, end, f"{MONTHS[start.month - 1]} {start.year} to {MONTHS[end.month - 1]} {end.year}",
                  PeriodKind.TWELVE_MONTHS)


def financial_year(start_year, today=None):
    """The financial year from 1 April of `start_year` to 31 March; only up to yesterday if it has not
    ended by `today`."""
    start, end = dt.date(start_year, 4, 1), dt.date(start_year + 1, 3, 31)
    label = f"{start_year} to {start_year + 1} financial year"
    if today is not None and end >= today:
        end = max(start, today - dt.timedelta(days=1))
        label += f" (to {_day(end)})"
    return Period(start, end, label, PeriodKind.FINANCIAL_YEAR)


def recent_financial_years(today, count=6):
    """Start years of the current financial year (so far) and the ones before it, newest first."""
    current = today.year if today >= dt.date(today.year, 4, 1) else today.year - 1
    return [current - n for n in range(count)]


def date_range(start, end):
    """A period of any dates."""
    return Period(start, end, f"{_day(start)} to {_day(end)}", PeriodKind.RANGE)


def previous_period(period):
    """The period just before it, to compare with: the previous quarter; the 12 months before; the
    previous financial year (its same part, for a year not yet over); for dates chosen, the same
    number of days just before."""
    if period.kind == PeriodKind.QUARTER:
        return previous_quarter(period)
    if period.kind == PeriodKind.TWELVE_MONTHS:
        return _twelve_months_to(period.start - dt.timedelta(days=1))
    if period.kind == PeriodKind.FINANCIAL_YEAR:
        year = period.start.year - 1
        whole = financial_year(year)
        if period.end == dt.date(period.start.year + 1, 3, 31):
            return whole
        end = _same_day_a_year_before(period.end)
        return Period(whole.start, end, f"{whole.label} (to {_day(end)})", PeriodKind.FINANCIAL_YEAR)
    end = period.start - dt.timedelta(days=1)
    return date_range(end - dt.timedelta(days=period.days - 1), end)


def _same_day_a_year_before(day):
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def trend_quarters(period, count=TREND_QUARTERS):
    """The `count` quarters up to the last one that ends by the period's end, oldest first."""
    last = quarter_of(period.end)
    if last.end != period.end:
        last = previous_quarter(last)
    quarters = [last]
    while len(quarters) < count:
        quarters.append(previous_quarter(quarters[-1]))
    return list(reversed(quarters))


# --- what services.load reads ----------------------------------------------------------------

@dataclasses.dataclass
class MeetingFacts:
    """A held meeting: its date and deadlines, and when its agenda and minutes went out."""

    id: object
    meets_on: dt.date
    agenda_deadline: dt.date
    agenda_published_on: dt.date | None
    minutes_deadline: dt.date
    minutes_finalised_on: dt.date | None

    @property
    def key(self):
        """What identifies the meeting's counts in a Disclosure."""
        return ("M", str(self.id))


@dataclasses.dataclass
class AgencyFacts:
    """An agency as the tables name it."""

    id: object
    name: str
    short_name: str
    kind: str


@dataclasses.dataclass
class Loaded:
    """The per-meeting counts of a panel over every period a page shows (services.load)."""

    panel_kind: str
    today: dt.date
    settings: dict
    meetings: list  # MeetingFacts, by date
    agencies: dict  # id -> AgencyFacts
    members: dict  # agency id -> is_core, today
    attendance: dict  # (meeting id, agency id) -> (status, is_core)
    attendees: dict  # meeting id -> (attendees, agreed)
    hearings: dict  # meeting id -> {measure: count} (HEARING_MEASURES)
    routes: dict  # meeting id -> {agency kind: cases heard it referred}
    categories: dict  # meeting id -> {(family, code): cases heard}: MACE types and risk, ASB priority and kind
    links: dict  # period key -> {"persons", "locations", "linked"} (MACE, distinct per period)
    responses: list  # (referred_on, decided_on or None, response working days, cases) for ASB referrals
    actions: dict  # (meeting id, owner agency id) -> {"agreed", "on_time", "late", "overdue", "open", not possible, not done}
    research: dict  # (meeting id, agency id) -> (returned, by the deadline)
    items: dict  # meeting id -> cases listed
    first_hearings: list  # (referred_on, first heard on, cases)
    workdays: object = None  # callable (start, end) -> working days after start up to end


# --- the page --------------------------------------------------------------------------------

@dataclasses.dataclass
class Chart:
    """What charts.py draws: bars (label, value or None, note, highlighted), a reference line, and
    the sentences a reader and a screen reader get."""

    key: str
    title: str
    description: str
    bars: list
    unit: str = ""
    reference: tuple | None = None  # (value, label)
    horizontal: bool = False
    legend: list = dataclasses.field(default_factory=list)  # (highlighted, label)
    table: str | None = None  # the key of the table beside it


@dataclasses.dataclass
class Figures:
    """Everything a statistics page and its exports show, already suppressed."""

    period: Period
    previous: Period
    quarters: list
    panel_kind: str
    tables: dict
    charts: dict
    summary: list  # (label, Cell) of the attendance headline
    flags: list  # sentences for the steering group (agencies below threshold, repeated not done)
    protection: object
    safelives_return: Table | None
    as_at: object = None  # when the figures were worked out (UTC): a page may show them for a few minutes


    def table(self, key):
        """The table of this key, or None."""
        return self.tables.get(key)


def build(loaded, period, previous, quarters, with_return=False):
    """The figures of a page: the period beside the previous one, the trend over `quarters`; with the
    SafeLives per-meeting return of a MARAC panel when asked."""
    return _Builder(loaded, period, previous, quarters).build(with_return)


def _per_window(method):
    """Work a per-period figure out once per period (the summary, the tables and the trend all ask)."""
    def cached(self, window):
        key = (method.__name__, window.key)
        if key not in self._cache:
            self._cache[key] = method(self, window)
        return self._cache[key]
    return cached


class _Builder:
    def __init__(self, loaded, period, previous, quarters):
        self._cache = {}
        self.l = loaded
        self.period, self.previous, self.quarters = period, previous, quarters
        self.windows = [period, previous, *quarters]
        self.kind = loaded.panel_kind
        self.d = Disclosure()
        self.meetings_in = {w.key: [m for m in loaded.meetings if w.contains(m.meets_on)] for w in self.windows}
        # per meeting, once: what each period adds up
        self.actions_by_meeting = defaultdict(list)
        for (meeting_id, agency_id), counts in loaded.actions.items():
            self.actions_by_meeting[meeting_id].append((agency_id, counts))
        self.register_of = defaultdict(list)
        for (meeting_id, agency_id), (status, core) in loaded.attendance.items():
            self.register_of[meeting_id].append((agency_id, status, core))
        self.research_of = defaultdict(list)
        for (meeting_id, agency_id), counts in loaded.research.items():
            self.research_of[meeting_id].append((agency_id, counts))

    # sums over a period's meetings

    def total(self, window, counts, *path):
        """Sum of counts[meeting id][path...] over the window's meetings."""
        value = 0
        for meeting in self.meetings_in[window.key]:
            entry = counts.get(meeting.id, {})
            for part in path:
                entry = entry.get(part, 0) if isinstance(entry, dict) else 0
            value += entry or 0
        return value

    def hearing(self, window, measure):
        return self.total(window, self.l.hearings, measure)

    # registering counts

    def key(self, measure, window):
        return (measure, window.key if isinstance(window, Period) else window)

    def count(self, measure, window, value, hidden=False):
        return self.d.add(self.key(measure, window), value, hidden=hidden)

    def build(self, with_return=False):
        self._register_cases([self.period, self.previous])
        self._register_time_lines()
        protection = self.d.protect()
        return_table_spec = None
        if with_return and self.kind == PanelKind.MARAC:
            # The per-meeting return is protected with the page's figures as they are: only its own
            # per-meeting counts may be hidden, so the page and the return always agree.
            return_table_spec = self._register_meetings()
            protection = self.d.protect(frozen=dict(protection.status))
        self.p = protection
        tables, charts = {}, {}
        flags = []
        summary_rows = self._summary()
        tables["summary"] = Table("summary", "Key figures", ["Figure", self.period.label, self.previous.label],
                                  summary_rows, notes=[NOTE_SUPPRESSION])
        attendance_table, register, headline, attendance_chart, below = self._attendance()
        tables["attendance-agencies"] = attendance_table
        tables["attendance-register"] = register
        charts["attendance"] = attendance_chart
        flags += below
        if self.kind == PanelKind.MARAC:
            tables["marac"] = self._marac_table()
            tables["referral-routes"], charts["routes"] = self._routes_table()
        elif self.kind == PanelKind.MACE:
            tables.update(self._mace_tables())
        else:
            tables.update(self._asb_tables())
        tables["actions"], action_flags = self._actions_table()
        flags += action_flags
        tables["research"] = self._research_table()
        tables["timeliness"] = self._timeliness_table()
        tables["trend"], trend_charts = self._trend()
        charts.update(trend_charts)
        safelives = self._safelives_return(return_table_spec) if return_table_spec else None
        return Figures(self.period, self.previous, self.quarters, self.kind, tables, charts, headline, flags,
                       protection, safelives)

    # --- registering every count of people with its lines ----------------------------------------

    def _register_cases(self, windows):
        """The counts of cases of the period and the previous period, with how they add up."""
        for window in windows:
            heard = self.count("heard", window, self.hearing(window, "heard"))
            if self.kind == PanelKind.MARAC:
                self._binary("repeat", window, self.hearing(window, "repeat"), heard)
                for name, _label, _share in DIVERSITY:
                    self._binary(name, window, self.hearing(window, name), heard)
                self.count("children", window, self.hearing(window, "children"))
                self.count("young_perps", window, self.hearing(window, "young_perps"))
                self._routes(window, {kind: self.total(window, self.l.routes, kind) for kind in AgencyKind}, heard)
            elif self.kind == PanelKind.MACE:
                for kind in ExploitationType:
                    self._binary(("type", kind), window, self.total(window, self.l.categories, ("type", kind)), heard)
                self._partition("risk", [(level, self.total(window, self.l.categories, ("risk", level)))
                                         for level in risk_levels(PanelKind.MACE)], window, heard)
                links = self.l.links.get(window.key, {})
                self.count("persons", window, links.get("persons", 0))
                self.count("locations", window, links.get("locations", 0))
                self._binary("linked", window, links.get("linked", 0), heard)
            else:
                self._partition("priority", [(level, self.total(window, self.l.categories, ("priority", level)))
                                             for level in risk_levels(PanelKind.ASB)], window, heard)
                for category in AsbCategory:
                    self._binary(("asb", category), window,
                                 self.total(window, self.l.categories, ("asb", category)), heard)
                met, missed, awaiting = self._responses(window)
                referrals = self.count("referrals", window, met + missed + awaiting)
                self._partition("response", [("met", met), ("missed", missed), ("awaiting", awaiting)], window,
                                referrals)

    def _binary(self, measure, window, value, total_key):
        """A count and its hidden rest (cases heard without the attribute)."""
        key = self.count(measure, window, value)
        self.d.complement(key, total_key, self.key(("not", measure), window))
        return key

    def _partition(self, family, parts, window, total_key):
        keys = [self.count((family, code), window, value) for code, value in parts]
        self.d.line(keys, total_key)
        return keys

    def _routes(self, window, counts, heard):
        """Referrals by the kind of the referring agency: police, and the rest adding up to non-police."""
        police = self.count(("route", AgencyKind.POLICE), window, counts.get(AgencyKind.POLICE, 0))
        others = [self.count(("route", kind), window, counts.get(kind, 0)) for kind in AgencyKind
                  if kind != AgencyKind.POLICE]
        nonpolice = self.count("nonpolice", window, sum(counts.values()) - counts.get(AgencyKind.POLICE, 0))
        self.d.line(others, nonpolice)
        self.d.line([police, nonpolice], heard)

    def _responses(self, window):
        met = missed = awaiting = 0
        for referred_on, decided_on, days, cases in self.l.responses:
            if not window.contains(referred_on):
                continue
            if decided_on is None:
                awaiting += cases
            elif days is not None and self.l.workdays(referred_on, decided_on) <= days:
                met += cases
            else:
                missed += cases
        return met, missed, awaiting

    def _register_meetings(self):
        """The per-meeting counts of the SafeLives return (the period's meetings), with how they add
        up to the period's and each quarter's counts."""
        meetings = self.meetings_in[self.period.key]
        measures = ["heard", "repeat", *(name for name, _, _ in DIVERSITY), "children", "young_perps"]
        route_kinds = list(AgencyKind)
        for meeting in meetings:
            counts = self.l.hearings.get(meeting.id, {})
            heard = self.count("heard", meeting.key, counts.get("heard", 0))
            for name in ("repeat", *(n for n, _, _ in DIVERSITY)):
                self._binary(name, meeting.key, counts.get(name, 0), heard)
            self.count("children", meeting.key, counts.get("children", 0))
            self.count("young_perps", meeting.key, counts.get("young_perps", 0))
            self._routes(meeting.key, self.l.routes.get(meeting.id, {}), heard)
        columns = measures + [("route", kind) for kind in route_kinds] + ["nonpolice"]
        groups = [(self.period, meetings)] + [
            (quarter, [m for m in meetings if quarter.contains(m.meets_on)]) for quarter in self.quarters
            if self.period.contains(quarter.start) and self.period.contains(quarter.end) and quarter != self.period]
        for window, members in groups:
            if not members:
                continue
            for measure in columns:
                total = self.key(measure, window)
                if total in self.d.values:
                    self.d.line([self.key(measure, m.key) for m in members], total)
        return meetings, measures, route_kinds

    def _register_time_lines(self):
        """The trend's quarters, and how they add up to the period or the previous period when those are
        whole quarters."""
        for quarter in self.quarters:
            heard = self.count("heard", quarter, self.hearing(quarter, "heard"))
            if self.kind == PanelKind.MARAC:
                self._binary("repeat", quarter, self.hearing(quarter, "repeat"), heard)
                police = self.total(quarter, self.l.routes, AgencyKind.POLICE)
                nonpolice = sum(self.total(quarter, self.l.routes, kind) for kind in AgencyKind) - police
                self._binary("nonpolice", quarter, nonpolice, heard)
        measures = ["heard"] + (["repeat", "nonpolice"] if self.kind == PanelKind.MARAC else [])
        for window in (self.period, self.previous):
            inside = [q for q in self.quarters if window.contains(q.start) and window.contains(q.end)]
            if len(inside) < 2 or sum(q.days for q in inside) != window.days:
                continue
            for measure in measures:
                self.d.line([self.key(measure, q) for q in inside], self.key(measure, window))

    # --- tables ----------------------------------------------------------------------------------

    def cases(self, measure, window):
        return self.p.cell(self.key(measure, window))

    def share(self, measure, window, base="heard"):
        return self.p.percent(self.key(measure, window), self.key(base, window), places=1)

    def _meetings_held(self, window):
        return len(self.meetings_in[window.key])

    def _per_10000(self, window):
        women = self.l.settings.get("women_16_plus")
        key = self.key("heard", window)
        if not women or not self.p.shown(key):
            return plain(NO_PERCENTAGE)
        value = self.p.values[key] * 365.25 / window.days * PER_POPULATION / women
        return plain(f"{value:.1f}", value)

    def _staffing(self, window, per):
        key = self.key("heard", window)
        if not self.p.shown(key):
            return plain(NO_PERCENTAGE)
        value = self.p.values[key] * 365.25 / window.days / per
        return plain(f"{value:.1f}", value)

    def _summary(self):
        rows = []
        now, before = self.period, self.previous
        rows.append([plain("Meetings held"), number(self._meetings_held(now)), number(self._meetings_held(before))])
        rows.append([plain("Cases heard"), self.cases("heard", now), self.cases("heard", before)])
        if self.kind == PanelKind.MARAC:
            rows.append([plain("Cases per 10,000 women aged 16 and over (a year's rate)"), self._per_10000(now),
                         self._per_10000(before)])
            rows.append([plain("Repeat cases"), self.share("repeat", now), self.share("repeat", before)])
            rows.append([plain("Referrals from agencies other than the police"), self.share("nonpolice", now),
                         self.share("nonpolice", before)])
        for label, index in (("Core agency engagement", 1), ("Attendance of core agencies", 0)):
            rows.append([plain(label), self._attendance_rates(now)[index], self._attendance_rates(before)[index]])
        rows.append([plain("Actions completed on time"), self._actions_on_time(now), self._actions_on_time(before)])
        rows.append([plain("Research returned by the deadline"), self._research_on_time(now),
                     self._research_on_time(before)])
        rows.append([plain("Referral to first hearing, median working days"), self._median_days(now),
                     self._median_days(before)])
        return rows

    # attendance

    @_per_window
    def _rows_of(self, window):
        return [(meeting.id, agency_id, status, core) for meeting in self.meetings_in[window.key]
                for agency_id, status, core in self.register_of[meeting.id]]

    @_per_window
    def _attendance_rates(self, window):
        """(attendance, engagement) Cells of the core agencies over the window."""
        rows = [r for r in self._rows_of(window) if r[3]]
        attended = sum(1 for r in rows if r[2] in ATTENDED)
        engaged = sum(1 for r in rows if r[2] in ATTENDED or r[2] == AttendanceStatus.APOLOGIES_INFO)
        return ratio(attended, len(rows)), ratio(engaged, len(rows))

    def _attendance(self):
        window = self.period
        threshold = self.l.settings.get("attendance_threshold") or 80
        meetings = self.meetings_in[window.key]
        rows = self._rows_of(window)
        by_agency = defaultdict(list)
        for meeting_id, agency_id, status, core in rows:
            by_agency[agency_id].append((status, core))
        agencies = sorted(by_agency, key=lambda a: self._agency(a).name)
        table_rows, below, chart_bars = [], [], []
        for agency_id in agencies:
            entries = by_agency[agency_id]
            core = any(c for _, c in entries)
            counts = {status: sum(1 for s, _ in entries if s == status) for status in AttendanceStatus}
            attended = counts[AttendanceStatus.PRESENT] + counts[AttendanceStatus.DEPUTY]
            absent = len(entries) - attended
            rate = ratio(attended, len(entries))
            agency = self._agency(agency_id)
            if core and rate.value is not None and rate.value < threshold:
                rate.flag = f"Below {threshold}%"
                below.append(f"{agency.name} attended {rate.text} of the meetings it was expected at, below the "
                             f"panel's {threshold}%.")
            info = (f"{counts[AttendanceStatus.APOLOGIES_INFO]} of {absent}" if absent else "Not absent")
            table_rows.append([plain(agency.name), plain("Core member" if core else "Attends when needed"),
                               number(len(entries)), number(counts[AttendanceStatus.PRESENT]),
                               number(counts[AttendanceStatus.DEPUTY]), number(counts[AttendanceStatus.APOLOGIES_INFO]),
                               number(counts[AttendanceStatus.APOLOGIES]), number(counts[AttendanceStatus.ABSENT]),
                               rate if core else plain(f"{rate.text} (when needed)", rate.value), plain(info)])
            if core:
                chart_bars.append((agency.short_name, rate.value, rate.text, bool(rate.flag)))
        table = Table("attendance-agencies", "Attendance by agency",
                      ["Agency", "Membership", "Meetings", "Present", "Deputy", "Apologies, info sent",
                       "Apologies, no info", "Absent", "Attendance rate", "Info sent when absent"], table_rows,
                      notes=["Meetings: the meetings the agency was on the register of. Info sent when absent: "
                             "apologies with information sent, of the meetings it was not at.",
                             f"Attendance rate: meetings where the agency was present or sent a deputy, divided by "
                             f"the meetings it was on the register as a core member. Core agencies below the "
                             f"panel's threshold of {threshold}% are marked.",
                             "Counts of meetings and attendance are not about people and are shown in full."])
        grid_agencies = agencies
        register_rows = []
        for meeting in meetings:
            cells = [plain(_day(meeting.meets_on))]
            for agency_id in grid_agencies:
                entry = self.l.attendance.get((meeting.id, agency_id))
                if entry is None:
                    cells.append(plain("Not on the register"))
                else:
                    cells.append(Cell(AttendanceStatus.label_of(entry[0]), None, short=STATUS_CODES.get(entry[0], "?")))
            people, agreed = self.l.attendees.get(meeting.id, (0, 0))
            cells.append(plain(f"{agreed} of {people}"))
            register_rows.append(cells)
        register = Table("attendance-register", "Register of each meeting",
                         ["Meeting"] + [self._agency(a).short_name for a in grid_agencies]
                         + ["Agreed to confidentiality"], register_rows,
                         notes=["P: present. D: deputy sent. AI: apologies, information sent. "
                                "A: apologies, no information sent. X: absent. Agreed to confidentiality: the people "
                                "at the meeting for agencies who agreed to the confidentiality statement."])
        attendance, engagement = self._attendance_rates(window)
        people = sum(self.l.attendees.get(m.id, (0, 0))[0] for m in meetings)
        agreed = sum(self.l.attendees.get(m.id, (0, 0))[1] for m in meetings)
        all_agreed = sum(1 for m in meetings if self.l.attendees.get(m.id, (0, 0))[0]
                         and self.l.attendees[m.id][0] == self.l.attendees[m.id][1])
        headline = [
            ("Meetings held", number(len(meetings))),
            ("Core agency engagement (present, deputy or information sent)", engagement),
            ("Attendance of core agencies (present or deputy)", attendance),
            (f"Core agencies below {threshold}% attendance", number(len(below))),
            ("Attendees who agreed to the confidentiality statement", plain(f"{agreed} of {people}", agreed)),
            ("Meetings where every attendee agreed", plain(f"{all_agreed} of {len(meetings)}", all_agreed)),
        ]
        low = [bar for bar in chart_bars if bar[3]]
        if not chart_bars:
            title = "No core agency was on the register in this period"
        elif low:
            title = (f"{len(low)} of {len(chart_bars)} core agencies attended fewer than {threshold}% of meetings"
                     if len(low) > 1 else f"1 of {len(chart_bars)} core agencies attended fewer than {threshold}% of "
                                          f"meetings")
        else:
            title = f"Every core agency attended at least {threshold}% of meetings"
        description = ("Attendance rate of each core agency in " + self.period.label + ": "
                       + "; ".join(f"{label} {text}" + (" (below the threshold)" if low_ else "")
                                   for label, _v, text, low_ in chart_bars)
                       + f". The threshold line is at {threshold}%.")
        chart = Chart("attendance", title, description, chart_bars, unit="%",
                      reference=(threshold, f"Threshold {threshold}%"), horizontal=True,
                      legend=[(False, f"At or above {threshold}%"), (True, f"Below {threshold}% (hatched)")],
                      table="attendance-agencies")
        return table, register, headline, chart, below

    def _agency(self, agency_id):
        return self.l.agencies.get(agency_id) or AgencyFacts(agency_id, "Unknown agency", "Unknown", AgencyKind.OTHER)

    # MARAC

    def _marac_table(self):
        now, before = self.period, self.previous
        shares = self.l.settings
        rows = [[plain("Cases heard"), self.cases("heard", now), plain(""), self.cases("heard", before), plain(""),
                 plain("119,985 cases"), plain("")],
                [plain("Cases per 10,000 women aged 16 and over (a year's rate)"), self._per_10000(now), plain(""),
                 self._per_10000(before), plain(""), plain(NATIONAL["per_10000"]), plain("")],
                [plain("Repeat cases"), self.cases("repeat", now), self.share("repeat", now),
                 self.cases("repeat", before), self.share("repeat", before), plain(NATIONAL["repeat"]), plain("")],
                [plain("Referrals from agencies other than the police"), self.cases("nonpolice", now),
                 self.share("nonpolice", now), self.cases("nonpolice", before), self.share("nonpolice", before),
                 plain(NATIONAL["nonpolice"]), plain("")]]
        for name, label, setting in DIVERSITY:
            local = shares.get(setting)
            rows.append([plain(label), self.cases(name, now), self.share(name, now), self.cases(name, before),
                         self.share(name, before), plain(NATIONAL[name]),
                         plain(format_percent(local, 1) if local is not None else "Not set", local)])
        rows.append([plain("Children in the households of cases heard"), self.cases("children", now), plain(""),
                     self.cases("children", before), plain(""), plain(NATIONAL["children"]), plain("")])
        rows.append([plain("Perpetrators aged 17 or under"), self.cases("young_perps", now), plain(""),
                     self.cases("young_perps", before), plain(""), plain(NATIONAL["young_perps"]), plain("")])
        rows.append([plain("Full-time IDVAs the volume implies (one per 100 cases a year)"),
                     self._staffing(now, CASES_PER_IDVA), plain(""), self._staffing(before, CASES_PER_IDVA), plain(""),
                     plain(""), plain("")])
        rows.append([plain("Coordinators the volume implies (one per 400 cases a year)"),
                     self._staffing(now, CASES_PER_COORDINATOR), plain(""),
                     self._staffing(before, CASES_PER_COORDINATOR), plain(""), plain(""), plain("")])
        women = self.l.settings.get("women_16_plus")
        notes = [f"National figures: {SAFELIVES_SOURCE}. The recommended volume is {RECOMMENDED_PER_10000} cases a "
                 "year per 10,000 women aged 16 and over.",
                 (f"Local population of women aged 16 and over: {women:,}." if women else
                  "The panel manager has not set the local population of women aged 16 and over yet, so no rate "
                  "per 10,000 is shown."),
                 "Racially minoritised: Asian, Black, mixed or other ethnic groups. LGBT+: gay, lesbian, bisexual or "
                 "other sexuality, or non-binary. Age on the date of the referral. Local population: the share of "
                 "the local population aged 16 and over that the panel manager recorded.",
                 NOTE_SUPPRESSION]
        return Table("marac", "MARAC figures as the SafeLives dataset defines them",
                     ["Figure", now.label, "%", before.label, "%", "National (SafeLives)", "Local population"],
                     rows, notes=notes)

    def _routes_table(self):
        now, before = self.period, self.previous
        rows, bars = [], []
        for kind in AgencyKind:
            key_now, key_before = self.key(("route", kind), now), self.key(("route", kind), before)
            if kind != AgencyKind.POLICE and not (self.p.values[key_now] or self.p.values[key_before]):
                continue
            rows.append([plain(AgencyKind.label_of(kind)), self.p.cell(key_now),
                         self.p.percent(key_now, self.key("heard", now), 1), self.p.cell(key_before),
                         self.p.percent(key_before, self.key("heard", before), 1)])
            cell = self.p.cell(key_now)
            bars.append((AgencyKind.label_of(kind), cell.value, cell.text, kind == AgencyKind.POLICE))
        rows.append([plain("All agencies other than the police"), self.cases("nonpolice", now),
                     self.share("nonpolice", now), self.cases("nonpolice", before), self.share("nonpolice", before)])
        rows.append([plain("All cases heard"), self.cases("heard", now), plain(""), self.cases("heard", before),
                     plain("")])
        table = Table("referral-routes", "Referrals by the kind of agency that referred",
                      ["Referring agency", now.label, "%", before.label, "%"], rows,
                      notes=["Each case counts once, to the agency that referred it. National share of referrals "
                             f"from agencies other than the police: {NATIONAL['nonpolice']} ({SAFELIVES_SOURCE}).",
                             NOTE_SUPPRESSION])
        police = self.p.cell(self.key(("route", AgencyKind.POLICE), now))
        nonpolice = self.share("nonpolice", now)
        if nonpolice.value is not None:
            title = f"{nonpolice.text} of cases heard were referred by agencies other than the police"
        elif police.value is not None:
            title = f"The police referred {police.text} of the cases heard"
        else:
            title = "Referrals by the kind of agency that referred"
        description = ("Cases heard in " + now.label + " by the kind of agency that referred them: "
                       + "; ".join(f"{label} {text}" for label, _v, text, _h in bars) + ".")
        chart = Chart("routes", title, description, bars, horizontal=True,
                      legend=[(True, "Police (hatched)"), (False, "Other agencies")], table="referral-routes")
        return table, chart

    # MACE and ASB

    def _breakdown(self, key, title, label_head, entries, note=None, shares=True):
        now, before = self.period, self.previous
        rows = []
        for label, measure in entries:
            row = [plain(label), self.cases(measure, now)]
            if shares:
                row.append(self.share(measure, now))
            row.append(self.cases(measure, before))
            if shares:
                row.append(self.share(measure, before))
            rows.append(row)
        columns = [label_head, now.label] + (["%"] if shares else []) + [before.label] + (["%"] if shares else [])
        return Table(key, title, columns, rows, notes=[n for n in (note, NOTE_SUPPRESSION) if n])

    def _mace_tables(self):
        types = self._breakdown("mace-exploitation", "Children and young people heard, by type of exploitation",
                                "Type of exploitation", [(t.label, ("type", t)) for t in ExploitationType],
                                note="A child may be at risk of more than one type, so the types add up to more than "
                                     "the children heard.")
        risk = self._breakdown("mace-risk", "Children and young people heard, by risk level at referral",
                               "Risk level at referral", [(level.label, ("risk", level)) for level in risk_levels(PanelKind.MACE)]
                               + [("All heard", "heard")], shares=False,
                               note="The risk at referral. The risk found at each 12-weekly review is recorded "
                                    "with the review; it is not counted here yet.")
        links = self._breakdown("mace-links", "Persons and locations of concern", "Figure",
                                [("Persons of concern linked to children heard", "persons"),
                                 ("Locations of concern linked to children heard", "locations"),
                                 ("Children heard linked to a person or location of concern", "linked")],
                                shares=False,
                                note="Persons and locations are counted once each in a period, however many children "
                                     "they are linked to.")
        return {"mace-exploitation": types, "mace-risk": risk, "mace-links": links}

    def _asb_tables(self):
        priority = self._breakdown("asb-priority", "Cases heard, by priority", "Priority",
                                   [(level.label, ("priority", level)) for level in risk_levels(PanelKind.ASB)]
                                   + [("All heard", "heard")], shares=False,
                                   note="The priority the victim's vulnerability assessment set at referral.")
        kinds = self._breakdown("asb-kinds", "Cases heard, by kind of anti-social behaviour", "Kind",
                                [(c.label, ("asb", c)) for c in AsbCategory],
                                note="A case may involve more than one kind of behaviour.")
        response = self._breakdown("asb-response", "Referrals answered within the response time their priority sets",
                                   "Referrals made in the period",
                                   [("Decided within the response time", ("response", "met")),
                                    ("Decided after it", ("response", "missed")),
                                    ("Awaiting a decision", ("response", "awaiting")),
                                    ("All referrals", "referrals")], shares=False,
                                   note="Response: the panel manager's screening decision, within the working days "
                                        "the priority sets (1, 3 or 10). ASB Case Review figures join when that "
                                        "capability exists.")
        return {"asb-priority": priority, "asb-kinds": kinds, "asb-response": response}

    # actions, research, timeliness

    @_per_window
    def _action_counts(self, window):
        by_agency = defaultdict(lambda: defaultdict(int))
        for meeting in self.meetings_in[window.key]:
            for agency_id, counts in self.actions_by_meeting.get(meeting.id, ()):
                for name, value in counts.items():
                    by_agency[agency_id][name] += value
        return by_agency

    def _actions_on_time(self, window):
        counts = self._action_counts(window)
        return ratio(sum(c["on_time"] for c in counts.values()), sum(c["agreed"] for c in counts.values()))

    def _actions_table(self):
        counts = self._action_counts(self.period)
        rows, flags = [], []
        for agency_id in sorted(counts, key=lambda a: self._agency(a).name):
            c = counts[agency_id]
            agency = self._agency(agency_id)
            not_done = number(c[ActionStatus.NOT_DONE])
            if c[ActionStatus.NOT_DONE] >= REPEATED_NOT_DONE:
                not_done.flag = "Repeated"
                flags.append(f"{agency.name} did not do {c[ActionStatus.NOT_DONE]} of the actions agreed at this "
                             "period's meetings: for the steering group.")
            rows.append([plain(agency.name), number(c["agreed"]), number(c["on_time"]), number(c["late"]),
                         number(c["overdue"]), number(c["open"]), number(c[ActionStatus.NOT_POSSIBLE]), not_done,
                         ratio(c["on_time"], c["agreed"])])
        total = defaultdict(int)
        for c in counts.values():
            for name, value in c.items():
                total[name] += value
        if counts:
            rows.append([plain("All agencies"), number(total["agreed"]), number(total["on_time"]), number(total["late"]),
                         number(total["overdue"]), number(total["open"]), number(total[ActionStatus.NOT_POSSIBLE]),
                         number(total[ActionStatus.NOT_DONE]), ratio(total["on_time"], total["agreed"])])
        table = Table("actions", "Actions agreed at the period's meetings, by owner agency",
                      ["Agency", "Agreed", "Done on time", "Done late", "Overdue", "Open, not due yet",
                       "Not possible", "Not done", "On time, %"],
                      rows, notes=["Not possible: closed because circumstances changed. Not done: the agency did not "
                                   "act. As the actions stand today. Agencies with "
                                   f"{REPEATED_NOT_DONE} or more actions not done are marked for the steering group.",
                                   "Counts of actions are about agencies' work, not people, and are shown in full."])
        return table, flags

    @_per_window
    def _research_counts(self, window):
        by_agency = defaultdict(lambda: [0, 0, 0])  # expected, returned, by the deadline
        for meeting in self.meetings_in[window.key]:
            listed = self.l.items.get(meeting.id, 0)
            for agency_id, _status, _core in self.register_of[meeting.id]:
                by_agency[agency_id][0] += listed
            for agency_id, (returned, on_time) in self.research_of[meeting.id]:
                by_agency[agency_id][1] += returned
                by_agency[agency_id][2] += on_time
        return by_agency

    def _research_on_time(self, window):
        counts = self._research_counts(window).values()
        return ratio(sum(c[2] for c in counts), sum(c[0] for c in counts))

    def _research_table(self):
        counts = self._research_counts(self.period)
        rows = []
        for agency_id in sorted(counts, key=lambda a: self._agency(a).name):
            expected, returned, on_time = counts[agency_id]
            rows.append([plain(self._agency(agency_id).name), number(expected), number(on_time),
                         number(returned - on_time), number(max(expected - returned, 0)), ratio(on_time, expected)])
        return Table("research", "Research returned for the cases listed, by agency",
                     ["Agency", "Expected", "By the deadline", "Late", "Not returned", "By the deadline, %"], rows,
                     notes=["One return is expected from each agency on the register for each case listed at the "
                            "meeting. The deadline is the end of the working day before the meeting."])

    def _median_days(self, window):
        values = []
        for referred_on, heard_on, cases in self.l.first_hearings:
            if window.contains(heard_on) and referred_on is not None:
                values += [self.l.workdays(referred_on, heard_on)] * cases
        if len(values) < MIN_BASE:
            return plain(NO_PERCENTAGE)
        value = statistics.median(values)
        return plain(f"{value:g}", value)

    def _timeliness_table(self):
        now, before = self.period, self.previous
        minutes_days = self.l.settings.get("minutes_days")

        def on_time(window, attribute, deadline):
            meetings = self.meetings_in[window.key]
            done = sum(1 for m in meetings if getattr(m, attribute) is not None
                       and getattr(m, attribute) <= getattr(m, deadline))
            return plain(f"{done} of {len(meetings)}" + (f" ({format_percent(100 * done / len(meetings))})"
                                                          if meetings else ""), done)

        rows = [[plain("Referral to first hearing, median working days"), self._median_days(now),
                 self._median_days(before)],
                [plain("Agenda published by its deadline"), on_time(now, "agenda_published_on", "agenda_deadline"),
                 on_time(before, "agenda_published_on", "agenda_deadline")],
                [plain(f"Minutes finalised within {minutes_days} working days"),
                 on_time(now, "minutes_finalised_on", "minutes_deadline"),
                 on_time(before, "minutes_finalised_on", "minutes_deadline")],
                [plain("Research returned by the deadline"), self._research_on_time(now),
                 self._research_on_time(before)]]
        return Table("timeliness", "Timeliness", ["Measure", now.label, before.label], rows,
                     notes=["Working days leave out weekends and the bank holidays of England and Wales. The median "
                            f"is shown for {MIN_BASE} cases or more. Agenda deadline: the panel's lead time before "
                            "the meeting; minutes: the panel's working days after it."])

    # trend

    def _trend(self):
        rows, heard_bars, repeat_bars = [], [], []
        marac = self.kind == PanelKind.MARAC
        for quarter in self.quarters:
            attendance, engagement = self._attendance_rates(quarter)
            heard = self.cases("heard", quarter)
            row = [plain(quarter.label), number(self._meetings_held(quarter)), heard]
            if marac:
                repeat = self.share("repeat", quarter)
                row += [repeat, self.share("nonpolice", quarter)]
                repeat_bars.append((_short_quarter(quarter), repeat.value, repeat.text, False))
            row += [engagement, attendance, self._actions_on_time(quarter)]
            rows.append(row)
            heard_bars.append((_short_quarter(quarter), heard.value, heard.text, False))
        columns = (["Quarter", "Meetings held", "Cases heard"] + (["Repeat cases", "Referrals not from the police"]
                                                                  if marac else [])
                   + ["Core agency engagement", "Attendance of core agencies", "Actions completed on time"])
        table = Table("trend", "Each of the last eight quarters", columns, rows, notes=[NOTE_SUPPRESSION])
        charts = {"heard": _heard_chart(heard_bars, self.quarters,
                                        [self._meetings_held(q) for q in self.quarters])}
        if marac:
            charts["repeat"] = _repeat_chart(repeat_bars)
        return table, charts

    # the SafeLives return

    def _safelives_return(self, spec):
        meetings, measures, route_kinds = spec
        labels = {"heard": "Cases discussed", "repeat": "Repeat cases", "minoritised": "Racially minoritised victims",
                  "lgbt": "LGBT+ victims", "disabled": "Disabled victims", "male": "Male victims",
                  "aged_16_17": "Victims aged 16 or 17", "children": "Children in the households",
                  "young_perps": "Perpetrators aged 17 or under"}
        columns = (["Meeting date"] + [labels[m] for m in measures]
                   + [f"Referred by {AgencyKind.label_of(k)}" for k in route_kinds])
        rows = []
        for meeting in meetings:
            row = [plain(meeting.meets_on.isoformat(), meeting.meets_on)]
            row += [self.p.cell(self.key(m, meeting.key)) for m in measures]
            row += [self.p.cell(self.key(("route", k), meeting.key)) for k in route_kinds]
            rows.append(row)
        total = [plain(f"All meetings, {self.period.dates}")]
        total += [self.cases(m, self.period) for m in measures]
        total += [self.p.cell(self.key(("route", k), self.period)) for k in route_kinds]
        rows.append(total)
        return Table("safelives-return", "SafeLives MARAC data return, per meeting", columns, rows,
                     notes=["One row per MARAC meeting held in the period, then the period's totals. Each case "
                            "counts once, to the agency that referred it.", NOTE_SUPPRESSION])


NOTE_SUPPRESSION = ("Counts of people or cases from 1 to 4 show as \"fewer than 5\"; \"not shown\" marks a count hidden "
                    "so that a small one cannot be worked out from the totals; no percentage is given on fewer than "
                    f"{MIN_BASE} cases.")


def _short_quarter(quarter):
    return f"{MONTHS[quarter.start.month - 1][:3]}–{MONTHS[quarter.end.month - 1][:3]} {quarter.end.year}"


def _heard_chart(bars, quarters, held):
    """Cases heard each quarter; the title compares the first quarter with meetings and the last."""
    shown = [(quarter, value) for (label, value, _text, _h), quarter, meetings in zip(bars, quarters, held)
             if value is not None and meetings]
    if len(shown) >= 2 and shown[0][0] != shown[-1][0]:
        (first, a), (last, b) = shown[0], shown[-1]
        verb = "rose" if b > a else "fell" if b < a else "held"
        title = (f"Cases heard {verb} from {a:,} in {first.label} to {b:,} in {last.label}" if verb != "held"
                 else f"Cases heard held at {b:,} a quarter from {first.label} to {last.label}")
    else:
        title = "Cases heard each quarter"
    description = ("Cases heard in each of the last eight quarters, " + quarters[0].label + " to " + quarters[-1].label
                   + ": " + "; ".join(f"{label} {text}" for label, _v, text, _h in bars) + ".")
    return Chart("heard", title, description, bars, table="trend")


def _repeat_chart(bars):
    shown = [value for _label, value, _text, _h in bars if value is not None]
    if shown:
        above = sum(1 for v in shown if v > NATIONAL_REPEAT_RATE)
        title = (f"The repeat rate was above the national {NATIONAL_REPEAT_RATE:g}% in {above} of {len(shown)} "
                 "quarters shown")
    else:
        title = "Repeat rate each quarter"
    description = ("Repeat cases as a share of cases heard in each of the last eight quarters: "
                   + "; ".join(f"{label} {text}" for label, _v, text, _h in bars)
                   + f". The national rate is {NATIONAL_REPEAT_RATE:g}% ({SAFELIVES_SOURCE}).")
    return Chart("repeat", title, description, bars, unit="%",
                 reference=(NATIONAL_REPEAT_RATE, f"National {NATIONAL_REPEAT_RATE:g}%"), table="trend")


def workday_counter(start, end):
    """A function (a, b) -> working days after a up to and including b (core.workdays), each answer a
    lookup in running totals built once for the dates from start to end."""
    running, total, day = {}, 0, start
    while day <= end:
        if is_working_day(day):
            total += 1
        running[day] = total
        day += dt.timedelta(days=1)

    def between(a, b):
        if a in running and b in running:
            return running[b] - running[a]
        return working_days_between(a, b)

    return between
