"""No input makes a server error: hypothesis sends arbitrary query strings and form bodies to every
route of the url_map, for every method it allows, as each kind of user, and never gets a 5xx.

For each kind of user (anonymous, a user with no panel role, a representative, the chair, the
manager, a steering member, an administrator) the test first reads every page it can open and
serialises each form on it as a browser would (hidden fields, CSRF token and one-time form token
included). Each example then picks values for the route's parameters (real ids from the world, a
random UUID, odd text for string parameters), a query string, and for a POST a body: most carry the
fresh tokens of the form that posts there, with some fields replaced, blanked, repeated or removed,
others carry no token at all (they must be refused with a 400, not fail). Values include non-ASCII
digits (², ٣, full-width １２), huge and negative numbers, empty values, NUL bytes and other control
characters, unicode, real ids, and files uploaded into text fields (multipart).

HEAD and OPTIONS are answered by Flask from the GET view and are not sent separately.
"""
import datetime as dt
import io
import itertools
import string
import traceback
import uuid
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.routing import AnyConverter

from marac.actions.models import ActionStatus, UpdateKind
from marac.agencies.models import AgencyKind
from marac.cases.models import CaseSort, CaseStatus, Criterion, ScreeningDecision
from marac.core.timeutil import today
from marac.extensions import db
from marac.meetings import services as meetings
from marac.meetings.models import AttendanceStatus, ItemStatus, LawfulBasis
from marac.packs.models import PackKind
from marac.panels.models import Cadence, PanelKind, Role
from marac.people.models import YesNoUnknown
from tests.factories import CaseFactory, MeetingFactory, open_on_its_day
from tests.helpers import is_form_token, sign_in, soup
from tests.test_access_matrix import agenda_build_of, attendee_of

KINDS = ("anonymous", "nonmember", "representative", "chair", "manager", "steering", "admin")
FUZZ = settings(max_examples=6, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

# --- strategies --------------------------------------------------------------------------------

CHARS = st.characters(blacklist_categories=("Cs",))  # lone surrogates cannot be sent as UTF-8 at all
ODD_NUMBERS = ["²", "٣", "١٢", "１２", "３", "߃", "౩", "𝟙", "Ⅻ", "½", "⁵", "٠", "-1", "-0", "0", "+1", " 1 ",
               "1_000", "0x1f", "1e308", "NaN", "inf", "01", "9" * 40, "-" + "9" * 40, str(2 ** 63), str(-2 ** 63 - 1)]
ODD_TEXT = ["", " ", "\x00", "a\x00b", "\t\r\n", "\u202e\u200b", "<script>alert(1)</script>", "'; DROP TABLE cases; --",
            "%00", "{{ 7*7 }}", "None", "null", "[]", "Zoë O'Brien-Ñúñez", "👩‍👧", "ß" * 40, "\ufeff", "\x1b[2J",
            "ZZ1 1ZZ", "10:00", "25:99", "2026-02-30", "9999-12-31", "0001-01-01"]
VOCABULARY = sorted({str(v) for enum in (ActionStatus, UpdateKind, AgencyKind, CaseSort, CaseStatus, Criterion,
                                         ScreeningDecision, AttendanceStatus, ItemStatus, LawfulBasis, PackKind,
                                         Cadence, PanelKind, Role, YesNoUnknown) for v in enum}
                    | {"observer", "all", "draft", "submit", "y", "on", "true", "perpetrators", "children"})

numbers = st.one_of(st.sampled_from(ODD_NUMBERS), st.integers(-10 ** 30, 10 ** 30).map(str),
                    st.integers(-3, 40).map(str))
texts = st.one_of(st.sampled_from(ODD_TEXT), st.text(CHARS, max_size=30),
                  st.builds(lambda piece, n: (piece * n)[:n], st.text(CHARS, min_size=1, max_size=4),
                            st.integers(1, 12000)))


class Upload:
    """A file to upload into a field (made afresh for each request: a stream is read once)."""

    def __init__(self, content, filename):
        self.content, self.filename = content, filename

    def part(self):
        return io.BytesIO(self.content), self.filename

    def __repr__(self):
        return f"Upload({self.content[:20]!r}, {self.filename!r})"


uploads = st.builds(Upload, st.one_of(st.binary(max_size=64), st.just(b"%PDF-1.4\n%\x00\xff")),
                    st.sampled_from(["notes.txt", "", "x.pdf", "../../etc/passwd", "ünï.txt"]))


def values(world_values):
    """A value for any field or query parameter."""
    return st.one_of(numbers, texts, st.sampled_from(VOCABULARY), st.sampled_from(world_values),
                     st.sampled_from(["", str(uuid.uuid4())]))


# --- the world's ids, and the pages of one kind of user --------------------------------------

def running_meeting(world):
    """A second meeting of the world's panel, in progress, with an accepted case listed and the police's
    attendee named and agreed: its register, hearing and action forms are open to the fuzzing."""
    manager = world.users["manager"]
    case = CaseFactory(panel=world.panel, referrer=world.users["representative"], status=CaseStatus.ACCEPTED)
    meeting = MeetingFactory(panel=world.panel, manager=manager, cases=[case], published=True,
                             meets_on=today() + dt.timedelta(days=7))
    open_on_its_day(manager, meeting)
    attendee = meetings.add_attendee(manager, meeting, "Fuzzy Attendee-Test", "DS", world.agencies.police.id, False)
    meetings.agree_confidentiality(manager, meeting, attendee)
    db.session.commit()
    return SimpleNamespace(meeting=meeting, case=case, item=meeting.items[0], attendee=attendee)


def world_ids(world, running, me):
    """Real ids for each URL parameter name, the world's first. The acting user's own account is left out
    of user_id: an administrator resetting their own password would end the test's session (refusing
    that is the approvals work's), and every account operation is still tried on the other users."""
    return {
        "panel_id": [world.panel.id],
        "case_id": [world.case.id, world.accepted.id, running.case.id],
        "meeting_id": [world.meeting.id, running.meeting.id],
        "item_id": [world.item.id, running.item.id],
        "action_id": [world.action.id],
        "attendee_id": [attendee_of(world).id, running.attendee.id],
        "user_id": [u.id for u in world.users.values() if me is None or u.id != me.id],
        "agency_id": [a.id for a in vars(world.agencies).values()],
        "member_id": [m.id for m in world.members],
        "role_id": [r.id for r in world.roles.values()],
        "build_id": [agenda_build_of(world)],
        "public_id": [],
    }


STRING_PARAMETERS = {"kind": ["agenda", "minutes"], "filename": ["css/app.css", "js/govuk-frontend.min.js"]}
# Steps that end what other routes work on come last, signing out very last.
LAST = ("meetings.cancel", "meetings.close", "meetings.finalise", "meetings.carry_over", "auth.sign_out")


def routes(app):
    """(endpoint, rule, method) of every route and method, in an order that keeps the world usable."""
    found = [(rule.endpoint, rule, method) for rule in app.url_map.iter_rules()
             for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return sorted(found, key=lambda r: (LAST.index(r[0]) if r[0] in LAST else -1, r[0], r[2]))


def given_values(rule, name):
    """The values a parameter takes when the rule fixes them (`<any(csv, xlsx):fmt>`: any other value
    is another URL, a 404 from the router), else the known values or a placeholder."""
    converter = rule._converters.get(name)
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)
    return STRING_PARAMETERS.get(name, ["x"])


def build_url(app, rule, params):
    with app.test_request_context():
        return rule.build(params, append_unknown=False)[1]


def urls(app, rule, ids, most=6):
    """The rule's URL with real ids (or known values) for its parameters: the first with the first of
    each, then others, up to `most`."""
    choices = [[(name, value) for value in (ids[name] or [uuid.uuid4()])] if name in ids
               else [(name, value) for value in given_values(rule, name)]
               for name in sorted(rule.arguments)]
    return [build_url(app, rule, dict(combination))
            for combination in itertools.islice(itertools.product(*choices), most)]


def serialise(form_tag):
    """What a browser sends for a form as rendered: (name, value) pairs, in order."""
    pairs = []
    for field in form_tag.find_all(["input", "select", "textarea"]):
        name = field.get("name")
        if not name or field.has_attr("disabled"):
            continue
        if field.name == "textarea":
            pairs.append((name, field.get_text()))
        elif field.name == "select":
            option = field.find("option", selected=True) or field.find("option")
            pairs.append((name, option.get("value", option.get_text()) if option else ""))
        elif field.get("type") in ("checkbox", "radio"):
            if field.has_attr("checked"):
                pairs.append((name, field.get("value", "on")))
        elif field.get("type") not in ("submit", "button", "file", "image", "reset"):
            pairs.append((name, field.get("value", "")))
    return pairs


class Pages:
    """What one kind of user sees: the forms on every page it can open, by the path they post to, and
    every field and query parameter name on those pages."""

    def __init__(self, client):
        self.client = client
        self.forms = {}  # path posted to -> page path it is on
        self.names = set()

    def read(self, url):
        response = self.client.get(url)
        if response.status_code != 200 or not response.mimetype == "text/html":
            return
        page = soup(response)
        for form in page.find_all("form"):
            action = urlsplit(urljoin(url, form.get("action") or url)).path
            if (form.get("method") or "get").lower() == "post":
                self.forms.setdefault(action, url)
            self.names.update(name for name, _ in serialise(form))
        for link in page.find_all("a", href=True):
            self.names.update(key for key, _ in parse_qsl(urlsplit(link["href"]).query, keep_blank_values=True))

    def fresh_form(self, path):
        """The fields of the form that posts to path, read from its page now (fresh tokens), or None."""
        page_url = self.forms.get(path)
        if page_url is None:
            return None
        response = self.client.get(page_url)
        if response.status_code != 200:
            return None
        for form in soup(response).find_all("form"):
            if urlsplit(urljoin(page_url, form.get("action") or page_url)).path == path:
                return serialise(form)
        return None

    def csrf_token(self):
        response = self.client.get("/account" if self.client.get_cookie("marac_session") else "/sign-in")
        field = soup(response).find("input", attrs={"name": "csrf_token", "value": True})
        return field["value"] if field else ""


# --- one request -------------------------------------------------------------------------------

json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-10 ** 20, 10 ** 20), st.floats(),
                                     numbers, texts),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.text(CHARS, max_size=8), inner, max_size=3)),
                           max_leaves=6)


@st.composite
def requests(draw, app, rule, method, ids, names, world_values):
    """A URL (with a query string) and, for a POST, a body to send to one route."""
    params = {}
    for name in rule.arguments:
        if name in ids:
            params[name] = draw(st.sampled_from([*ids[name], uuid.uuid4()]))
        elif isinstance(rule._converters.get(name), AnyConverter):
            params[name] = draw(st.sampled_from(given_values(rule, name)))
        else:
            params[name] = draw(st.one_of(st.sampled_from(STRING_PARAMETERS.get(name, ["x"])),
                                          st.text(string.ascii_letters + string.digits + "-_.", min_size=1,
                                                  max_size=12)))
    path = build_url(app, rule, params)
    keys = st.one_of(st.sampled_from(sorted(names) or ["page"]), st.sampled_from(["page", "sort", "status", "kind"]),
                     st.text(CHARS, min_size=1, max_size=12))
    value = values(world_values)
    query = draw(st.lists(st.tuples(keys, value), max_size=4))
    # Every list is paginated by ?page=: an odd page number in one example in two.
    query += draw(st.lists(st.tuples(st.just("page"), numbers), max_size=1))
    # A raw query string now and then: bad percent-escapes, bytes that are not UTF-8, bare keys.
    raw = draw(st.sampled_from(["", "", "", "page=%B2", "page=%ff%fe", "%zz=1&page", "page=1&page=%00",
                                "page=" + "9" * 400, "=&&=", "page[]=1", "page=%EF%BC%91"]))
    query_string = "&".join(part for part in (urlencode(query, encoding="utf-8"), raw) if part)
    body = None
    if method == "POST":
        body = {
            # Most posts carry the fresh tokens of their form; some none; some are sent as JSON (with the
            # CSRF token in its header) or as a multipart body with a part that has no name.
            "as": draw(st.sampled_from(["fresh", "fresh", "fresh", "fresh", "none", "json", "nameless"])),
            "changes": draw(st.lists(st.tuples(keys, st.sampled_from(["replace", "add", "blank", "delete"]),
                                               st.one_of(value, value, uploads)), max_size=5)),
            "json": draw(st.one_of(st.none(), json_values)),
        }
    return path, query_string, body


def send(client, pages, path, query_string, method, body, token):
    """Send one request; POSTs carry the form's fresh fields (or none), then the example's changes."""
    if method == "GET":
        return client.get(path, query_string=query_string)
    data = MultiDict()
    if body["as"] != "none":
        data = MultiDict(pages.fresh_form(path) or [("csrf_token", token)])
    for key, how, value in body["changes"]:
        if how == "delete":
            data.poplist(key)
        elif how == "blank":
            data.setlist(key, [""])
        elif how == "replace":
            data.setlist(key, [value.part() if isinstance(value, Upload) else value])
        else:
            data.add(key, value.part() if isinstance(value, Upload) else value)
    if body["as"] == "json":
        payload = {k: v for k, v in data.items() if not isinstance(v, tuple)}
        if body["json"] is not None:
            payload = body["json"] if not isinstance(body["json"], dict) else {**payload, **body["json"]}
        return client.post(path, query_string=query_string, json=payload, headers={"X-CSRFToken": token})
    if body["as"] == "nameless":
        parts = [(f'form-data; name="{k}"', v) for k, v in data.items(multi=True) if isinstance(v, str)]
        parts.append(("form-data", "a part without a name"))
        raw = "".join(f"--b0undary\r\nContent-Disposition: {disposition}\r\n\r\n{v}\r\n" for disposition, v in parts)
        return client.post(path, query_string=query_string, data=(raw + "--b0undary--\r\n").encode(),
                           content_type="multipart/form-data; boundary=b0undary")
    return client.post(path, query_string=query_string, data=data)


def known_cases(pages, path, method):
    """The inputs that failed before, sent to every route every time (hypothesis explores around them):
    page numbers in digits other than 0-9; for a POST, a file in every field of the form, a JSON body
    that is not an object and one with values that are not text, and a multipart part with no name."""
    if method == "GET":
        return [(path, "page=²", None), (path, "page=٣&page=１", None)]
    fields = [name for name, _ in pages.fresh_form(path) or [] if name != "csrf_token" and not is_form_token(name)]
    upload = Upload(b"not text", "notes.txt")
    body = {"as": "fresh", "changes": [(name, "replace", upload) for name in fields or ["name"]], "json": None}
    return [(path, "", body),
            (path, "", {"as": "json", "changes": [], "json": [1, 2]}),
            (path, "", {"as": "json", "changes": [], "json": {name: [5, {"x": None}] for name in fields or ["name"]}}),
            (path, "", {"as": "nameless", "changes": [], "json": None})]


@pytest.mark.parametrize("kind", KINDS)
def test_no_input_makes_a_server_error(app, client, world, clock, kind):
    me = None if kind == "anonymous" else world.users[kind]
    if me is not None:
        sign_in(client, me)
    ids = world_ids(world, running_meeting(world), me)
    world_values = sorted({str(i) for found in ids.values() for i in found}
                          | {u.email for u in world.users.values()} | {world.case.reference})
    pages = Pages(client)
    everything = routes(app)
    for endpoint, rule, method in everything:
        if method == "GET":
            for url in urls(app, rule, ids):
                pages.read(url)
    state = {"token": pages.csrf_token()}

    def still_signed_in(response=None):
        """Sign in again after an example that ended the session (signing out, ending one's session): its
        answer, like every page's after it, sends the user to the sign-in page."""
        if me is None or (response is not None and not (
                response.status_code == 302 and urlsplit(response.location).path == "/sign-in")):
            return
        if client.get("/account").status_code == 200:
            return
        clock(seconds=31)  # a fresh TOTP code: each is accepted once
        sign_in(client, me)
        state["token"] = pages.csrf_token()

    failures = []
    for endpoint, rule, method in everything:
        @FUZZ
        @given(request=requests(app, rule, method, ids, pages.names, world_values))
        def run(request):
            path, query_string, body = request
            response = send(client, pages, path, query_string, method, body, state["token"])
            assert response.status_code < 500, f"{method} {path}?{query_string} {body}: {response.status_code}"
            still_signed_in(response)

        for case in known_cases(pages, urls(app, rule, ids, most=1)[0], method):
            run = example(request=case)(run)
        try:
            run()
        except Exception as error:  # in testing, Flask raises the view's exception instead of a 500
            where = "".join(traceback.format_tb(error.__traceback__)[-3:])
            failures.append(f"{endpoint} {method}: {type(error).__name__}: {error}"[:2000] + "\n" + where)
            still_signed_in()
    assert not failures, "\n".join(failures)
