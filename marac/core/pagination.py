"""Reading the page number of a list page."""

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
