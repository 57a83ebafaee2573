"""Pagination of list pages: by page number (short lists and lists worked out in memory) and by
keyset (the lists that grow with the case count: a page reads its own rows and no others)."""
import uuid
from dataclasses import dataclass

from sqlalchemy import and_, func, literal_column, or_, select

from marac.extensions import db

MAX_PAGE = 99999


def page_number(request):
    """The ?page= number, 1 when absent or not a whole number from 1 to MAX_PAGE in ASCII digits.

    str.isdigit() alone accepts "²" (which int() refuses) and "٣" (which int() reads as 3): only
    0-9 count, and at most as many of them as MAX_PAGE has."""
    value = request.args.get("page", "")
    if not (value.isascii() and value.isdigit() and len(value) <= len(str(MAX_PAGE))):
        return 1
    return int(value) if 0 < int(value) <= MAX_PAGE else 1


class ListPage:
    """One page of a list already in memory (worked out in Python, not by a query), with what the
    pagination macro reads of a query's page: items, page, pages, total, prev/next and iter_pages."""

    def __init__(self, items, page, per_page):
        items = list(items)
        self.total, self.per_page = len(items), per_page
        self.pages = max(1, -(-self.total // per_page))
        self.page = min(max(page, 1), self.pages)
        self.items = items[(self.page - 1) * per_page:self.page * per_page]
        self.has_prev, self.has_next = self.page > 1, self.page < self.pages
        self.prev_num = self.page - 1 if self.has_prev else None
        self.next_num = self.page + 1 if self.has_next else None

    def iter_pages(self, left_edge=1, left_current=1, right_current=1, right_edge=1):
        """Page numbers to link, None where some are skipped (as Flask-SQLAlchemy's)."""
        last = 0
        for n in range(1, self.pages + 1):
            if (n <= left_edge or self.page - left_current <= n <= self.page + right_current
                    or n > self.pages - right_edge):
                if last + 1 != n:
                    yield None
                yield n
                last = n


# --- keyset pagination: the lists that grow with the case count ------------------------------------

# A list counts its rows up to this many and says "more than" beyond: the count never reads the table.
COUNT_CAP = 1_000
CURSORS = ("after", "before")


@dataclass(frozen=True)
class Cursor:
    """Where a keyset list page starts: after or before a row (by its key), the last page, or the first."""

    kind: str = "first"  # "first", "after", "before" or "last"
    key: object = None


def cursor(request, key_type=uuid.UUID):
    """The page a keyset list was asked for: ?after=<key> or ?before=<key> (a row's id), or ?last=1.

    The key is only ever a row's own id (a UUID; a whole number for the audit trail's sequence), never a
    value the list is sorted on: a risk score or a date of birth must not reach a URL. Anything else,
    malformed or out of range, is the first page."""
    for kind in CURSORS:
        value = request.args.get(kind, "")
        if not value:
            continue
        try:
            if key_type is int:
                if not (value.isascii() and value.isdigit() and len(value) <= 18):
                    return Cursor()
                return Cursor(kind, int(value))
            return Cursor(kind, uuid.UUID(value))
        except ValueError:
            return Cursor()
    if request.args.get("last") == "1":
        return Cursor("last")
    return Cursor()


@dataclass
class KeysetPage:
    """One page of a keyset list, with what the pagination macro reads: items, whether there are pages
    before and after, the keys to link them by, and the list's size counted up to COUNT_CAP."""

    items: list
    has_prev: bool
    has_next: bool
    key: object  # the items' key attribute name, for the links
    total: int
    total_capped: bool
    keyset: bool = True

    @property
    def first_key(self):
        """The key of the first item shown (the "previous" link reads the rows before it)."""
        return getattr(self.items[0], self.key) if self.items else None

    @property
    def last_key(self):
        """The key of the last item shown (the "next" link reads the rows after it)."""
        return getattr(self.items[-1], self.key) if self.items else None

    def count_text(self, singular, plural=None):
        """"1 case", "243 cases", "More than 1,000 cases"."""
        plural = plural or singular + "s"
        if self.total_capped:
            return f"More than {self.total:,} {plural}"
        return f"{self.total:,} {singular if self.total == 1 else plural}"


def _seek(order, values, forward):
    """The rows after (forward) or before the row whose sort values are `values`, in `order`: the
    lexicographic comparison spelled out, plus a bound on the leading key that an index range can use
    (so the rows skipped are never read)."""
    alternatives = []
    for i, ((expression, descending), value) in enumerate(zip(order, values)):
        later = expression < value if descending == forward else expression > value
        alternatives.append(and_(*[e == v for (e, _), v in zip(order[:i], values[:i])], later))
    (lead, descending), value = order[0], values[0]
    bound = lead <= value if descending == forward else lead >= value
    return and_(bound, or_(*alternatives))


def _ordered(order, forward):
    return [(e.desc() if descending == forward else e.asc()) for e, descending in order]


def keyset_page(stmt, order, key_column, at, per_page=50, options=()):
    """One page of `stmt` (a select of one entity) in `order`, a sequence of (expression, descending)
    whose last expression is unique and never NULL (the key; no expression may be NULL), starting at the
    Cursor `at`. Reads at most per_page + 1 rows wherever the page is, and counts up to COUNT_CAP rows.

    A cursor whose row has left the list (deleted, or no longer matching a filter) starts the list again."""
    expressions = [e for e, _ in order]
    values = None
    if at.kind in CURSORS:
        values = db.session.execute(stmt.with_only_columns(*expressions).where(key_column == at.key)
                                    .order_by(None).limit(1)).first()
    if values is None and at.kind != "last":
        at = Cursor()
    forward = at.kind in ("first", "after")
    query = stmt.order_by(None).order_by(*_ordered(order, forward)).limit(per_page + 1).options(*options)
    if values is not None:
        query = query.where(_seek(order, tuple(values), forward))
    rows = list(db.session.execute(query).scalars())
    more = len(rows) > per_page
    rows = rows[:per_page]
    if not forward:
        rows.reverse()
    if at.kind == "before" and not more:  # reached the start: show the whole first page
        return keyset_page(stmt, order, key_column, Cursor(), per_page, options)
    if at.kind == "after" and not rows:  # past the end: the last page
        return keyset_page(stmt, order, key_column, Cursor("last"), per_page, options)
    total, capped = capped_count(stmt)
    has_prev = more if not forward else at.kind == "after"
    has_next = more if forward else at.kind == "before"
    return KeysetPage(rows, has_prev, has_next, key_column.key, total, capped)


def capped_count(stmt, cap=None):
    """(rows of stmt up to cap, default COUNT_CAP as it is when called, whether there are more): reads at
    most cap + 1 index entries."""
    cap = COUNT_CAP if cap is None else cap
    limited = stmt.with_only_columns(literal_column("1")).order_by(None).limit(cap + 1).subquery()
    count = db.session.execute(select(func.count()).select_from(limited)).scalar_one()
    return min(count, cap), count > cap
