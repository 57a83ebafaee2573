"""The disclosure-control rule (marac/stats/suppression.py): counts of people from 1 to 4 never show,
and no suppressed count can be worked out from the totals of its table, by subtraction, by combining
rows and columns, or from the range a "fewer than 5" label gives away.

The property tests check the rule against an independent, exact oracle: for a two-way table with
row, column and grand totals, a suppressed cell is safe exactly when some other table that agrees
with everything shown (every shown cell and total, "fewer than 5" meaning 1 to 4, "not shown" any
count) gives it another value. In a two-way table any such other table differs from the real one by
a sum of alternating cycles, so the oracle looks for one cycle through the cell (a path search)."""
import itertools

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from marac.panels.models import PanelKind
from marac.stats.suppression import FEWER_THAN_5, NOT_SHOWN, CellStatus, Disclosure, format_percent, is_small

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Small counts are the interesting ones: mostly 0 to 6, sometimes larger.
COUNTS = st.one_of(st.integers(0, 6), st.integers(0, 6), st.integers(0, 30))


# --- a two-way table with margins, and the exact oracle --------------------------------------

def two_way(cells):
    """A Disclosure of a table with row totals, column totals and a grand total (keys ("c", i, j),
    ("r", i), ("k", j), ("g",)); returns (disclosure, extended grid of keys)."""
    rows, cols = len(cells), len(cells[0])
    d = Disclosure()
    for i, j in itertools.product(range(rows), range(cols)):
        d.add(("c", i, j), cells[i][j])
    for i in range(rows):
        d.add(("r", i), sum(cells[i]))
    for j in range(cols):
        d.add(("k", j), sum(cells[i][j] for i in range(rows)))
    d.add(("g",), sum(map(sum, cells)))
    for i in range(rows):
        d.line([("c", i, j) for j in range(cols)], ("r", i))
    for j in range(cols):
        d.line([("c", i, j) for i in range(rows)], ("k", j))
    d.line([("r", i) for i in range(rows)], ("g",))
    d.line([("k", j) for j in range(cols)], ("g",))
    grid = [[("c", i, j) for j in range(cols)] + [("r", i)] for i in range(rows)]
    grid.append([("k", j) for j in range(cols)] + [("g",)])
    return d, grid


def can_change(grid, values, status, target):
    """Whether another table agreeing with all that is shown gives `target` another value."""
    rows, cols = len(grid), len(grid[0])
    # In the extended grid the totals carry sign -1 (the grand total +1): every row and every column
    # then sums to zero, and any other agreeing table differs by alternating +1/-1 cycles.
    sign = {grid[i][j]: (-1 if (i == rows - 1) != (j == cols - 1) else 1)
            for i in range(rows) for j in range(cols)}

    def fits(key, change):
        value = values[key] + change
        if status[key] == CellStatus.PRIMARY:
            return 1 <= value <= 4
        return value >= 0

    where = {grid[i][j]: (i, j) for i in range(rows) for j in range(cols)}
    unknown = [key for key in where if status[key] != CellStatus.SHOWN and key != target]

    def reachable(start, goal):
        # nodes ("R", i) and ("C", j); a cell is an arc R->C when it may go up by one (in y), C->R down
        arcs = {}
        for key in unknown:
            i, j = where[key]
            if fits(key, sign[key]):
                arcs.setdefault(("R", i), []).append(("C", j))
            if fits(key, -sign[key]):
                arcs.setdefault(("C", j), []).append(("R", i))
        seen, frontier = {start}, [start]
        while frontier:
            node = frontier.pop()
            if node == goal:
                return True
            for nxt in arcs.get(node, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        return False

    i, j = where[target]
    up = fits(target, sign[target]) and reachable(("C", j), ("R", i))
    down = fits(target, -sign[target]) and reachable(("R", i), ("C", j))
    return up or down


def exposed_cells(grid, protection):
    """The suppressed cells (totals included) whose value the shown figures fix."""
    keys = [key for row in grid for key in row]
    return [key for key in keys if protection.status[key] != CellStatus.SHOWN
            and not can_change(grid, protection.values, protection.status, key)]


tables = st.integers(1, 4).flatmap(lambda rows: st.integers(1, 4).flatmap(
    lambda cols: st.lists(st.lists(COUNTS, min_size=cols, max_size=cols), min_size=rows, max_size=rows)))


@SETTINGS
@given(tables)
@example([[1, 5], [5, 1]])
@example([[1, 1, 1, 1, 1]])
@example([[4, 4, 0]])
@example([[2, 9, 0, 0], [0, 0, 9, 2], [9, 2, 0, 0], [0, 0, 2, 9]])
def test_no_count_under_5_is_shown(cells):
    """A count from 1 to 4 shows as "fewer than 5" (or, where even that range would give it away,
    "not shown"); never as its number."""
    d, grid = two_way(cells)
    protection = d.protect()
    for key, value in protection.values.items():
        if is_small(value):
            assert not protection.shown(key)
            assert protection.text(key) in (FEWER_THAN_5, NOT_SHOWN)


@SETTINGS
@given(tables)
@example([[1, 5], [5, 1]])
@example([[1, 1, 1, 1, 1]])
@example([[4, 4, 0]])
@example([[3, 9], [9, 9]])
@example([[2, 9, 0, 0], [0, 0, 9, 2], [9, 2, 0, 0], [0, 0, 2, 9]])
def test_no_suppressed_cell_can_be_worked_out_from_the_totals(cells):
    d, grid = two_way(cells)
    protection = d.protect()
    assert exposed_cells(grid, protection) == []


def test_the_oracle_finds_what_subtraction_and_ranges_give_away():
    """The oracle is strict enough: it catches a lone suppressed cell in a row, two "fewer than 5"
    that must both be 1, and a bridge between two blocks of suppressed cells."""
    d, grid = two_way([[3, 9], [9, 9]])
    status = {key: CellStatus.SHOWN for key in d.values}
    status[("c", 0, 0)] = CellStatus.PRIMARY
    assert not can_change(grid, d.values, status, ("c", 0, 0))  # 12 - 9
    d, grid = two_way([[1, 1, 7]])
    status = {key: CellStatus.SHOWN for key in d.values}
    status[("c", 0, 0)] = status[("c", 0, 1)] = CellStatus.PRIMARY
    assert not can_change(grid, d.values, status, ("c", 0, 0))  # two of "fewer than 5" adding to 2
    status[("k", 0)] = status[("k", 1)] = CellStatus.PRIMARY
    assert not can_change(grid, d.values, status, ("c", 0, 0))  # the column totals are the cells
    status[("c", 0, 2)] = status[("r", 0)] = status[("k", 2)] = CellStatus.SECONDARY
    assert can_change(grid, d.values, status, ("c", 0, 0))


def test_a_suppressed_cell_between_two_blocks_is_protected_too():
    """Each row and column around the middle cell may have two unknowns, yet adding rows 0-1 and
    subtracting columns 0-1 would give the middle cell: the rule looks at all lines together."""
    cells = [[2, 2, 8, 8], [2, 2, 2, 8], [8, 8, 2, 2], [8, 8, 2, 2]]
    d, grid = two_way(cells)
    protection = d.protect()
    assert exposed_cells(grid, protection) == []
    assert protection.text(("c", 1, 2)) == FEWER_THAN_5


def test_secondary_suppression_hides_the_smallest_count_of_5_or_more():
    d, _grid = two_way([[3, 7, 12]])
    protection = d.protect()
    assert protection.text(("c", 0, 0)) == FEWER_THAN_5
    assert protection.text(("c", 0, 1)) == NOT_SHOWN
    assert protection.text(("c", 0, 2)) == "12"
    assert protection.text(("r", 0)) == "22"


def test_zero_is_shown_and_is_not_a_small_count():
    d, _grid = two_way([[0, 7, 12]])
    protection = d.protect()
    assert [protection.text(("c", 0, j)) for j in range(3)] == ["0", "7", "12"]


# --- a breakdown of one total, with the hidden rest ----------------------------------------------

def brute_force_values(d, protection, key, limit):
    """The values (up to two) `key` can take in assignments of the unknown counts (each 0..limit,
    1..4 when "fewer than 5") that satisfy every line: a small generic oracle, by backtracking."""
    unknown = [k for k in d.values if protection.status[k] != CellStatus.SHOWN]
    ranges = {k: range(1, 5) if protection.status[k] == CellStatus.PRIMARY else range(0, limit + 1)
              for k in unknown}
    values = {k: v for k, v in protection.values.items() if k not in ranges}
    found = set()

    def consistent():
        for parts, total in d.lines:
            if all(k in values for k in (*parts, total)) and sum(values[p] for p in parts) != values[total]:
                return False
        return True

    def search(index):
        if len(found) > 1:
            return
        if index == len(unknown):
            found.add(values[key])
            return
        for value in ranges[unknown[index]]:
            values[unknown[index]] = value
            if consistent():
                search(index + 1)
            del values[unknown[index]]

    search(0)
    return found


breakdowns = st.tuples(st.lists(st.integers(0, 9), min_size=1, max_size=3), st.integers(0, 12))


@settings(max_examples=200, deadline=None)
@given(breakdowns)
@example(([3, 9], 11))
@example(([1, 7], 1))
@example(([6], 5))
def test_a_breakdown_and_its_hidden_rest(case):
    """Referral routes adding up to cases heard, and an attribute (disabled victims) whose rest (cases
    heard minus them) is never shown but must not be worked out either when it is 1 to 4."""
    parts, attribute = case
    total = sum(parts)
    attribute = min(attribute, total)
    d = Disclosure()
    keys = [d.add(("part", n), value) for n, value in enumerate(parts)]
    d.add("total", total)
    d.line(keys, "total")
    d.add("attribute", attribute)
    d.complement("attribute", "total", "rest")
    protection = d.protect()
    for key, value in protection.values.items():
        if protection.shown(key):
            assert not is_small(value), key
    limit = total + 1
    for key in protection.values:
        if protection.status[key] in (CellStatus.PRIMARY, CellStatus.SECONDARY) or (
                protection.status[key] == CellStatus.HIDDEN and is_small(protection.values[key])):
            assert len(brute_force_values(d, protection, key, limit)) > 1, (key, protection.status)


def test_the_hidden_rest_is_protected_when_it_is_small():
    """49 of 52 victims male: the other 3 would follow from the total, so the 49 is not shown."""
    d = Disclosure()
    d.add("heard", 52)
    d.add("male", 49)
    d.complement("male", "heard", "not male")
    protection = d.protect()
    assert protection.text("heard") == "52"
    assert protection.text("male") == NOT_SHOWN
    with pytest.raises(ValueError):
        protection.text("not male")


# --- percentages ---------------------------------------------------------------------------------

def test_no_percentage_on_a_base_under_10_or_of_a_suppressed_count():
    d = Disclosure()
    for key, value in (("base9", 9), ("part9", 5), ("base40", 40), ("part40", 12), ("small", 3)):
        d.add(key, value)
    protection = d.protect()
    assert protection.percent("part9", "base9").text == "–"
    assert protection.percent("part40", "base40").text == "30%"
    assert protection.percent("small", "base40").text == "–"
    assert format_percent(36.14, 1) == "36.1%"


def test_counts_that_are_not_about_people_are_shown():
    d = Disclosure()
    d.add("meetings", 3, people=False)
    assert d.protect().text("meetings") == "3"


# --- the rule applied to a page's figures and its files ------------------------------------------

def random_loaded(draw):
    """A MARAC panel's per-meeting counts for April to June 2025 (and a meeting in the quarter before),
    small numbers likely: what services.load would read."""
    import datetime as dt

    from marac.agencies.models import AgencyKind
    from marac.stats import figures

    kinds = [AgencyKind.POLICE, AgencyKind.IDVA, AgencyKind.CHILDRENS_SOCIAL_CARE, AgencyKind.HEALTH]
    meetings, hearings, routes = [], {}, {}
    days = [dt.date(2025, 3, 18)] + [dt.date(2025, 4, 1) + dt.timedelta(days=14 * n)
                                     for n in range(draw(st.integers(1, 6)))]
    for n, day in enumerate(days):
        meeting = figures.MeetingFacts(id=f"m{n}", meets_on=day, agenda_deadline=day, agenda_published_on=day,
                                       minutes_deadline=day, minutes_finalised_on=day)
        meetings.append(meeting)
        heard = draw(st.integers(0, 14))
        split = [draw(st.integers(0, heard)) for _ in kinds[1:]]
        parts, left = {}, heard
        for kind, share in zip(kinds[1:], split):
            parts[kind] = min(share, left)
            left -= parts[kind]
        parts[AgencyKind.POLICE] = left
        routes[meeting.id] = parts
        hearings[meeting.id] = {"heard": heard, **{name: draw(st.integers(0, heard)) for name in
                                                   ("repeat", "minoritised", "lgbt", "disabled", "male", "aged_16_17")},
                                "children": draw(st.integers(0, 8)), "young_perps": draw(st.integers(0, 3))}
    return loaded_of(meetings, hearings, routes)


def assert_no_small_people_cell(table):
    for row in table.rows:
        for cell in row:
            if cell.people:
                assert cell.text not in ("1", "2", "3", "4"), (table.key, row[0].text, cell.text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_count_from_1_to_4_reaches_the_page_csv_or_xlsx_and_no_table_gives_one_away(data):
    """Random per-meeting counts through the real figures: no people count from 1 to 4 in any table
    of the page, the SafeLives return, or their CSV and XLSX files; and in each family of the return
    (meetings by repeat or not, with each meeting's cases and the period's totals) no suppressed count
    can be worked out from the row and column totals."""
    check_page_figures(random_loaded(data.draw))


def test_a_meeting_where_every_victim_is_male_gives_nothing_away():
    """Found by the property test: 5 of 5 victims male at one meeting, 1 of 1 at the next (disabled
    too). That the rest is 0 everywhere ties each meeting's men to its cases."""
    check_page_figures(fixed_loaded([{"heard": 0}, {"heard": 5, "male": 5}, {"heard": 1, "male": 1, "disabled": 1}]))


def fixed_loaded(meetings):
    """A Loaded of these per-meeting counts (all referred by the police), the first in March 2025."""
    import datetime as dt

    from marac.agencies.models import AgencyKind
    from marac.stats import figures

    days = [dt.date(2025, 3, 18)] + [dt.date(2025, 4, 1) + dt.timedelta(days=14 * n) for n in range(len(meetings) - 1)]
    facts, hearings, routes = [], {}, {}
    names = ("repeat", "minoritised", "lgbt", "disabled", "male", "aged_16_17", "children", "young_perps")
    for n, (day, counts) in enumerate(zip(days, meetings)):
        facts.append(figures.MeetingFacts(id=f"m{n}", meets_on=day, agenda_deadline=day, agenda_published_on=day,
                                          minutes_deadline=day, minutes_finalised_on=day))
        hearings[f"m{n}"] = {"heard": counts["heard"], **{name: counts.get(name, 0) for name in names}}
        routes[f"m{n}"] = {AgencyKind.POLICE: counts["heard"]}
    return loaded_of(facts, hearings, routes)


def loaded_of(meetings, hearings, routes):
    import datetime as dt

    from marac.stats import figures

    return figures.Loaded(panel_kind=PanelKind.MARAC, today=dt.date(2026, 1, 1),
                          settings={"women_16_plus": 50_000, "attendance_threshold": 80, "minutes_days": 3},
                          meetings=meetings, agencies={}, members={}, attendance={}, attendees={}, hearings=hearings,
                          routes=routes, categories={}, links={}, responses=[], actions={}, research={}, items={},
                          first_hearings=[], workdays=figures.workday_counter(dt.date(2024, 1, 1),
                                                                              dt.date(2026, 1, 1)))


def check_page_figures(loaded):
    """No count from 1 to 4 in any table or file of the page; no family of the return gives one away."""
    import csv as csv_module
    import io
    from types import SimpleNamespace

    import openpyxl

    from marac.stats import exports, figures

    quarter = figures.quarter_of(loaded.meetings[-1].meets_on)
    found = figures.build(loaded, quarter, figures.previous_period(quarter), figures.trend_quarters(quarter),
                          with_return=True)
    panel = SimpleNamespace(name="Invented MARAC", kind=PanelKind.MARAC)
    tables = list(found.tables.values()) + [found.safelives_return]
    for table in tables:
        assert_no_small_people_cell(table)
        rows = list(csv_module.reader(io.StringIO(exports.csv_bytes(panel, found, table).decode())))
        start = rows.index(table.columns) + 1
        for written, row in zip(rows[start:], table.rows):
            assert [t for t, c in zip(written, row) if c.people and t in ("1", "2", "3", "4")] == []
        sheet = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes(panel, found, [table]))).active
        for n, row in enumerate(table.rows):
            for m, cell in enumerate(row):
                if cell.people:
                    assert sheet.cell(row=6 + n, column=m + 1).value not in (1, 2, 3, 4)
    protection = found.protection
    meetings = [m for m in loaded.meetings if quarter.contains(m.meets_on)]
    for measure in ("repeat", "male", "disabled"):
        grid = [[(measure, m.key), (("not", measure), m.key), ("heard", m.key)] for m in meetings]
        grid.append([(measure, quarter.key), (("not", measure), quarter.key), ("heard", quarter.key)])
        exposed = [k for k in exposed_cells(grid, protection)
                   if protection.status[k] != CellStatus.HIDDEN or is_small(protection.values[k])]
        assert exposed == [], (measure, exposed)
