"""The list pages at scale, through HTTP as their users: keyset pages of the case list, the actions
lists and the audit trail (edges, every order and a filter, rows added between two page loads, cursors that are not rows of
the list), counts capped at COUNT_CAP, the case search paged with its true count, and the number of SQL
statements of each list page staying flat as the database grows (no query per row)."""
import datetime as dt
import json
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event, func, select

from marac.actions.models import Action, ActionStatus
from marac.audit.models import AuditEvent
from marac.audit.services import record
from marac.cases.models import Case, CaseLocation, CaseParty, CaseSort, CaseStatus, LegalHold, PartyRole
from marac.core import pagination, timeutil
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.meetings.models import AgendaItem, ItemStatus
from marac.people.models import LocationKind
from marac.people.services import build_location, build_person
from tests.factories import CaseFactory, HeldMeetingFactory
from tests.helpers import another_panel, audit_events, counting, fresh, links, page_text, post_form, signed_in, soup
from tests.referrals import date_parts, marac_form

POSTCODE = "ZZ9 9ZZ"  # a fake postcode: ZZ is no real area
OTHER_POSTCODE = "ZZ8 8ZZ"
CASE_LINK = re.compile(r"/cases/([0-9a-f-]{36})")
ACTION_LINK = re.compile(r"/actions/([0-9a-f-]{36})")


# --- building many rows at once ----------------------------------------------------------------

def make_cases(panel, referrers, count, start=0, postcode=None, **columns):
    """`count` cases of the panel in one commit, numbered from `start`: referred 1 + i // 2 days ago (two a
    day, so that the reference breaks ties), references MARAC-2025-<9950 + i> (9999 and 10000 among them;
    every tenth from 2024), risk scores 0-19 with every seventh missing, referrers in turn. With a postcode,
    each case has a victim living there (by person) or a location there (by place), or both.

    Not 2026: CaseFactory numbers its references MARAC-2026-<9000 + n> over the whole session, which in a
    long run reaches 9999 and 10000 too (references are unique)."""
    day, cases = timeutil.today(), []
    for i in range(start, start + count):
        values = dict(referred_on=day - dt.timedelta(days=1 + i // 2),
                      reference=f"{panel.kind}-{2024 if i % 10 == 3 else 2025}-{9950 + i}",
                      risk_score=None if i % 7 == 0 else i % 20, status=CaseStatus.SUBMITTED)
        values.update(columns)
        cases.append(CaseFactory.build(panel=panel, referrer=referrers[i % len(referrers)], **values))
    db.session.add_all(cases)
    db.session.flush()
    if postcode:
        for n, case in enumerate(cases):
            by_person, by_place = n % 3 != 1, n % 3 != 0  # person only, place only, both
            person = build_person({"first_names": "Fakey", "last_name": f"Testperson{n}",
                                   "postcode": postcode if by_person else OTHER_POSTCODE,
                                   "date_of_birth": "1990-01-01"})
            db.session.add(person)
            db.session.flush()
            db.session.add(CaseParty(case_id=case.id, person_id=person.id, role=PartyRole.VICTIM, position=0))
            if by_place:
                location = build_location({"kind": LocationKind.ADDRESS, "address": f"{n} Pretend Street",
                                           "postcode": postcode}, LocationKind.ADDRESS)
                db.session.add(location)
                db.session.flush()
                db.session.add(CaseLocation(case_id=case.id, location_id=location.id))
    db.session.commit()
    return cases


def make_actions(panel, cases, owners, statuses=(ActionStatus.OPEN,)):
    """An action on each case, agreed at one held meeting: owned by `owners` (an agency, or several in
    turn), due on days spread around today (several on one day, so that the id breaks ties), statuses in
    turn."""
    owners = owners if isinstance(owners, (list, tuple)) else [owners]
    meeting = HeldMeetingFactory(panel=panel)
    items = [AgendaItem(meeting_id=meeting.id, case_id=case.id, position=n + 1, status=ItemStatus.HEARD)
             for n, case in enumerate(cases)]
    db.session.add_all(items)
    db.session.flush()
    day = timeutil.today()
    actions = [Action(case_id=item.case_id, agenda_item_id=item.id, owner_agency_id=owners[n % len(owners)].id,
                      due_on=day + dt.timedelta(days=(n * 7) % 23 - 11), status=statuses[n % len(statuses)],
                      description=f"Invented action {n}")
               for n, item in enumerate(items)]
    db.session.add_all(actions)
    db.session.commit()
    return actions


# --- the orders, worked out in Python ------------------------------------------------------------

def _newest(case):
    return (case.referred_on, case.reference_year, case.reference_number, case.id)


def _risk(case):
    return -1 if case.risk_score is None else case.risk_score


EXPECTED = {
    CaseSort.REFERRED_DESC: lambda cases: sorted(cases, key=_newest, reverse=True),
    CaseSort.REFERRED_ASC: lambda cases: sorted(cases, key=_newest),
    CaseSort.REFERENCE: lambda cases: sorted(cases, key=lambda c: (c.reference_year, c.reference_number, c.id)),
    # highest risk first, then newest first: both descending
    CaseSort.RISK: lambda cases: sorted(cases, key=lambda c: (_risk(c),) + _newest(c), reverse=True),
}


def _action_order(actions):
    return sorted(actions, key=lambda a: (a.status != ActionStatus.OPEN, a.due_on, a.id))


def ids(rows):
    return [str(row.id) for row in rows]


# --- reading list pages ----------------------------------------------------------------------------

def listed(response, pattern=CASE_LINK):
    """The ids of the rows a list page links to, in order."""
    return [m.group(1) for m in (pattern.fullmatch(href) for href in links(response)) if m]


def page_links(response):
    """{"First page" | "Previous page" | "Next page" | "Last page": href} of the list's pagination."""
    nav = soup(response).select_one('nav[aria-label="Pagination"]')
    if nav is None:
        return {}
    return {" ".join(a.get_text(" ").split()): a["href"] for a in nav.find_all("a", href=True)}


def get_ok(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


def walk(client, url, pattern=CASE_LINK, direction="Next page"):
    """Follow the list's Next (or Previous) links from url to the end: [(ids, links, response)] a page."""
    pages = []
    while url:
        response = get_ok(client, url)
        pages.append((listed(response, pattern), page_links(response), response))
        url = pages[-1][1].get(direction)
        assert len(pages) <= 20, "the walk does not end"
    return pages


def assert_edges(pages):
    """The first page links to no earlier page, the last to no later one, every other page to both."""
    for n, (_, nav, _) in enumerate(pages):
        earlier, later = n > 0, n < len(pages) - 1
        assert ("First page" in nav, "Previous page" in nav) == (earlier, earlier), (n, nav)
        assert ("Next page" in nav, "Last page" in nav) == (later, later), (n, nav)


def walk_both_ways(client, url, expected, pattern=CASE_LINK, per_page=50):
    """Walk from url to the end by Next and back by Previous: each visits every row of `expected` (ids in
    order) exactly once, in order, a full page at a time but the last; the pages back are the pages forth."""
    forth = walk(client, url, pattern)
    assert_edges(forth)
    assert [row for page, _, _ in forth for row in page] == expected
    assert [len(page) for page, _, _ in forth] == [len(expected[i:i + per_page])
                                                  for i in range(0, len(expected), per_page)]
    back = walk(client, forth[-1][1].get("Previous page"), pattern, "Previous page") if len(forth) > 1 else []
    assert [page for page, _, _ in back] == [page for page, _, _ in reversed(forth[:-1])]
    return forth


def caption(response):
    return " ".join(soup(response).select_one("caption").get_text(" ").split())


# --- fixtures ----------------------------------------------------------------------------------------

@pytest.fixture
def panel(world):
    """A panel of its own (the world's police and IDVA as members, its manager, chair and representative)."""
    return another_panel(world)


@pytest.fixture
def manager(app, world):
    return signed_in(app, world.users["manager"])


@pytest.fixture
def cases(world, panel):
    """120 cases of the panel, referred by the police (the chair) two times in three, the IDVA otherwise."""
    return make_cases(panel, [world.users["chair"], world.users["representative"], world.users["chair"]], 120)


def list_url(panel, **args):
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/panels/{panel.id}/cases" + (f"?{query}" if query else "")


# --- 1. keyset pages: edges, orders, filters -----------------------------------------------------------

def test_case_list_walks_every_order_both_ways(world, panel, manager, cases):
    for sort, expected in EXPECTED.items():
        walk_both_ways(manager, list_url(panel, sort=sort.value), ids(expected(cases)))
    # the default order is newest first
    walk_both_ways(manager, list_url(panel), ids(EXPECTED[CaseSort.REFERRED_DESC](cases)))


def test_every_order_combines_with_a_filter(world, panel, manager, cases):
    police = world.agencies.police
    theirs = [c for c in cases if c.referring_agency_id == police.id]
    assert 50 < len(theirs) < 100
    for sort, expected in EXPECTED.items():
        forth = walk_both_ways(manager, list_url(panel, sort=sort.value, agency_id=police.id), ids(expected(theirs)))
        # the filter and the order stay in every link
        for _, nav, _ in forth:
            for href in nav.values():
                query = parse_qs(urlsplit(href).query)
                assert query["agency_id"] == [str(police.id)] and query["sort"] == [sort.value]
        assert caption(forth[0][2]) == f"{len(theirs)} cases"


def test_references_sort_as_numbers(world, panel, manager, cases):
    reference = {str(c.id): c.reference for c in cases}
    shown = [reference[i] for page, _, _ in walk(manager, list_url(panel, sort="reference")) for i in page]
    assert shown[:3] == ["MARAC-2024-9953", "MARAC-2024-9963", "MARAC-2024-9973"]  # the year first
    assert shown.index("MARAC-2025-9999") + 1 == shown.index("MARAC-2025-10000")  # as numbers, not text
    assert shown[-1] == "MARAC-2025-10069"


def test_last_page_shows_the_last_rows(world, panel, manager, cases):
    for sort, expected in EXPECTED.items():
        response = get_ok(manager, list_url(panel, sort=sort.value, last=1))
        assert listed(response) == ids(expected(cases))[-50:]
        nav = page_links(response)
        assert set(nav) == {"First page", "Previous page"}
        # Previous from the last page reads the rows before it
        before = get_ok(manager, nav["Previous page"])
        assert listed(before) == ids(expected(cases))[-100:-50]
        # and Previous from there, with fewer than a page before it, is the first page, whole
        start = get_ok(manager, page_links(before)["Previous page"])
        assert listed(start) == ids(expected(cases))[:50] and set(page_links(start)) == {"Next page", "Last page"}


def test_a_referral_between_two_pages_neither_repeats_nor_skips_a_row(app, world, panel, manager, cases):
    newest = ids(EXPECTED[CaseSort.REFERRED_DESC](cases))
    first = get_ok(manager, list_url(panel))
    assert listed(first) == newest[:50]
    # A referral arrives (the newest of all, it goes before the page read) and an old case too (after it).
    rep = signed_in(app, world.users["representative"])
    referred = post_form(rep, f"/panels/{panel.id}/referrals/new", marac_form())
    assert referred.status_code == 302
    arrived = CASE_LINK.fullmatch(urlsplit(referred.headers["Location"]).path).group(1)
    old = make_cases(panel, [world.users["chair"]], 1, start=500, referred_on=timeutil.today() - dt.timedelta(days=90))
    rest = walk(manager, page_links(first)["Next page"])
    seen = listed(first) + [row for page, _, _ in rest for row in page]
    assert seen == newest[:50] + newest[50:] + ids(old)  # the old case last: referred before all others
    assert len(seen) == len(set(seen)) and arrived not in seen
    assert arrived == listed(get_ok(manager, list_url(panel)))[0]  # the list shows it first when read again


@pytest.mark.parametrize("query", [
    "after={random}", "before={random}", "after={other}", "before={other}", "after=not-a-uuid", "after=",
    "before=", "after=&before=", "after={other}&last=1", "before=%00", "after=" + "9" * 40, "last=2", "after[]=x",
])
def test_a_cursor_that_is_not_a_row_of_the_list_shows_the_first_page(world, panel, manager, cases, query):
    other = world.case  # a case of another panel (the world's), which this manager manages too
    url = list_url(panel) + "?" + query.format(random=uuid.uuid4(), other=other.id)
    response = get_ok(manager, url)
    assert listed(response) == ids(EXPECTED[CaseSort.REFERRED_DESC](cases))[:50]  # a cursor wins over last=1
    assert set(page_links(response)) == {"Next page", "Last page"}
    text = response.get_data(as_text=True)
    assert str(other.id) not in text and other.reference not in text


def test_a_cursor_filtered_out_of_the_list_starts_it_again(world, panel, manager, cases):
    police = world.agencies.police
    idva_case = next(c for c in cases if c.referring_agency_id != police.id)
    theirs = EXPECTED[CaseSort.REFERRED_DESC]([c for c in cases if c.referring_agency_id == police.id])
    response = get_ok(manager, list_url(panel, agency_id=police.id, after=idva_case.id))
    assert listed(response) == ids(theirs)[:50]


def test_actions_lists_walk_both_ways(app, world, panel, manager, cases):
    idva, police = world.agencies.idva, world.agencies.police
    actions = make_actions(panel, cases[:110], [idva, idva, police],
                           statuses=(ActionStatus.OPEN, ActionStatus.OPEN, ActionStatus.DONE, ActionStatus.OPEN))
    everything = ids(_action_order(actions))
    still_open = ids(_action_order([a for a in actions if a.status == ActionStatus.OPEN]))
    url = f"/panels/{panel.id}/actions"
    walk_both_ways(manager, url + "?status=all", everything, ACTION_LINK)
    forth = walk_both_ways(manager, url, still_open, ACTION_LINK)  # open ones by default
    assert caption(forth[0][2]).startswith(f"{len(still_open)} actions")
    # a filter on the owner and the overdue ones combine with the pages
    idvas = ids(_action_order([a for a in actions if a.owner_agency_id == idva.id]))
    forth = walk_both_ways(manager, f"{url}?status=all&owner_agency_id={idva.id}", idvas, ACTION_LINK)
    assert all(parse_qs(urlsplit(href).query)["owner_agency_id"] == [str(idva.id)]
               for _, nav, _ in forth for href in nav.values())
    overdue = [a for a in actions if a.status == ActionStatus.OPEN and a.due_on < timeutil.today()]
    walk_both_ways(manager, f"{url}?status=overdue", ids(_action_order(overdue)), ACTION_LINK)
    last = get_ok(manager, url + "?status=all&last=1")
    assert listed(last, ACTION_LINK) == everything[-50:]
    assert set(page_links(last)) == {"First page", "Previous page"}
    junk = get_ok(manager, f"{url}?status=all&after={world.action.id}")  # another panel's action
    assert listed(junk, ACTION_LINK) == everything[:50] and str(world.action.id) not in junk.get_data(as_text=True)
    # The IDVA's own list, as its representative, every status: the world's action (another panel's) too.
    rep = signed_in(app, world.users["representative"])
    theirs = ids(_action_order([a for a in actions if a.owner_agency_id == idva.id] + [fresh(Action, world.action.id)]))
    assert len(theirs) > 50
    walk_both_ways(rep, "/actions?status=all", theirs, ACTION_LINK)


def seqs_listed(response):
    """The sequence numbers of the events the audit trail page shows, in order."""
    return [int(row.select_one("td").get_text()) for row in soup(response).select("tbody tr.govuk-table__row")]


def walk_audit(client, url):
    pages, url = [], url
    while url:
        response = get_ok(client, url)
        pages.append((seqs_listed(response), page_links(response), response))
        url = pages[-1][1].get("Next page")
        assert len(pages) <= 20, "the walk does not end"
    return pages


def test_audit_trail_walks_newest_first(app, world, cases):
    manager_user = world.users["manager"]
    for case in cases:  # 120 events of one kind, and others between them
        record("case.viewed", manager_user, case, purpose="case page viewed")
        record("case.hold_viewed", manager_user, case, purpose="legal hold reviewed")
    db.session.commit()
    viewed = sorted((e.seq for e in audit_events("case.viewed")), reverse=True)
    assert len(viewed) >= 120
    admin = signed_in(app, world.users["admin"])
    forth = walk_audit(admin, "/admin/audit/?action=case.viewed")
    assert_edges(forth)
    assert [seq for page, _, _ in forth for seq in page] == viewed
    assert caption(forth[0][2]) == f"{len(viewed)} events"
    back = walk(admin, forth[-1][1]["Previous page"], direction="Previous page")
    assert [seqs_listed(r) for _, _, r in back] == [page for page, _, _ in reversed(forth[:-1])]
    # Unfiltered, the trail grows at its top as it is read (each sign-in, each export): a walk from the
    # first page reads every event up to that page's first, once each, in order.
    everything = walk_audit(admin, "/admin/audit/")
    seen = [seq for page, _, _ in everything for seq in page]
    lowest = db.session.execute(select(func.min(AuditEvent.seq))).scalar_one()
    assert seen == list(range(seen[0], lowest - 1, -1))
    last = get_ok(admin, "/admin/audit/?action=case.viewed&last=1")
    assert seqs_listed(last) == viewed[-50:] and set(page_links(last)) == {"First page", "Previous page"}
    # a cursor that is not an event of the list: the first page
    other = next(e.seq for e in audit_events("case.hold_viewed"))
    for junk in ("abc", "-1", "0", "1e3", "²", "9" * 19, "999999999999999999", str(other), str(viewed[0] + 10_000)):
        for kind in ("after", "before"):
            response = get_ok(admin, f"/admin/audit/?action=case.viewed&{kind}={junk}")
            assert seqs_listed(response) == viewed[:50], (kind, junk)


# --- 2. counts ------------------------------------------------------------------------------------------

def test_the_caption_counts_exactly_up_to_the_cap(world, panel, manager, cases, monkeypatch):
    assert caption(get_ok(manager, list_url(panel))) == "120 cases"
    assert caption(get_ok(manager, list_url(panel, after=cases[3].id))) == "120 cases"
    monkeypatch.setattr(pagination, "COUNT_CAP", 120)  # read when the page is counted
    assert caption(get_ok(manager, list_url(panel))) == "120 cases"
    monkeypatch.setattr(pagination, "COUNT_CAP", 119)
    assert caption(get_ok(manager, list_url(panel))) == "More than 119 cases"
    assert caption(get_ok(manager, list_url(panel, last=1))) == "More than 119 cases"
    # the pages are the same, only the count stops
    walk_both_ways(manager, list_url(panel), ids(EXPECTED[CaseSort.REFERRED_DESC](cases)))
    one = make_cases(another_panel(world), [world.users["chair"]], 1, start=900)
    assert caption(get_ok(manager, f"/panels/{fresh(Case, one[0].id).panel_id}/cases")) == "1 case"


def test_the_actions_caption_says_more_than_the_cap(world, panel, manager, cases, monkeypatch):
    make_actions(panel, cases[:30], world.agencies.idva)
    assert caption(get_ok(manager, f"/panels/{panel.id}/actions")).startswith("30 actions,")
    monkeypatch.setattr(pagination, "COUNT_CAP", 10)
    assert caption(get_ok(manager, f"/panels/{panel.id}/actions")).startswith("More than 10 actions,")


# --- 3. search paging ---------------------------------------------------------------------------------

def search_page(client, panel, response=None, page=None, **fields):
    """Post the search form as a browser does: the first time from the case list with these fields; then
    (response, page) by pressing the page's button for that page, which posts the form on that page."""
    if response is None:
        data = {"reference": "", "name": "", "postcode": "", "sounds_like": "", "birth_year": "",
                **date_parts("date_of_birth", None), **fields}
        return post_form(client, f"/panels/{panel.id}/cases/search", data, token_from=f"/panels/{panel.id}/cases")
    page_soup = soup(response)
    form = page_soup.find("form", id="case-search")
    data = {field["name"]: field.get("value", "") for field in form.find_all("input", attrs={"name": True})}
    button = page_soup.find("button", attrs={"form": "case-search", "aria-label": f"Page {page}"})
    assert button is not None, f"no button for page {page}"
    return client.post(button["formaction"], data=data)


def test_search_pages_with_its_true_count(world, panel, manager):
    cases = make_cases(panel, [world.users["representative"]], 60, postcode=POSTCODE)
    make_cases(panel, [world.users["representative"]], 5, start=200, postcode=OTHER_POSTCODE)  # not found
    newest = ids(EXPECTED[CaseSort.REFERRED_DESC](cases))
    first = search_page(manager, panel, postcode=POSTCODE)
    assert first.status_code == 200
    assert "60 results" in page_text(first) and "Page 1 of 2" in page_text(first)
    assert listed(first) == newest[:50]
    button = soup(first).find("button", attrs={"form": "case-search", "aria-label": "Page 2"})
    address = urlsplit(button["formaction"])
    assert address.path == f"/panels/{panel.id}/cases/search" and address.query == "page=2"  # nothing else
    assert soup(first).find("form", id="case-search")["method"] == "post"
    second = search_page(manager, panel, first, page=2)
    assert second.status_code == 200 and "60 results" in page_text(second) and "Page 2 of 2" in page_text(second)
    assert listed(second) == newest[50:]
    assert not set(listed(first)) & set(listed(second))
    # back to page 1 from page 2
    assert listed(search_page(manager, panel, second, page=1)) == newest[:50]
    # the trail: the count, the page and the page's cases, never the postcode
    searched = audit_events("case.searched")[-3:]
    assert [(e.detail["by"], e.detail["results"], e.detail["page"]) for e in searched] == [
        ("postcode", 60, 1), ("postcode", 60, 2), ("postcode", 60, 1)]
    assert [e.detail["cases"] for e in searched] == [newest[:50], newest[50:], newest[:50]]
    stored = json.dumps([[e.detail, e.object_id, e.purpose] for e in searched]).lower()
    assert "zz9" not in stored and "9zz" not in stored
    # a page beyond the end
    beyond = manager.post(f"/panels/{panel.id}/cases/search?page=3",
                          data={field["name"]: field.get("value", "") for field in
                                soup(first).find("form", id="case-search").find_all("input", attrs={"name": True})})
    assert beyond.status_code == 200
    assert "There is no page 3: the search found 60 results, on 2 pages." in page_text(beyond)
    assert listed(beyond) == []
    assert audit_events("case.searched")[-1].detail["cases"] == []


def test_a_case_found_by_person_and_by_place_counts_once(world, panel, manager):
    cases = make_cases(panel, [world.users["representative"]], 6, postcode=POSTCODE)
    both = [c for n, c in enumerate(cases) if n % 3 == 2]  # a victim there and a location there
    assert both and all(len(fresh(Case, c.id).locations) == 1 for c in both)
    found = search_page(manager, panel, postcode=POSTCODE)
    assert "6 results" in page_text(found)
    assert sorted(listed(found)) == sorted(ids(cases))


# --- 4. SQL statements per page: flat as the database grows ---------------------------------------------

class Scale:
    """A panel whose cases, actions, holds, meetings and audit events grow by `grow(n)`: each case referred
    by the representative, with a victim at POSTCODE, an action of the IDVA and a legal hold."""

    def __init__(self, world, panel):
        self.world, self.panel, self.cases, self.start = world, panel, [], 0

    def grow(self, count):
        cases = make_cases(self.panel, [self.world.users["representative"]], count, start=self.start,
                           postcode=POSTCODE)
        self.start += count
        make_actions(self.panel, cases, self.world.agencies.idva)
        manager_id = self.world.users["manager"].id
        db.session.add_all([LegalHold(case_id=c.id, placed_by_id=manager_id, placed_at=utcnow(), reason="Invented")
                            for c in cases])
        for _ in range(count // 5):
            HeldMeetingFactory(panel=self.panel)
        db.session.commit()
        self.cases += cases


def statements_of(client, method, url, data=None):
    """The SQL statements of one request (after one to warm the caches), its status checked."""
    send = client.post if method == "POST" else client.get
    send(url, data=data)
    with counting() as statements:
        response = send(url, data=data)
    assert response.status_code == 200, (url, response.status_code)
    return statements, response


# name -> (who, method, url of the Scale, form data): adding a page is one line.
PAGES = {
    "case list": ("manager", "GET", lambda s: f"/panels/{s.panel.id}/cases", None),
    "case list, oldest first": ("manager", "GET", lambda s: f"/panels/{s.panel.id}/cases?sort=referred_asc", None),
    "case list, by reference": ("manager", "GET", lambda s: f"/panels/{s.panel.id}/cases?sort=reference", None),
    "case list, by risk": ("manager", "GET", lambda s: f"/panels/{s.panel.id}/cases?sort=risk", None),
    "case list, filtered": ("manager", "GET", lambda s: f"/panels/{s.panel.id}/cases?status=submitted"
                                                        f"&agency_id={s.world.agencies.idva.id}", None),
    "case list, deep page": ("manager", "GET", lambda s: f"/panels/{s.panel.id}/cases?after={s.cases[4].id}", None),
    "case list, before": ("manager", "GET", lambda s: f"/panels/{s.panel.id}/cases?before={s.cases[-1].id}", None),
    "case list, last page": ("manager", "GET", lambda s: f"/panels/{s.panel.id}/cases?last=1", None),
    "case list, representative": ("representative", "GET", lambda s: f"/panels/{s.panel.id}/cases", None),
    "panel's actions": ("manager", "GET", lambda s: f"/panels/{s.panel.id}/actions?status=all", None),
    "panel's actions, overdue": ("manager", "GET", lambda s: f"/panels/{s.panel.id}/actions?status=overdue", None),
    "agency's actions": ("representative", "GET", lambda s: "/actions?status=all", None),
    "agency's actions, open": ("representative", "GET", lambda s: "/actions", None),
    "search results": ("manager", "POST", lambda s: f"/panels/{s.panel.id}/cases/search", {"postcode": POSTCODE}),
    "case page": ("manager", "GET", lambda s: f"/cases/{s.cases[0].id}", None),
    "home, manager": ("manager", "GET", lambda s: "/", None),
    "home, representative": ("representative", "GET", lambda s: "/", None),
    "your referrals": ("representative", "GET", lambda s: "/referrals/mine", None),
    "your referrals, last page": ("representative", "GET", lambda s: "/referrals/mine?last=1", None),
    "legal holds": ("manager", "GET", lambda s: f"/panels/{s.panel.id}/holds", None),
    "audit trail": ("admin", "GET", lambda s: "/admin/audit/", None),
    "audit trail, deep page": ("admin", "GET", lambda s: f"/admin/audit/?after={_latest_seq() - 30}", None),
    "audit trail, last page": ("admin", "GET", lambda s: "/admin/audit/?last=1", None),
    "meetings": ("manager", "GET", lambda s: f"/panels/{s.panel.id}/meetings", None),
}


def _latest_seq():
    return db.session.execute(select(func.max(AuditEvent.seq))).scalar_one()


def statements_per_page(app, scale, clients):
    """{page name: statements} of every page in PAGES, each read as its user."""
    counts = {}
    for name, (who, method, url_of, data) in PAGES.items():
        if data is not None:  # a posted form: its token from the page it is on
            data = {**data, **{"csrf_token": _csrf(clients[who], f"/panels/{scale.panel.id}/cases")}}
        counts[name], response = statements_of(clients[who], method, url_of(scale), data)
        if name == "search results":  # a search that found the cases, not a form sent back with an error
            assert f"{len(scale.cases)} results" in page_text(response)
    return counts


def _csrf(client, url):
    field = soup(client.get(url)).find("input", attrs={"name": "csrf_token", "value": True})
    return field["value"]


def test_no_list_page_sends_more_statements_as_the_database_grows(app, world, panel):
    clients = {who: signed_in(app, world.users[who]) for who in ("manager", "representative", "admin")}
    scale = Scale(world, panel)
    scale.grow(10)
    small = statements_per_page(app, scale, clients)
    scale.grow(55)
    large = statements_per_page(app, scale, clients)
    for name in PAGES:  # shown with -s, or when the test fails
        print(f"{name:32} {len(small[name]):4} {len(large[name]):4}")
    grown = {name: (len(small[name]), len(large[name])) for name in PAGES if len(large[name]) > len(small[name])}
    details = {name: [s.split("\n")[0][:160] for s in large[name]] for name in grown}
    assert not grown, f"pages sending more statements with more rows: {grown}\n{json.dumps(details, indent=1)}"


# The pages that list rows by keyset, each of whose orders an index must serve (a page that sorts its rows
# reads them all: "your referrals" sorted the referrer's every case, 62 ms for 17,000 at 100,000 cases).
KEYSET_PAGES = ("case list", "case list, oldest first", "case list, by reference", "case list, by risk",
                "case list, filtered", "case list, deep page", "case list, before", "case list, last page",
                "case list, representative", "panel's actions", "panel's actions, overdue", "agency's actions",
                "agency's actions, open", "your referrals", "your referrals, last page", "audit trail",
                "audit trail, deep page", "audit trail, last page")


def _ordered_statements(client, method, url):
    """The (statement, parameters) of one request that read rows in an order, a page at a time."""
    found = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT") and "ORDER BY" in statement and "LIMIT" in statement:
            found.append((statement, parameters))

    (client.post if method == "POST" else client.get)(url)
    event.listen(db.engine, "before_cursor_execute", before)
    try:
        response = (client.post if method == "POST" else client.get)(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    assert response.status_code == 200, (url, response.status_code)
    return found


def _sorts(statement, parameters):
    """Whether the database sorts the rows of the statement rather than reading them in order from an
    index. PostgreSQL is told sorting is dear (enable_sort off), so it reads an index wherever one serves."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        return [row[-1] for row in plan if "TEMP B-TREE" in row[-1]]
    connection.exec_driver_sql("SET LOCAL enable_sort = off")
    plan = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar_one()
    return re.findall(r"\"Node Type\": \"((?:Incremental )?Sort)\"", json.dumps(plan))


def test_every_keyset_list_reads_its_rows_in_order_from_an_index(app, world, panel):
    clients = {who: signed_in(app, world.users[who]) for who in ("manager", "representative", "admin")}
    scale = Scale(world, panel)
    scale.grow(12)
    sorted_by_the_database = {}
    for name in KEYSET_PAGES:
        who, method, url_of, _ = PAGES[name]
        statements = _ordered_statements(clients[who], method, url_of(scale))
        assert statements, f"{name}: no statement read rows in order"
        for statement, parameters in statements:
            if sorts := _sorts(statement, parameters):
                sorted_by_the_database.setdefault(name, []).append((sorts, statement.split("FROM")[1][:200]))
    assert not sorted_by_the_database, json.dumps(sorted_by_the_database, indent=1)


# --- 5. what a list page reads of each row --------------------------------------------------------------

def test_the_case_list_names_each_cases_subject_and_no_other_party(app, world, panel, manager):
    """The list reads only each case's subject (cases.services.with_subjects): the victim is named, the
    perpetrator of the same case is not, and a case whose only party is a perpetrator names nobody."""
    both, alone = make_cases(panel, [world.users["chair"]], 2)
    for case, people in ((both, (("Fakella", "Victimtest", PartyRole.VICTIM),
                                 ("Mockus", "Perpetest", PartyRole.PERPETRATOR))),
                         (alone, (("Shamo", "Onlyperp", PartyRole.PERPETRATOR),))):
        # the perpetrator first in position: the subject is found by role, not by order
        for position, (first, last, role) in enumerate(reversed(people)):
            person = build_person({"first_names": first, "last_name": last, "date_of_birth": "1990-01-01"})
            db.session.add(person)
            db.session.flush()
            db.session.add(CaseParty(case_id=case.id, person_id=person.id, role=role, position=position))
    db.session.commit()
    rows = {row.find("a").get_text(strip=True): row.get_text(" ", strip=True)
            for row in soup(get_ok(manager, list_url(panel))).select("tbody tr")}
    assert "Fakella Victimtest" in rows[both.reference]
    assert "Perpetest" not in rows[both.reference]
    assert "Onlyperp" not in rows[alone.reference]


def test_a_role_given_or_taken_counts_at_once_in_the_same_session(world, panel):
    """Panel.roles_of keeps its answers for a request's many checks; a role added, changed or removed in
    the same session is seen by the very next check, and a fresh read of the panel too."""
    from marac.panels.models import PanelRole, Role

    outsider = world.users["nonmember"]
    assert not panel.can_list_cases(outsider)
    role = PanelRole(panel_id=panel.id, user_id=outsider.id, role=Role.CHAIR)
    panel.roles.append(role)
    assert panel.roles_of(outsider) == {Role.CHAIR} and panel.can_list_cases(outsider)
    role.role = Role.STEERING
    assert not panel.can_list_cases(outsider) and panel.can_view_statistics(outsider)
    panel.roles.remove(role)
    assert not panel.roles_of(outsider) and not panel.can_view_statistics(outsider)
    db.session.add(PanelRole(panel_id=panel.id, user_id=outsider.id, role=Role.MANAGER))  # not through panel.roles
    db.session.commit()
    db.session.expire(panel)  # as a commit does outside the tests: its roles are read again
    assert panel.is_manager(outsider)
