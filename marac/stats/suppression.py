"""Small-number suppression: the one disclosure-control rule of the steering group's statistics.

Every count of people or cases that a page or an export shows goes through a `Disclosure`:

* **primary**: a count from 1 to 4 shows as "fewer than 5" (FEWER_THAN_5); 0 shows as 0;
* **secondary**: further counts are hidden ("not shown", NOT_SHOWN) until no suppressed count can be
  worked out from the totals the figures add up to: neither by subtraction along one line (a row or
  column total and its other cells), nor by combining several lines, nor from the range a
  "fewer than 5" label gives away (five cells of "fewer than 5" adding up to 5 are each 1). The
  test of a count is constructive: another set of values must exist that agrees with everything
  shown and gives the count another value. Counts that are never shown but follow from others
  (the victims who are *not* disabled: cases heard minus disabled) are `hidden`: if such a count is
  from 1 to 4 it is protected like a shown one. Where even "fewer than 5" would give a count away
  (every cell of a small table is suppressed), the count shows as "not shown" instead;
* **percentages** and other statistics are shown only on a base of at least MIN_BASE (10), and only
  when the counts they are made from are shown (a percentage of a shown base gives its count away).

Counts of meetings, attendance, actions and research returns are not counts of people and are
shown as they are (the issue's rule); they never enter a Disclosure.

What is protected is one page and its exports: the figures of one period, its previous period and
trend, and the per-meeting return of that period, with every relation between them that the page
states. (Two pages of different periods can still be compared; see the README.)

The attacker assumed: knows every shown figure and every total, that a "fewer than 5" cell is from
1 to 4, and that a "not shown" cell is a count (0 or more).
"""
import dataclasses
import logging
from collections import defaultdict

from marac.core.enums import Labelled

log = logging.getLogger("marac.stats")

THRESHOLD = 5  # counts of people from 1 to THRESHOLD - 1 are suppressed
MIN_BASE = 10  # no percentage (or median) on a base under this
FEWER_THAN_5 = "fewer than 5"
NOT_SHOWN = "not shown"
NO_PERCENTAGE = "–"
SEARCH_LIMIT = 3_000  # steps of the search for another possible value of one count
TRIAL_LIMIT = 500  # the same, when trying which count to suppress
TRIAL_LINES = 6  # lines near a count whose counts are tried when protecting it


class CellStatus(Labelled):
    """What the disclosure rule did with a count."""

    SHOWN = "shown", "Shown"
    PRIMARY = "primary", "Fewer than 5"
    SECONDARY = "secondary", "Not shown, so that a number under 5 cannot be worked out"
    HIDDEN = "hidden", "Never shown (follows from other figures)"


def is_small(value):
    """Whether a count of people is one the rule suppresses (1 to 4)."""
    return value is not None and 0 < value < THRESHOLD


class Disclosure:
    """The counts one page shows, the lines they add up along, and the rule applied to them.

    add(key, value) registers a count (people=False for counts that are not about people, which
    are never suppressed); line(parts, total) says that the parts add up to the total; hidden
    counts are implied but never shown. protect() applies the rule once and returns a Protection."""

    def __init__(self):
        self.values = {}
        self.people = set()
        self.hidden = set()
        self.lines = []
        self._order = {}

    def add(self, key, value, people=True, hidden=False):
        """Register a count under a key (any hashable). Registering a key twice keeps the first value."""
        if key in self.values:
            return key
        if value is None or value < 0 or int(value) != value:
            raise ValueError("a count is a whole number, 0 or more")
        self.values[key] = int(value)
        self._order[key] = len(self._order)
        if people:
            self.people.add(key)
        if hidden:
            self.hidden.add(key)
        return key

    def line(self, parts, total):
        """The parts (registered keys) add up to the total (a registered key)."""
        parts = tuple(parts)
        missing = [k for k in (*parts, total) if k not in self.values]
        if missing:
            raise KeyError(f"unregistered counts in a line: {missing[:3]}")
        if parts:
            self.lines.append((parts, total))

    def complement(self, part, total, key):
        """Register the hidden count `total - part` under `key`, and the line part + key = total."""
        self.add(key, self.values[total] - self.values[part], people=part in self.people, hidden=True)
        self.line((part, key), total)
        return key

    def protect(self, frozen=None):
        """Apply primary and secondary suppression; returns the Protection of every count. `frozen`
        ({key: CellStatus}) fixes the counts another page shows already (the period's figures, when
        the per-meeting return is protected): only the other counts may be suppressed to protect them."""
        return _Protector(self, dict(frozen or {})).run()


@dataclasses.dataclass
class Protection:
    """The outcome of the rule: each count's status, and how it is written."""

    values: dict
    status: dict

    def shown(self, key):
        """Whether the count is shown as a number."""
        return self.status[key] == CellStatus.SHOWN

    def value(self, key):
        """The count when shown, else None (for charts and percentages)."""
        return self.values[key] if self.shown(key) else None

    def text(self, key):
        """The count as every page and export writes it."""
        status = self.status[key]
        if status == CellStatus.HIDDEN:
            raise ValueError("a hidden count is never written")
        if status == CellStatus.PRIMARY:
            return FEWER_THAN_5
        if status == CellStatus.SECONDARY:
            return NOT_SHOWN
        return f"{self.values[key]:,}"

    def cell(self, key):
        """The count as a Cell."""
        return Cell(self.text(key), self.value(key), people=True, status=self.status[key])

    def percent(self, part, base, places=0):
        """part ÷ base as a percentage Cell, written only when both counts are shown and the base is
        at least MIN_BASE."""
        if not (self.shown(part) and self.shown(base)) or self.values[base] < MIN_BASE:
            return Cell(NO_PERCENTAGE, None)
        value = 100 * self.values[part] / self.values[base]
        return Cell(format_percent(value, places), value)


def format_percent(value, places=0):
    """A percentage as pages write it: 31%, 36.1%."""
    return f"{value:.{places}f}%"


@dataclasses.dataclass
class Cell:
    """One cell of a statistics table as pages and exports write it: `text`; `value` the number
    behind it when it may be used (charts), else None; `people` when it counts people or cases."""

    text: str
    value: object = None
    people: bool = False
    status: str = CellStatus.SHOWN
    flag: str | None = None  # a short warning shown beside the value (e.g. "Below 80%")
    short: str | None = None  # a code pages show in a crowded grid, with `text` for screen readers

    @property
    def is_number(self):
        """Whether the cell holds a shown number (aligned right on pages)."""
        return self.value is not None


def plain(text, value=None, flag=None):
    """A cell that is not a count of people (a label, a count of meetings or actions, a rate)."""
    return Cell(str(text), value, flag=flag)


def number(value, flag=None):
    """A count that is not about people (meetings, attendance, actions), shown as it is."""
    return Cell(f"{value:,}", value, flag=flag)


def ratio(part, base, places=0):
    """part ÷ base as a percentage Cell for figures that are not about people (attendance, actions);
    "–" on a zero base."""
    if not base:
        return Cell(NO_PERCENTAGE, None)
    value = 100 * part / base
    return Cell(format_percent(value, places), value)


@dataclasses.dataclass
class Table:
    """A table of a statistics page, and of its CSV, XLSX and PDF: `columns` are the headings, each
    row a list of Cells (the first one the row's label). `notes` say how to read it."""

    key: str
    title: str
    columns: list
    rows: list
    notes: list = dataclasses.field(default_factory=list)
    caption: str | None = None

    @property
    def numeric(self):
        """The indexes of the columns that hold numbers (aligned right)."""
        return {index for row in self.rows for index, cell in enumerate(row)
                if index and (cell.people or cell.value is not None or cell.text == NO_PERCENTAGE)}

    @property
    def wide(self):
        """Whether the table has many columns (pages set it in smaller type)."""
        return len(self.columns) > 6

    def people_cells(self):
        """Every cell that counts people or cases (for checks that none shows 1 to 4)."""
        return [cell for row in self.rows for cell in row if cell.people]


# --- the rule --------------------------------------------------------------------------------

class _Statuses(dict):
    """The statuses, counting changes (what the search caches depends on them)."""

    def __init__(self, owner):
        super().__init__()
        self.owner = owner

    def __setitem__(self, key, value):
        if self.get(key) != value:
            self.owner._version = getattr(self.owner, "_version", 0) + 1
        super().__setitem__(key, value)


class _Protector:
    """Primary suppression, then secondary suppression until no suppressed count is determined."""

    def __init__(self, disclosure, frozen):
        self.d = disclosure
        self.frozen = frozen
        self.values = disclosure.values
        self.lines = [(parts, total, self._coefficients(parts, total)) for parts, total in disclosure.lines]
        self.lines_of = defaultdict(list)
        for index, (_parts, _total, coefficients) in enumerate(self.lines):
            for key in coefficients:
                self.lines_of[key].append(index)
        self.given_up = set()
        self.status = _Statuses(self)
        self._version = 0
        self._unknowns_cache = {}
        for key, value in self.values.items():
            if key in frozen:
                self.status[key] = frozen[key]
            elif key in disclosure.hidden:
                self.status[key] = CellStatus.HIDDEN
            elif key in disclosure.people and is_small(value):
                self.status[key] = CellStatus.PRIMARY
            else:
                self.status[key] = CellStatus.SHOWN

    @staticmethod
    def _coefficients(parts, total):
        coefficients = defaultdict(int)
        for key in parts:
            coefficients[key] += 1
        coefficients[total] -= 1
        return {key: c for key, c in coefficients.items() if c}

    def unknown(self, key):
        return self.status[key] != CellStatus.SHOWN

    def sensitive(self, key):
        """A count that must not be worked out: every suppressed one, and a hidden one from 1 to 4."""
        status = self.status[key]
        if status in (CellStatus.PRIMARY, CellStatus.SECONDARY):
            return True
        return status == CellStatus.HIDDEN and key in self.d.people and is_small(self.values[key])

    def bounds(self, key):
        """What a reader knows of an unknown count: (low, high), high None for no limit."""
        if self.status[key] == CellStatus.PRIMARY:
            return 1, THRESHOLD - 1
        return 0, None

    def run(self):
        pending = list(range(len(self.lines)))
        safe = set()  # counts shown to have another possible value (more suppression keeps them so)
        while True:
            self._local(pending)
            pinned = self._pinned_by_ranges()
            exposed = []
            for key in self.values:
                if not self.sensitive(key) or key in safe or key in self.given_up:
                    continue
                if key not in pinned and self._can_change(key):
                    safe.add(key)
                else:
                    exposed.append(key)
            if not exposed:
                return Protection(dict(self.values), {k: CellStatus(v) for k, v in self.status.items()})
            pending, touched = [], set()
            for key in exposed:
                if touched & set(self.lines_of[key]):
                    continue  # a count was suppressed beside it this round: look again first
                chosen = self._fix(key, key in pinned)
                if chosen is None:
                    continue  # what was suppressed for another count this round protects it too
                pending.extend(self.lines_of[chosen])
                touched |= set(self.lines_of[chosen])

    def _fix(self, key, pinned):
        """Protect a count some other values would not change: suppress a count near it (the first
        that lets it change), or, when "fewer than 5" labels pin it (four cells of "fewer than 5"
        under a total of "fewer than 5" are each 1), show one of them as "not shown" instead. Returns
        the count whose status changed, or None if it needs no more."""
        if key not in pinned_now(self) and self._can_change(key, TRIAL_LIMIT):
            return None
        candidates = []
        for index in self._reach(key)[:TRIAL_LINES]:
            candidates += [c for c in self._options(index) if c not in candidates]
        widen = self._widen_options(key)
        trials = widen + candidates if pinned else candidates + widen
        for chosen in trials:
            before = self.status[chosen]
            self.status[chosen] = CellStatus.SECONDARY
            if self._can_change(key, TRIAL_LIMIT):
                return chosen
            self.status[chosen] = before
        if trials:
            chosen = trials[0]
            self.status[chosen] = CellStatus.SECONDARY
            return chosen
        # Nothing near it is left to suppress one at a time: say "not shown" for every count that
        # may change around it (with its neighbours all unknown, a count can always change).
        around = [k for index in self._reach(key) for k in self.lines[index][2]
                  if k not in self.frozen and self.status[k] in (CellStatus.SHOWN, CellStatus.PRIMARY)]
        if not around:
            if key in pinned_now(self) and not is_small(self.values[key]):
                # What is shown already fixes it (a zero under a total of zero): hiding it hides nothing.
                self.status[key] = CellStatus.SHOWN
                self.frozen[key] = CellStatus.SHOWN  # and it stays shown
                return key
            # Every count around it is hidden already and the search found no other value for it
            # within its limit: it stays hidden, and the search stops looking (the page still loads).
            log.warning("statistics: a suppressed count could not be shown to be protected")
            self.given_up.add(key)
            return None
        for other in around:
            self.status[other] = CellStatus.SECONDARY
        return around[0]

    # one line at a time: subtraction and the ranges the labels give away

    def _local(self, pending):
        queue = list(dict.fromkeys(pending))
        queued = set(queue)
        while queue:
            index = queue.pop()
            queued.discard(index)
            if self._line_exposes(index):
                chosen = self._candidate(index)
                if chosen is None:
                    continue  # nothing shown is left in the line: its unknowns are protected elsewhere
                added = []
                self._suppress(chosen, added)
                for other in added:
                    if other not in queued:
                        queue.append(other)
                        queued.add(other)
                if index not in queued:
                    queue.append(index)
                    queued.add(index)

    def _line_exposes(self, index):
        coefficients = self.lines[index][2]
        unknown = [(key, c) for key, c in coefficients.items() if self.unknown(key)]
        if not any(self.sensitive(key) for key, _ in unknown):
            return False
        if len(unknown) == 1:
            return True
        known_sum = sum(c * self.values[key] for key, c in unknown)  # what the reader computes
        for key, c in unknown:
            if self.sensitive(key) and _pinned(key, c, unknown, known_sum, self.bounds):
                return True
        return False

    def _options(self, index):
        """The counts of a line one could suppress, in order: its smallest shown part of 5 or more, a
        shown zero part, its total if shown."""
        parts, total, _coefficients = self.lines[index]
        shown = [key for key in dict.fromkeys(parts) if not self.unknown(key) and key not in self.frozen]
        large = sorted((k for k in shown if self.values[k] >= THRESHOLD),
                       key=lambda k: (self.values[k], self.d._order[k]))
        zeros = [k for k in shown if self.values[k] == 0]
        return large[:1] + zeros[:1] + ([total] if not self.unknown(total) and total not in self.frozen else [])

    def _candidate(self, index):
        """The count to suppress next in a line: the first of its options that protects the line on
        its own; failing that, the first option. In a line whose "fewer than 5" labels pin its counts
        (five of them adding up to 5), saying "not shown" for one of them comes first: it costs less
        than hiding the line's total."""
        options = self._options(index)
        unknown = [k for k in self.lines[index][2] if self.unknown(k)]
        if len(unknown) > 1:
            widen = sorted((k for k in self.lines[index][0]
                            if self.status[k] == CellStatus.PRIMARY and k not in self.frozen),
                           key=lambda k: (-self.values[k], self.d._order[k]))
            options = widen[:1] + options
        for option in options:
            self.status[option], before = CellStatus.SECONDARY, self.status[option]
            still = self._line_exposes(index)
            self.status[option] = before
            if not still:
                return option
        return options[0] if options else None

    def _reach(self, key):
        """The lines reached from a count through unknown counts, nearest first."""
        seen_lines, frontier, seen_keys, order = set(), [key], {key}, []
        while frontier:
            next_frontier = []
            for current in frontier:
                for index in self.lines_of[current]:
                    if index in seen_lines:
                        continue
                    seen_lines.add(index)
                    order.append(index)
                    for other in self.lines[index][2]:
                        if other not in seen_keys and self.unknown(other):
                            seen_keys.add(other)
                            next_frontier.append(other)
            frontier = next_frontier
        return order

    def _widen_options(self, key):
        """The "fewer than 5" counts near `key` that could show as "not shown" instead: totals first,
        the largest first."""
        totals = {line[1] for line in self.lines}
        found = [key] if self.status[key] == CellStatus.PRIMARY and key not in self.frozen else []
        for index in self._reach(key)[:TRIAL_LINES]:
            found += [k for k in self.lines[index][2]
                      if self.status[k] == CellStatus.PRIMARY and k not in found and k not in self.frozen]
        return sorted(found, key=lambda k: (k not in totals, -self.values[k], self.d._order[k]))

    def _suppress(self, key, pending):
        self.status[key] = CellStatus.SECONDARY
        pending.extend(self.lines_of[key])

    # every line together: can the count take another value?

    def _pinned_by_ranges(self):
        """The unknown counts left a single value by the ranges of the others, narrowed line by line
        until nothing changes (five "fewer than 5" adding up to 5; a total of "fewer than 5" over
        four cells of "fewer than 5"). A quick first test: the search below is the thorough one."""
        ranges = {key: self.bounds(key) for key in self.values if self.unknown(key)}
        queue = [i for i, line in enumerate(self.lines) if any(k in ranges for k in line[2])]
        queued = set(queue)
        steps = 0
        while queue and steps < 50 * (len(self.lines) + 1):
            steps += 1
            index = queue.pop()
            queued.discard(index)
            unknown = [(key, c) for key, c in self.lines[index][2].items() if key in ranges]
            known_sum = sum(c * self.values[key] for key, c in unknown)
            for key, c in unknown:
                low, high = _range_of(key, c, unknown, known_sum, ranges.__getitem__)
                old_low, old_high = ranges[key]
                if low > old_low or (high is not None and (old_high is None or high < old_high)):
                    ranges[key] = (max(low, old_low), high if old_high is None else min(high, old_high))
                    for other in self.lines_of[key]:
                        if other not in queued:
                            queue.append(other)
                            queued.add(other)
        return {key for key, (low, high) in ranges.items() if high is not None and low >= high}

    def _fits(self, key, change):
        low, high = self.bounds(key)
        value = self.values[key] + change
        return value >= low and (high is None or value <= high)

    def _can_change(self, key, limit=None):
        """Whether some other set of values for the unknown counts agrees with everything shown (every
        line's sum, every label's range) and gives `key` another value. Searches for a change of one
        up or down in `key`, balanced line by line by changes of one in other unknown counts (in a
        two-way table these are the alternating cycles, and the search is exact). A search that runs
        past SEARCH_LIMIT steps counts as "no": the rule then suppresses more, never less."""
        limit = limit or SEARCH_LIMIT
        return any(self._fits(key, step) and self._balance({key: step}, limit) for step in (1, -1))

    def _balance(self, change, limit):
        """Depth-first search for changes of one in other unknown counts that balance every line after
        `change`. A line left out of balance by the same amount once and found impossible to balance
        is not tried again in this search (as in a path search, it would fail again)."""
        imbalance = defaultdict(int)
        for key, step in change.items():
            for index in self.lines_of[key]:
                imbalance[index] += self.lines[index][2][key] * step
                if not imbalance[index]:
                    del imbalance[index]
        steps, dead = 0, set()

        def open_line():
            """The unbalanced line with the fewest counts left to balance it, and those counts, the
            ones that also settle another unbalanced line first."""
            best = None
            for index, need in imbalance.items():
                candidates = [k for k in self._line_unknowns(index) if k not in change]
                if best is None or len(candidates) < len(best[2]):
                    best = [index, need, candidates, None]
            if best is None:
                return None
            index, need = best[0], best[1]

            def gain(key):
                step = -(1 if need > 0 else -1) * self.lines[index][2][key]
                settles = 0
                for other in self.lines_of[key]:
                    if other != index:
                        after = imbalance.get(other, 0) + self.lines[other][2][key] * step
                        settles += 1 if abs(after) < abs(imbalance.get(other, 0)) else -1
                return -settles

            best[2].sort(key=gain)
            return best

        frame = open_line()
        if frame is None:
            return True
        stack = [frame]
        while stack:
            frame = stack[-1]
            index, need, candidates, done = frame
            if done is not None:  # undo the change tried at this level
                self._apply(imbalance, done, -change.pop(done))
                frame[3] = None
            advanced = False
            while candidates:
                key = candidates.pop(0)
                step = -(1 if need > 0 else -1) * self.lines[index][2][key]
                if key in change or not self._fits(key, step):
                    continue
                steps += 1
                if steps > limit:
                    return False
                change[key] = step
                self._apply(imbalance, key, step)
                following = open_line()
                if following is None:
                    return True
                if (following[0], following[1]) in dead:
                    self._apply(imbalance, key, -change.pop(key))
                    continue
                frame[3] = key
                stack.append(following)
                advanced = True
                break
            if not advanced:
                dead.add((index, need))
                stack.pop()
        return False

    def _line_unknowns(self, index):
        """The unknown counts of a line, those in fewest lines first (they close a search soonest)."""
        cached = self._unknowns_cache.get(index)
        if cached is None or cached[0] != self._version:
            keys = sorted((k for k in self.lines[index][2] if self.unknown(k)),
                          key=lambda k: (len(self.lines_of[k]), self.status[k] == CellStatus.PRIMARY))
            cached = self._unknowns_cache[index] = (self._version, keys)
        return cached[1]

    def _apply(self, imbalance, key, step):
        for index in self.lines_of[key]:
            imbalance[index] += self.lines[index][2][key] * step
            if not imbalance[index]:
                del imbalance[index]


def pinned_now(protector):
    """The counts the ranges pin as the statuses stand now (computed once per change of status)."""
    cached = getattr(protector, "_pinned_cache", None)
    if cached is None or cached[0] != protector._version:
        cached = protector._pinned_cache = (protector._version, protector._pinned_by_ranges())
    return cached[1]


def _range_of(key, coefficient, unknown, known_sum, bounds):
    """The range the equation sum(c * x) = known_sum leaves `key`, given the others' ranges:
    (low, high), high None for no limit (low is never above the key's own low)."""
    own_low, own_high = bounds(key)
    if abs(coefficient) != 1:
        return own_low, own_high
    low_rest, high_rest = 0, 0
    for other, c in unknown:
        if other == key:
            continue
        low, high = bounds(other)
        if c > 0:
            low_rest = None if low_rest is None else low_rest + c * low
            high_rest = None if high is None or high_rest is None else high_rest + c * high
        else:
            high_rest = None if high_rest is None else high_rest + c * low
            low_rest = None if high is None or low_rest is None else low_rest + c * high
    if coefficient > 0:  # x = known_sum - rest
        low = None if high_rest is None else known_sum - high_rest
        high = None if low_rest is None else known_sum - low_rest
    else:  # x = rest - known_sum
        low = None if low_rest is None else low_rest - known_sum
        high = None if high_rest is None else high_rest - known_sum
    low = own_low if low is None else max(low, own_low)
    high = own_high if high is None else (high if own_high is None else min(high, own_high))
    return low, high


def _pinned(key, coefficient, unknown, known_sum, bounds):
    """Whether the equation sum(c * x) = known_sum over the unknown counts, with each count's bounds,
    leaves `key` a single possible value."""
    low, high = _range_of(key, coefficient, unknown, known_sum, bounds)
    return high is not None and low >= high
