"""Browser tests: headless Chromium driven by Playwright against a live server.

A separate app with its own scratch database (a SQLite file, or `<db>_browser` on PostgreSQL) is
served by werkzeug in a thread for the whole module. The tests cover:

* the MFA enrolment journey of a user who has no authenticator yet, then signing out and back in;
* accessibility: axe-core (WCAG 2.0/2.1/2.2 A and AA rules) on the sign-in pages, the home page and
  every administration page, with and without validation errors; and that no page logs a console
  error (a script refused by the Content-Security-Policy, for example);
* screenshots of the home page and the users page in /tmp/screens/ for a person to look at.

Chromium is Debian's /usr/bin/chromium (Playwright's own browser download is not used). Without it
the module is skipped, unless MARAC_REQUIRE_BROWSER=1 (as in CI), when every test fails instead.
"""
import os
import re
import threading
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pyotp
import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from tests import helpers
from tests.factories import AgencyFactory, CaseFactory, PanelFactory, PanelMemberFactory, PanelRoleFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.no_db_transaction]

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
APP_CSS = ROOT / "static" / "css" / "app.css"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCREENS = Path("/tmp/screens")
REQUIRED = os.environ.get("MARAC_REQUIRE_BROWSER") == "1"


def _missing_prerequisite():
    """Why the browser tests cannot run here, or None."""
    if not os.path.exists(CHROMIUM):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    if not AXE_JS.exists():
        return f"axe-core is missing at {AXE_JS} (run npm ci)"
    if not APP_CSS.exists():
        return f"the stylesheet {APP_CSS} has not been built (run make assets)"
    return None


MISSING = _missing_prerequisite()
if MISSING and not REQUIRED:
    pytest.skip(f"browser tests skipped: {MISSING}; set MARAC_REQUIRE_BROWSER=1 to fail instead",
                allow_module_level=True)


try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # only when MARAC_REQUIRE_BROWSER=1: _prerequisites fails every test
    PlaywrightError = expect = sync_playwright = None


@pytest.fixture(scope="module")
def _prerequisites():
    if MISSING:
        pytest.fail(f"MARAC_REQUIRE_BROWSER=1 but {MISSING}", pytrace=False)


# --- live server -----------------------------------------------------------------------------

class QuietHandler(WSGIRequestHandler):
    """No access log line per request (werkzeug logs every request, static files included)."""

    def log_request(self, code="-", size="-"):
        pass


def _seed():
    """Agencies, a panel with members and roles, and users in every state the pages need."""
    from marac.agencies.models import AgencyKind
    from marac.extensions import db
    from marac.panels.models import Role

    police = AgencyFactory(kind=AgencyKind.POLICE, name="Testshire Constabulary")
    idva = AgencyFactory(kind=AgencyKind.IDVA, name="Example IDVA Service")
    council = AgencyFactory(kind=AgencyKind.OTHER, name="Sampletown Council")
    spare = AgencyFactory(kind=AgencyKind.OTHER, name="Placeholder Housing Trust")  # not a member: add-member has a choice
    panel = PanelFactory(name="Testborough MARAC")
    member = PanelMemberFactory(panel=panel, agency=police)
    PanelMemberFactory(panel=panel, agency=idva)
    admin = UserFactory(agency=council, is_admin=True, email="admin@example.test", full_name="Ada Adminton")
    manager = UserFactory(agency=council, email="manager@example.test", full_name="Manny Fakename")
    rep = UserFactory(agency=idva, email="rep@example.test", full_name="Rita Placeholder")
    enrolling = UserFactory(agency=police, mfa=False, email="enrol@example.test", full_name="Eddie Enrolment")
    unenrolled = UserFactory(agency=police, mfa=False, email="noapp@example.test", full_name="Noa Noapp")
    PanelRoleFactory(panel=panel, user=manager, role=Role.MANAGER)
    rep_role = PanelRoleFactory(panel=panel, user=rep, role=Role.REPRESENTATIVE)
    PanelRoleFactory(panel=panel, user=enrolling, role=Role.CHAIR)
    police_rep = UserFactory(agency=police, email="police.rep@example.test", full_name="Pat Placeholder")
    PanelRoleFactory(panel=panel, user=police_rep, role=Role.REPRESENTATIVE)
    db.session.commit()
    meetings = _seed_meetings(panel, police, idva, manager, rep, police_rep)

    def person(user):
        return SimpleNamespace(id=user.id, email=user.email)

    return SimpleNamespace(
        users=SimpleNamespace(admin=person(admin), manager=person(manager), rep=person(rep),
                              enrolling=person(enrolling), unenrolled=person(unenrolled)),
        police_id=police.id, spare_id=spare.id, panel_id=panel.id, panel_name=panel.name,
        member_id=member.id, rep_role_id=rep_role.id, idva_name=idva.name, meetings=meetings)


def _seed_meetings(panel, police, idva, manager, rep, police_rep):
    """Meetings in every state the meeting pages need, made through the services:

    * past: held a fortnight ago, minutes final, with open actions (one overdue, one due soon, one on
      track, one for the representative to complete);
    * walk: today, two cases listed, agenda not published (the manager walks it in the browser);
    * live: yesterday, still in progress, one attendee agreed and one not yet, an observer;
    * research: in a fortnight, published, one case with the police's shared research;
    * typed: in three weeks, published, a case for the representative to research;
    and an accepted case waiting (a repeat)."""
    import datetime as dt

    from marac.actions import services as actions
    from marac.cases.models import CaseStatus
    from marac.core.timeutil import utcnow
    from marac.extensions import db
    from marac.meetings import services
    from marac.meetings.models import AttendanceStatus, ItemStatus, LawfulBasis

    today = utcnow().date()
    day = dt.timedelta(days=1)

    def case(number, referred_days_ago, repeat_of=None):
        return CaseFactory(panel=panel, referrer=rep, status=CaseStatus.ACCEPTED,
                           referred_on=today - referred_days_ago * day, reference=f"MARAC-2026-{number:04d}",
                           is_repeat=repeat_of is not None, repeat_of_id=repeat_of.id if repeat_of else None)

    walk1, walk2, live_case, research_case = case(101, 40), case(102, 20), case(103, 35), case(104, 30)
    case(105, 10, repeat_of=walk2)
    typed_case = case(106, 5)
    past = services.add_meeting(manager, panel, today - 14 * day, dt.time(10), anyway=True)
    for listed in (walk1, live_case, research_case):
        services.list_case(manager, past, listed)
    services.publish(manager, past)
    services.open_meeting(manager, past)
    services.set_attendance(manager, past, {police.id: AttendanceStatus.PRESENT, idva.id: AttendanceStatus.PRESENT})
    for agency, name in ((police, "Pat Placeholder"), (idva, "Rita Placeholder")):
        attendee = services.add_attendee(manager, past, name, "", agency.id, False)
        services.agree_confidentiality(manager, past, attendee)
    items = {item.case_id: item for item in past.items}
    overdue = actions.add_action(manager, items[walk1.id], idva.id, "Invented: review the safety plan with her",
                                 today - 3 * day, "Rita Placeholder")
    soon = actions.add_action(manager, items[live_case.id], idva.id, "Invented: refer to the refuge",
                              today + 3 * day, None)
    actions.add_action(manager, items[live_case.id], police.id, "Invented: flag the address", today + 30 * day,
                       None)
    to_complete = actions.add_action(manager, items[research_case.id], idva.id,
                                     "Invented: send the court support leaflet", today + 10 * day, None)
    for item in past.items:
        services.record_hearing(manager, item, "Invented: high risk, escalating", "Invented: the panel agreed",
                                ItemStatus.HEARD, None)
    services.close_meeting(manager, past)
    services.finalise_minutes(manager, past)

    # The walk opens its meeting in the browser, which a meeting allows from its day: today.
    walk = services.add_meeting(manager, panel, today, dt.time(10), anyway=True)
    services.list_case(manager, walk, walk1)
    services.list_case(manager, walk, walk2)

    live = services.add_meeting(manager, panel, today - day, dt.time(10), anyway=True)
    services.list_case(manager, live, live_case)
    services.publish(manager, live)
    services.open_meeting(manager, live)
    agreed = services.add_attendee(manager, live, "Rita Placeholder", "IDVA", idva.id, False)
    services.agree_confidentiality(manager, live, agreed)
    live_action = actions.add_action(manager, live.items[0], idva.id, "Invented: agreed live, to correct",
                                     today + 20 * day, None)
    services.add_attendee(manager, live, "Pat Placeholder", "DS", police.id, False)
    services.add_attendee(manager, live, "Olive Observer", "Student", None, True)

    research = services.add_meeting(manager, panel, today + 14 * day, dt.time(10), anyway=True)
    research_item = services.list_case(manager, research, research_case)
    services.publish(manager, research)
    police_return = services.save_return(police_rep, research_item, {
        "nothing_held": False, "relevant": "Invented: two call-outs", "to_share": "Invented: call-out dates",
        "lawful_basis": LawfulBasis.PUBLIC_TASK, "withheld": "Invented: an intelligence report",
        "withheld_reason": "Invented: it would prejudice an investigation"})
    services.share_return(police_rep, research_item)
    typed = services.add_meeting(manager, panel, today + 21 * day, dt.time(10), anyway=True)
    typed_item = services.list_case(manager, typed, typed_case)
    services.publish(manager, typed)
    db.session.commit()
    return SimpleNamespace(
        past=past.id, past_item=items[walk1.id].id, past_case=walk1.id, waiting_case=walk2.id, walk=walk.id, walk_case=walk1.reference,
        walk_waiting=walk2.reference, live=live.id, live_item=live.items[0].id, research=research.id,
        research_item=research_item.id, research_case=research_case.reference, overdue_action=overdue.id,
        live_attendee=agreed.id, live_case=live_case.reference, live_action=live_action.id, typed_item=typed_item.id,
        soon_action=soon.id, rep_action=to_complete.id)


@pytest.fixture(scope="module")
def live(_prerequisites, tmp_path_factory):
    """The app on a real socket: `live.url`, `live.app`, and the seeded ids and users."""
    from config import TestConfig
    from marac import create_app
    from marac.extensions import db

    url = helpers.scratch_database_url("browser", tmp_path_factory.mktemp("browser-db"))
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url})
    helpers.migrate_fresh(app)
    with app.app_context():
        data = _seed()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="marac-live-server", daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", app=app, **vars(data))
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def unused_code(live, person):
    """A TOTP code the server has not seen for this user (see helpers.next_code)."""
    with live.app.app_context():
        return helpers.next_code(person)


# --- browser ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser(_prerequisites):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_context(browser, live):
    context = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    return context


def open_page(context):
    """A new tab that records console errors and uncaught exceptions in page.problems.

    The browser's own request for /favicon.ico (the service has none; it gets a 404) is not counted."""
    page = context.new_page()
    page.problems = []

    def on_console(message):
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            page.problems.append(f"console: {message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    return page


@pytest.fixture
def context(browser, live):
    context = new_context(browser, live)
    yield context
    context.close()


def signed_in_tab(browser, live, person):
    """Yield a tab of its own browser context, signed in as person (for a module-scoped fixture)."""
    context = new_context(browser, live)
    try:
        page = open_page(context)
        sign_in(page, person, code=unused_code(live, person))
        expect_heading(page, "Your panels")
        yield page
    finally:
        context.close()


def without_problems(page):
    """The shared tab, its console problems from earlier tests forgotten."""
    page.problems.clear()
    return page


def visit(page, path):
    response = page.goto(path)
    assert response is not None and response.status == 200, f"GET {path}: {response and response.status}"
    expected = path.split("?")[0]
    assert page.url.split("?")[0].endswith(expected), f"GET {path} ended at {page.url}"
    return response


def sign_in(page, person, code=None):
    """Sign in through the pages: password, then (if given) the security code."""
    visit(page, "/sign-in")
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Password", exact=True).fill(helpers.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if code is not None:
        expect_heading(page, "Enter your security code")
        page.get_by_label("Security code").fill(code)
        page.get_by_role("button", name="Continue").click()


def expect_heading(page, text):
    expect(page.locator("h1")).to_have_text(text)


def submit_empty(page, button):
    page.get_by_role("button", name=button).click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert page.title().startswith("Error: "), page.title()


# --- axe-core --------------------------------------------------------------------------------

AXE_SOURCE = AXE_JS.read_text() if AXE_JS.exists() else ""
RUN_AXE = """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
    .then(result => result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
        nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))})))"""


def axe_violations(page):
    """Run axe-core in the page. page.evaluate goes through the DevTools protocol, which the page's
    Content-Security-Policy (script-src 'self' 'nonce-...') does not govern, unlike a <script> tag."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    return page.evaluate(RUN_AXE, AXE_TAGS)


def describe(violations):
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"    {node['target']}: {summary}")
    return "\n".join(lines)


def assert_accessible(page, label):
    page.wait_for_load_state("load")
    violations = axe_violations(page)
    assert not violations, f"axe found violations on {label} ({page.url}):\n{describe(violations)}"
    assert not page.problems, f"console errors on {label} ({page.url}):\n" + "\n".join(page.problems)


# --- Test A: MFA enrolment -------------------------------------------------------------------

def test_mfa_enrolment_journey(live, context):
    person = live.users.enrolling
    page = open_page(context)
    sign_in(page, person)

    expect(page).to_have_url(re.compile(r"/sign-in/set-up-authenticator$"))
    expect_heading(page, "Set up your authenticator app")
    secret = "".join(page.locator("#totp-secret").inner_text().split())
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    totp = pyotp.TOTP(secret)
    page.get_by_label("Security code").fill(totp.now())
    page.get_by_role("button", name="Confirm and sign in").click()

    expect(page).to_have_url(f"{live.url}/")
    expect_heading(page, "Your panels")
    expect(page.get_by_role("heading", name=live.panel_name)).to_be_visible()

    page.locator("header").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live.url}/sign-in")
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    assert page.goto("/").url == f"{live.url}/sign-in", "home page still reachable after signing out"

    # The code from enrolment cannot be used again (same time step), so take the next step's code.
    sign_in(page, person, code=totp.at(time.time() + 30))
    expect(page).to_have_url(f"{live.url}/")
    expect_heading(page, "Your panels")
    assert not page.problems, "\n".join(page.problems)

    from marac.extensions import db
    from marac.users.models import User

    with live.app.app_context():
        user = db.session.get(User, person.id)
        assert user.totp_secret == secret and user.totp_enrolled_at is not None


# --- Test B: accessibility -------------------------------------------------------------------

def test_axe_runs_despite_the_content_security_policy(live, context):
    """The CSP refuses an injected <script> without the nonce, but page.evaluate still runs axe."""
    page = open_page(context)
    response = visit(page, "/sign-in")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp
    with pytest.raises(PlaywrightError, match="Content Security Policy"):
        page.add_script_tag(content="window.injectedByTag = true;")
    assert page.evaluate("window.injectedByTag === true") is False, "an inline script without the nonce ran"
    assert page.evaluate("document.body.classList.contains('js-enabled')"), "the page's nonced script did not run"
    assert axe_violations(page) == []
    # axe really checks this page: an unlabelled field added to it is reported.
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=text id=probe>')")
    assert "label" in {v["id"] for v in axe_violations(page)}


def test_sign_in_pages_are_accessible(live, context):
    page = open_page(context)
    visit(page, "/sign-in")
    assert_accessible(page, "the sign-in page")

    submit_empty(page, "Sign in")
    assert_accessible(page, "the sign-in page with errors")

    page.get_by_label("Email address").fill(live.users.rep.email)
    page.get_by_label("Password", exact=True).fill(helpers.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect_heading(page, "Enter your security code")
    assert_accessible(page, "the security code page")

    submit_empty(page, "Continue")
    assert_accessible(page, "the security code page with errors")

    page.get_by_label("Security code").fill(unused_code(live, live.users.rep))
    page.get_by_role("button", name="Continue").click()
    expect_heading(page, "Your panels")
    assert_accessible(page, "the home page of a panel representative")


def test_enrolment_page_is_accessible(live, context):
    page = open_page(context)
    sign_in(page, live.users.unenrolled)
    expect_heading(page, "Set up your authenticator app")
    assert_accessible(page, "the MFA enrolment page")

    submit_empty(page, "Confirm and sign in")
    assert_accessible(page, "the MFA enrolment page with errors")


@pytest.fixture(scope="module")
def admin_page(browser, live):
    """One signed-in administrator's tab, shared by the admin page tests."""
    yield from signed_in_tab(browser, live, live.users.admin)


@pytest.fixture
def admin(admin_page):
    return without_problems(admin_page)


ADMIN_PAGES = {
    "home": lambda s: "/",
    "agencies": lambda s: "/admin/agencies/",
    "agency-new": lambda s: "/admin/agencies/new",
    "agency-edit": lambda s: f"/admin/agencies/{s.police_id}/edit",
    "users": lambda s: "/admin/users/",
    "users-filtered": lambda s: f"/admin/users/?agency={s.police_id}",
    "user-new": lambda s: "/admin/users/new",
    "user-detail": lambda s: f"/admin/users/{s.users.rep.id}",
    "user-edit": lambda s: f"/admin/users/{s.users.rep.id}/edit",
    "user-deactivate": lambda s: f"/admin/users/{s.users.rep.id}/deactivate",
    "user-deactivate-self": lambda s: f"/admin/users/{s.users.admin.id}/deactivate",
    "user-reset-password": lambda s: f"/admin/users/{s.users.rep.id}/reset-password",
    "user-reset-mfa": lambda s: f"/admin/users/{s.users.rep.id}/reset-mfa",
    "panels": lambda s: "/admin/panels/",
    "panel-new": lambda s: "/admin/panels/new",
    "panel-overview": lambda s: f"/panels/{s.panel_id}",
    "panel-edit": lambda s: f"/admin/panels/{s.panel_id}/edit",
    "panel-add-member": lambda s: f"/admin/panels/{s.panel_id}/members/new",
    "panel-add-role": lambda s: f"/admin/panels/{s.panel_id}/roles/new",
    "panel-remove-member": lambda s: f"/admin/panels/{s.panel_id}/members/{s.member_id}/remove",
    "panel-remove-role": lambda s: f"/admin/panels/{s.panel_id}/roles/{s.rep_role_id}/remove",
    "audit": lambda s: "/admin/audit/",
    "audit-bad-dates": lambda s: ("/admin/audit/?date_from-day=1&date_from-month=2&date_from-year=2024"
                                  "&date_to-day=1&date_to-month=1&date_to-year=2024"),
    "account": lambda s: "/account",
    "account-password": lambda s: "/account/password",
    "account-emails": lambda s: "/account/emails",
}


@pytest.mark.parametrize("name", list(ADMIN_PAGES))
def test_admin_page_is_accessible(live, admin, name):
    visit(admin, ADMIN_PAGES[name](live))
    assert_accessible(admin, name)


FORMS_WITH_ERRORS = {
    "agency-new": ("/admin/agencies/new", "Save agency"),
    "user-new": ("/admin/users/new", "Save user"),
    "panel-new": ("/admin/panels/new", "Save panel"),
    "panel-add-member": (None, "Add agency"),
    "panel-add-role": (None, "Add role"),
    "account-password": ("/account/password", "Change password"),
}


@pytest.mark.parametrize("name", list(FORMS_WITH_ERRORS))
def test_admin_form_with_errors_is_accessible(live, admin, name):
    path, button = FORMS_WITH_ERRORS[name]
    visit(admin, path or ADMIN_PAGES[name](live))
    submit_empty(admin, button)
    assert_accessible(admin, f"{name} with errors")


def test_confirmation_pages_are_accessible(live, admin):
    """Pages shown after a change: a success banner, and a new user's one-time password."""
    visit(admin, f"/admin/agencies/{live.spare_id}/edit")
    admin.get_by_role("button", name="Save agency").click()
    expect(admin.locator(".govuk-notification-banner")).to_be_visible()
    assert_accessible(admin, "the agencies page with a success banner")

    visit(admin, "/admin/users/new")
    admin.get_by_label("Full name").fill("Otto Placeholder")
    admin.get_by_label("Work email address").fill("otto@example.org")
    admin.get_by_label("Agency").select_option(label="Placeholder Housing Trust")
    admin.get_by_role("button", name="Save user").click()
    expect(admin.locator("#one-time-password")).to_be_visible()
    assert_accessible(admin, "the one-time password page")


def test_screenshots(live, admin):
    """Screenshots for a person to check the layout; the header's contents are asserted here."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    for name, path in (("home", "/"), ("admin-users", "/admin/users/")):
        visit(admin, path)
        header = admin.locator("header.app-header")
        expect(header).to_contain_text("marac")
        expect(header).to_contain_text(live.app.config["ORGANISATION_NAME"])
        expect(header.locator(".app-marking")).to_have_text("OFFICIAL-SENSITIVE")
        expect(admin.locator(".govuk-header__logotype, .govuk-header__logo, svg.govuk-logo")).to_have_count(0)
        admin.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
        assert (SCREENS / f"{name}.png").stat().st_size > 0


# --- Test C: the meeting cycle in the browser ------------------------------------------------

@pytest.fixture(scope="module")
def manager_page(browser, live):
    yield from signed_in_tab(browser, live, live.users.manager)


@pytest.fixture
def manager(manager_page):
    return without_problems(manager_page)


@pytest.fixture(scope="module")
def rep_page(browser, live):
    yield from signed_in_tab(browser, live, live.users.rep)


@pytest.fixture
def rep(rep_page):
    return without_problems(rep_page)


def expect_banner(page, text):
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(text)


def test_manager_walks_a_whole_meeting(live, manager):
    m = live.meetings
    page = manager
    visit(page, f"/panels/{live.panel_id}/meetings")
    from marac.core.timeutil import utcnow

    today = utcnow().date()
    page.get_by_role("link", name=f"{today:%a} {today.day} {today:%b %Y}", exact=True).click()
    expect(page).to_have_url(f"{live.url}/meetings/{m.walk}")

    # The agenda: published for the member agencies.
    page.get_by_role("link", name="Build the agenda").click()
    expect(page.get_by_role("heading", name="Listed (2)")).to_be_visible()
    page.get_by_role("button", name="Publish the agenda").click()
    expect_banner(page, "Agenda published")
    page.get_by_role("link", name="Back to the meeting").click()

    # The register: open, add an attendee, record her confidentiality agreement.
    page.get_by_role("link", name="Open the meeting").click()
    expect_heading(page, "Register and confidentiality")
    page.get_by_role("button", name="Open the meeting").click()
    expect(page.get_by_text("Case discussion cannot start: Record who is present.")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Rita Placeholder")
    page.get_by_label("Role (optional)").fill("IDVA")
    page.get_by_label("Attending for").select_option(label=live.idva_name)
    page.get_by_role("button", name="Add to the register").click()
    expect(page.get_by_text("Record the confidentiality agreement of Rita Placeholder")).to_be_visible()
    assert_accessible(page, "the register with an agreement to record")
    page.get_by_role("button", name="Record agreement of Rita Placeholder").click()
    expect(page.get_by_text("Everyone present has agreed to the confidentiality statement.")).to_be_visible()
    page.get_by_role("link", name="Go to the cases").click()

    # The hearing: an action, then the risk summary and minute.
    page.get_by_role("link", name=f"Hear {m.walk_case}").click()
    expect_heading(page, m.walk_case)
    expect(page.get_by_text("Invented: review the safety plan with her")).to_be_visible()  # from the last hearing
    page.get_by_label("Owner agency").select_option(label=live.idva_name)
    page.get_by_label("Action", exact=True).fill("Invented: arrange a home visit")
    page.get_by_label("Named person (optional)").fill("Rita Placeholder")
    page.get_by_role("button", name="Add action").click()
    expect_banner(page, "Action added.")
    expect(page.locator("ul.govuk-list--bullet")).to_contain_text("Invented: arrange a home visit")
    # Heard without a risk summary: an error, accessible.
    page.get_by_label("Heard", exact=True).check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Record the risk summary")
    assert_accessible(page, "the hearing page with an error")
    page.get_by_label("Done", exact=True).check()
    page.get_by_label("Note").fill("Invented: plan reviewed last week")
    page.get_by_label("Risk summary (agreed by the chair)").fill("Invented: risk remains high")
    page.get_by_label("Minute").fill("Invented: the panel discussed the case")
    page.get_by_label("Heard", exact=True).check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect_banner(page, f"{m.walk_case} heard.")
    expect(page).to_have_url(f"{live.url}/meetings/{m.walk}")

    # Close the meeting (confirmed), then finalise the minutes.
    page.get_by_role("link", name="Register and confidentiality").click()
    page.get_by_role("link", name="Close the meeting").click()
    assert_accessible(page, "the close confirmation")
    page.get_by_role("button", name="Close the meeting").click()
    expect_banner(page, "Meeting closed.")
    page.get_by_role("link", name="Register and confidentiality").click()
    expect(page.get_by_text(f"{live.idva_name}: Present")).to_be_visible()
    page.get_by_role("link", name="Back to the meeting").click()
    page.get_by_role("link", name="Finalise minutes").click()
    assert_accessible(page, "the finalise page")
    page.get_by_role("button", name="Finalise and lock the minutes").click()
    expect_banner(page, "Minutes finalised and locked.")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Held, minutes final")
    expect(page.get_by_text("Invented: the panel discussed the case")).to_be_visible()
    page.get_by_role("button", name="Carry unheard cases to the next meeting").click()
    expect_banner(page, "1 case carried to")
    assert not page.problems, "\n".join(page.problems)

    from marac.actions.models import Action, ActionStatus
    from marac.extensions import db
    from marac.meetings.models import ItemStatus, Meeting, MeetingStatus

    with live.app.app_context():
        meeting = db.session.get(Meeting, m.walk)
        assert meeting.status == MeetingStatus.HELD and meeting.minutes_locked
        heard = next(i for i in meeting.items if i.case.reference == m.walk_case)
        assert (heard.status, heard.risk_summary, heard.minute) == (
            ItemStatus.HEARD, "Invented: risk remains high", "Invented: the panel discussed the case")
        agreed = db.session.execute(db.select(Action).where(Action.agenda_item_id == heard.id)).scalar_one()
        assert agreed.description == "Invented: arrange a home visit" and agreed.named_person == "Rita Placeholder"
        reviewed = db.session.get(Action, m.overdue_action)
        assert reviewed.status == ActionStatus.DONE and reviewed.updates[-1].note == "Invented: plan reviewed last week"
        db.session.remove()


def test_representative_records_research_and_completes_an_action(live, rep):
    from marac.meetings.models import LawfulBasis

    m = live.meetings
    page = rep
    visit(page, f"/meetings/{m.research}")
    # the link says how the agency's return stands ("Research: not started for ...")
    page.get_by_role("link", name=re.compile(rf"^Research: not started for {m.research_case}$")).click()
    expect_heading(page, f"Research for {m.research_case}")
    expect(page.get_by_text("Invented: call-out dates")).to_be_visible()  # the police's, shared
    expect(page.get_by_text("Invented: an intelligence report")).to_have_count(0)  # held by the police
    page.get_by_role("button", name="Save research").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say what your agency holds")
    assert_accessible(page, "the research page with errors")
    page.get_by_label("What we hold that is relevant to current risk").fill("Invented: she disclosed threats")
    page.get_by_label("What we will share at the meeting").fill("Invented: the threats, in outline")
    page.get_by_label("Lawful basis for sharing").select_option(LawfulBasis.SAFEGUARDING)
    page.get_by_role("button", name="Save research").click()
    expect_banner(page, "Research saved.")
    page.get_by_role("button", name="Share with the panel").click()
    expect_banner(page, "Your research is now shared with the panel.")
    expect(page.get_by_role("button", name="Share with the panel")).to_have_count(0)

    visit(page, "/actions")
    page.get_by_role("link", name="Invented: send the court support leaflet").click()
    expect_heading(page, f"Action for {live.idva_name}")
    page.get_by_label("Completed").check()
    page.get_by_label("Note", exact=True).fill("Invented: leaflet sent by post")
    page.get_by_role("button", name="Save update").click()
    expect_banner(page, "Action updated.")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Done")
    expect(page.get_by_text("Invented: leaflet sent by post")).to_be_visible()
    assert not page.problems, "\n".join(page.problems)

    from marac.actions.models import Action, ActionStatus
    from marac.extensions import db
    from marac.meetings.models import AgendaItem

    with live.app.app_context():
        assert db.session.get(Action, m.rep_action).status == ActionStatus.DONE
        item = db.session.get(AgendaItem, m.research_item)
        mine = next(r for r in item.returns if r.relevant == "Invented: she disclosed threats")
        assert mine.is_shared and mine.lawful_basis == LawfulBasis.SAFEGUARDING
        db.session.remove()


MANAGER_MEETING_PAGES = {
    "meetings-index": lambda s: f"/panels/{s.panel_id}/meetings",
    "meeting-in-progress": lambda s: f"/meetings/{s.meetings.live}",
    "meeting-held": lambda s: f"/meetings/{s.meetings.past}",
    "agenda": lambda s: f"/meetings/{s.meetings.research}/agenda",
    "register": lambda s: f"/meetings/{s.meetings.live}/register",
    "register-held": lambda s: f"/meetings/{s.meetings.past}/register",
    "hearing": lambda s: f"/agenda-items/{s.meetings.live_item}/hearing",
    "hearing-held": lambda s: f"/agenda-items/{s.meetings.past_item}/hearing",
    "research-grid": lambda s: f"/meetings/{s.meetings.research}/research",
    "research-as-manager": lambda s: f"/agenda-items/{s.meetings.research_item}/research",
    "panel-actions": lambda s: f"/panels/{s.panel_id}/actions",
    "action-with-chase": lambda s: f"/actions/{s.meetings.soon_action}",
    "action-closed": lambda s: f"/actions/{s.meetings.overdue_action}",
    "schedule": lambda s: f"/panels/{s.panel_id}/meetings/schedule",
    "meeting-new": lambda s: f"/panels/{s.panel_id}/meetings/new",
    "meeting-move": lambda s: f"/meetings/{s.meetings.research}/edit",
    "meeting-cancel": lambda s: f"/meetings/{s.meetings.research}/cancel",
    "finalise-refused": lambda s: f"/meetings/{s.meetings.live}/finalise",
    "close-confirm": lambda s: f"/meetings/{s.meetings.live}/close",
    "register-correct": lambda s: f"/attendees/{s.meetings.live_attendee}/correct",
    "register-remove": lambda s: f"/attendees/{s.meetings.live_attendee}/remove",
    "action-correct": lambda s: f"/hearing-actions/{s.meetings.live_action}/correct",
    "action-remove": lambda s: f"/hearing-actions/{s.meetings.live_action}/remove",
    "amend": lambda s: f"/agenda-items/{s.meetings.past_item}/amend",
    "minutes": lambda s: f"/meetings/{s.meetings.past}/minutes",
    "case-with-its-story": lambda s: f"/cases/{s.meetings.past_case}",
    "case-close": lambda s: f"/cases/{s.meetings.waiting_case}/close",
    "panel-actions-filtered": lambda s: f"/panels/{s.panel_id}/actions?status=overdue&due_to-day=31&due_to-month=2",
    "manager-home": lambda s: "/",
}


@pytest.mark.parametrize("name", list(MANAGER_MEETING_PAGES))
def test_meeting_page_is_accessible(live, manager, name):
    visit(manager, MANAGER_MEETING_PAGES[name](live))
    assert_accessible(manager, name)


REP_MEETING_PAGES = {
    "meeting": lambda s: f"/meetings/{s.meetings.research}",
    "research": lambda s: f"/agenda-items/{s.meetings.research_item}/research",
    "actions": lambda s: "/actions",
    "actions-all": lambda s: "/actions?status=all",
    "action": lambda s: f"/actions/{s.meetings.soon_action}",
    "minutes": lambda s: f"/meetings/{s.meetings.past}/minutes",
    "home": lambda s: "/",
}


@pytest.mark.parametrize("name", list(REP_MEETING_PAGES))
def test_representative_meeting_page_is_accessible(live, rep, name):
    visit(rep, REP_MEETING_PAGES[name](live))
    assert_accessible(rep, f"{name} (representative)")


def test_meeting_forms_with_errors_are_accessible(live, manager):
    visit(manager, f"/panels/{live.panel_id}/meetings/schedule")
    submit_empty(manager, "Create meetings")
    assert_accessible(manager, "the schedule page with errors")
    visit(manager, f"/agenda-items/{live.meetings.past_item}/amend")
    manager.get_by_label("Corrected minute").fill("")
    submit_empty(manager, "Save amendment")
    assert_accessible(manager, "the amend page with errors")
    visit(manager, f"/actions/{live.meetings.soon_action}")
    submit_empty(manager, "Record chase")
    assert_accessible(manager, "the action page with errors")
    visit(manager, f"/meetings/{live.meetings.live}/register")
    submit_empty(manager, "Add to the register")
    assert_accessible(manager, "the register with errors")
    visit(manager, f"/attendees/{live.meetings.live_attendee}/remove")
    submit_empty(manager, "Remove from the register")
    assert_accessible(manager, "the removal page with errors")
    # A weekend date: the warning and the checkbox that confirms it.
    from marac.core.timeutil import utcnow

    saturday = utcnow().date() + timedelta(days=(5 - utcnow().date().weekday()) % 7 + 21)
    visit(manager, f"/meetings/{live.meetings.research}/edit")
    for part, value in (("day", saturday.day), ("month", saturday.month), ("year", saturday.year)):
        manager.locator(f"#meets_on-{part}").fill(str(value))
    manager.get_by_role("button", name="Save meeting").click()
    expect(manager.get_by_label("Hold it on this date anyway")).to_be_visible()
    assert_accessible(manager, "the move page with the weekend warning")


# --- nothing typed is ever lost (issue 12) -------------------------------------------------------

def test_nothing_typed_in_a_live_meeting_is_lost(live, manager):
    """The manager types a minute, adds two actions and a review note on the hearing page, and finds all of
    it still there; every other page with more than one button keeps what is typed too."""
    m = live.meetings
    page = manager

    # The register: a name half typed survives "Everyone present agrees".
    visit(page, f"/meetings/{m.live}/register")
    page.get_by_label("Name", exact=True).fill("Invented Halfway-Typed")
    page.get_by_role("button", name="Everyone present agrees").click()
    expect(page.get_by_text("Everyone present has agreed to the confidentiality statement.").first).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Invented Halfway-Typed")
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / "register-typed-name-kept.png"), full_page=True)
    page.get_by_label("Name", exact=True).fill("")

    # The hearing: a minute, a review note, two actions.
    visit(page, f"/agenda-items/{m.live_item}/hearing")
    page.get_by_label("Risk summary (agreed by the chair)").fill("Invented: risk high, refuge offered")
    page.get_by_label("Minute").fill("Invented: the IDVA shared the refuge referral")
    note = page.get_by_label("Note").first
    note.fill("Invented: refuge has a space next week")
    for text in ("Invented: first action typed live", "Invented: second action typed live"):
        page.get_by_label("Owner agency").select_option(label=live.idva_name)
        page.get_by_label("Action", exact=True).fill(text)
        page.get_by_role("button", name="Add action").click()
        expect_banner(page, "Action added.")
        expect(page.get_by_label("Risk summary (agreed by the chair)")).to_have_value(
            "Invented: risk high, refuge offered")
        expect(page.get_by_label("Minute")).to_have_value("Invented: the IDVA shared the refuge referral")
        expect(page.get_by_label("Note").first).to_have_value("Invented: refuge has a space next week")
        expect(page.get_by_label("Action", exact=True)).to_have_value("")
    agreed = page.locator("ul.govuk-list--bullet")
    expect(agreed).to_contain_text("Invented: first action typed live")
    expect(agreed).to_contain_text("Invented: second action typed live")
    assert_accessible(page, "the hearing after adding actions")
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / "hearing-after-two-actions.png"), full_page=True)
    page.get_by_role("button", name="Save", exact=True).click()
    expect_banner(page, "Hearing saved.")
    expect(page.get_by_label("Minute")).to_have_value("Invented: the IDVA shared the refuge referral")

    # The action page: a progress note half typed survives "Record chase".
    visit(page, f"/actions/{m.soon_action}")
    page.get_by_label("Note", exact=True).fill("Invented: progress half written")
    page.get_by_label("Chase note").fill("Invented: phoned the IDVA service")
    page.get_by_role("button", name="Record chase").click()
    expect_banner(page, "Chase recorded.")
    expect(page.get_by_label("Note", exact=True)).to_have_value("Invented: progress half written")
    expect(page.get_by_text("Invented: phoned the IDVA service")).to_be_visible()
    assert not page.problems, "\n".join(page.problems)

    from marac.actions.models import Action
    from marac.extensions import db
    from marac.meetings.models import AgendaItem

    with live.app.app_context():
        item = db.session.get(AgendaItem, m.live_item)
        assert (item.risk_summary, item.minute) == ("Invented: risk high, refuge offered",
                                                     "Invented: the IDVA shared the refuge referral")
        descriptions = {a.description for a in db.session.execute(
            db.select(Action).where(Action.agenda_item_id == item.id)).scalars()}
        assert {"Invented: first action typed live", "Invented: second action typed live"} <= descriptions
        notes = [u.note for a in db.session.execute(db.select(Action).where(Action.case_id == item.case_id))
                 .scalars() for u in a.updates]
        assert "Invented: refuge has a space next week" in notes
        db.session.remove()


def test_research_typed_then_shared_at_once_is_kept(live, rep):
    """The representative types research and presses "Share with the panel" without saving first (in the
    representative's signed-in tab: signing in again within one TOTP step would find no unused code)."""
    page = rep
    visit(page, f"/agenda-items/{live.meetings.typed_item}/research")
    page.get_by_label("What we hold that is relevant to current risk").fill("Invented: typed and shared at once")
    page.get_by_role("button", name="Share with the panel").click()
    expect_banner(page, "Your research is now shared with the panel.")
    expect(page.get_by_label("What we hold that is relevant to current risk")).to_have_value(
        "Invented: typed and shared at once")


# --- the steering group's statistics ---------------------------------------------------------------

STATS_PAGES = {
    "statistics": lambda s: f"/panels/{s.panel_id}/statistics",
    "statistics-12-months": lambda s: f"/panels/{s.panel_id}/statistics?period=12_months",
    "statistics-settings": lambda s: f"/panels/{s.panel_id}/statistics/settings",
}


@pytest.mark.parametrize("name", list(STATS_PAGES))
def test_statistics_pages_are_accessible(live, manager, name):
    visit(manager, STATS_PAGES[name](live))
    assert_accessible(manager, name)


def test_statistics_charts_have_text_alternatives_and_forms_with_errors_are_accessible(live, manager):
    visit(manager, f"/panels/{live.panel_id}/statistics?period=12_months")
    charts = manager.locator("svg[role=img]")
    assert charts.count() >= 3
    for n in range(charts.count()):
        chart = charts.nth(n)
        labelled = chart.get_attribute("aria-labelledby").split()
        assert all(manager.locator(f"#{ident}").text_content().strip() for ident in labelled)
    # dates that cannot be used: the period form shows its errors, the page still works without script
    manager.get_by_label("Dates you choose").check()
    manager.locator("#start-day").fill("31")
    manager.locator("#start-month").fill("2")
    manager.locator("#start-year").fill("2025")
    manager.get_by_role("button", name="Show the figures").click()
    expect(manager.locator(".govuk-error-summary")).to_contain_text("From must be a real date")
    assert_accessible(manager, "the statistics page with errors")
    visit(manager, f"/panels/{live.panel_id}/statistics/settings")
    manager.get_by_label("Attendance threshold (per cent)").fill("")
    submit_empty(manager, "Save the settings")
    assert_accessible(manager, "the statistics settings with errors")


# --- the disclosure report ---------------------------------------------------------------------------

def test_disclosure_reports_are_accessible(live, manager):
    SCREENS.mkdir(parents=True, exist_ok=True)
    visit(manager, "/disclosures")
    assert_accessible(manager, "the disclosure reports page")
    manager.get_by_label("Case reference").fill(live.meetings.research_case)
    manager.get_by_role("button", name="Show the case's report").click()
    expect_heading(manager, f"Disclosure report of {live.meetings.research_case}")
    expect(manager.locator("table.govuk-table")).to_contain_text("research.shared")
    assert_accessible(manager, "a case's disclosure report")
    manager.screenshot(path=str(SCREENS / "disclosure-report.png"), full_page=True)
    # a date that cannot be: the filter keeps what was typed and says why
    manager.locator("#date_from-day").fill("31")
    manager.locator("#date_from-month").fill("2")
    manager.locator("#date_from-year").fill("2026")
    manager.get_by_role("button", name="Filter").click()
    expect(manager.locator(".govuk-error-summary")).to_contain_text("From must be a real date")
    assert_accessible(manager, "a disclosure report with errors")
    # a person on none of the manager's cases reads as no match
    visit(manager, "/disclosures")
    manager.get_by_label("Full name").fill("Testina Nobody")
    manager.locator("#person-date_of_birth-day").fill("1")
    manager.locator("#person-date_of_birth-month").fill("1")
    manager.locator("#person-date_of_birth-year").fill("1990")
    manager.get_by_role("button", name="Show the person's report").click()
    expect(manager.locator("#no-match")).to_be_visible()
    assert_accessible(manager, "the disclosure reports page, no match")
    visit(manager, "/disclosures")
    submit_empty(manager, "Show the person's report")
    assert_accessible(manager, "the disclosure reports page with errors")
# --- The ASB taskforce's pages -----------------------------------------------------------------

@pytest.fixture(scope="module")
def asb(live):
    """An ASB taskforce managed by the browser's manager (with the police and IDVA as members): an
    accepted case with a step of its ladder, and a Case Review application decided and reviewed."""
    import datetime as dt

    from marac.agencies.models import Agency
    from marac.asb import services as asb_services
    from marac.asb.models import Decision, InterventionOutcome, Rung
    from marac.core.timeutil import today
    from marac.extensions import db
    from marac.panels.models import PanelKind, Role
    from marac.users.models import User

    with live.app.app_context():
        manager = db.session.get(User, live.users.manager.id)
        police = db.session.get(Agency, live.police_id)
        panel = PanelFactory(kind=PanelKind.ASB, name="Testborough ASB Taskforce")
        PanelMemberFactory(panel=panel, agency=police)
        PanelRoleFactory(panel=panel, user=manager, role=Role.MANAGER)
        case = helpers.asb_case(manager, panel, manager, respondents=("Noisy", "Rowdy"))
        day = today()
        asb_services.record_intervention(manager, case, {
            "respondent_number": 1, "rung": Rung.CLOSURE_ORDER, "taken_on": day - dt.timedelta(days=3),
            "agency_id": police.id, "outcome": InterventionOutcome.IN_FORCE, "review_on": day + dt.timedelta(days=20),
            "ends_on": day + dt.timedelta(days=60), "note": "Invented: the flat is closed"})
        application = asb_services.apply(manager, panel, {
            "received_on": day - dt.timedelta(days=20), "complainant_name": "Compa Fakeneighbour",
            "complainant_dob": dt.date(1950, 3, 4), "complainant_contact": "Invented contact", "applicant": None,
            "summary": "Invented application", "is_hate": False, "other_complaints": 2})
        asb_services.acknowledge(manager, application, day - dt.timedelta(days=19), None)
        asb_services.decide(manager, application, Decision.MET, "Invented reason", day - dt.timedelta(days=15), None)
        asb_services.record_review(manager, application, day - dt.timedelta(days=2), "Invented notes", None)
        unacknowledged = asb_services.apply(manager, panel, {
            "received_on": day - dt.timedelta(days=20), "complainant_name": "Other Fakeneighbour",
            "complainant_dob": dt.date(1960, 1, 1), "complainant_contact": None, "applicant": None,
            "summary": None, "is_hate": True, "other_complaints": 0})
        db.session.commit()
        return SimpleNamespace(panel_id=panel.id, case_id=case.id, application_id=application.id,
                               waiting_id=unacknowledged.id)


ASB_PAGES = {
    "the ASB case page with its ladder": lambda a: f"/cases/{a.case_id}",
    "record an intervention": lambda a: f"/cases/{a.case_id}/interventions/new",
    "Case Reviews": lambda a: f"/panels/{a.panel_id}/case-reviews",
    "a Case Review application": lambda a: f"/panels/{a.panel_id}/case-reviews/new",
    "a reviewed application": lambda a: f"/case-reviews/{a.application_id}",
    "an application awaiting acknowledgement": lambda a: f"/case-reviews/{a.waiting_id}",
    "Case Review settings": lambda a: f"/panels/{a.panel_id}/case-reviews/settings",
    "the ASB statistics": lambda a: f"/panels/{a.panel_id}/statistics",
}


@pytest.mark.parametrize("name", list(ASB_PAGES))
def test_asb_pages_are_accessible(live, asb, manager, name):
    visit(manager, ASB_PAGES[name](asb))
    assert_accessible(manager, name)


def test_asb_forms_with_errors_are_accessible(live, asb, manager):
    visit(manager, f"/cases/{asb.case_id}/interventions/new")
    submit_empty(manager, "Record the intervention")
    assert_accessible(manager, "the intervention form with errors")
    visit(manager, f"/panels/{asb.panel_id}/case-reviews/new")
    submit_empty(manager, "Record the application")
    assert_accessible(manager, "the application form with errors")
    visit(manager, f"/case-reviews/{asb.waiting_id}")
    manager.locator("#acknowledge-on-day").fill("")
    submit_empty(manager, "Record the acknowledgement")
    assert_accessible(manager, "an application with an error")
    SCREENS.mkdir(exist_ok=True)
    visit(manager, f"/cases/{asb.case_id}")
    manager.screenshot(path=str(SCREENS / "asb-case.png"), full_page=True)
    visit(manager, f"/case-reviews/{asb.application_id}")
    manager.screenshot(path=str(SCREENS / "asb-case-review.png"), full_page=True)
    visit(manager, f"/panels/{asb.panel_id}/case-reviews")
    manager.screenshot(path=str(SCREENS / "asb-case-reviews.png"), full_page=True)
# --- subject access (last: it adds a case of its own to the panel) ---------------------------

def test_the_manager_answers_a_subject_access_request(live, manager):
    """The request log (empty, then with a request), the request form with its errors, the request,
    the person's cases found and confirmed, the response built, and a correction: each page accessible."""
    import datetime as dt

    from marac.cases import services as cases
    from marac.cases.models import ScreeningDecision
    from marac.core.timeutil import today
    from marac.extensions import db
    from marac.users.models import User
    from tests.test_subjects import marac_answers

    page = manager
    visit(page, "/subject-requests/")
    expect(page.get_by_text("No subject access requests have been recorded")).to_be_visible()
    assert_accessible(page, "the empty request log")
    with live.app.app_context():
        user = db.session.get(User, live.users.manager.id)
        from marac.panels.models import Panel

        case = cases.new_case(user, db.session.get(Panel, live.panel_id))
        cases.save_answers(user, case, marac_answers(first="Browsa"), submit=True)
        cases.screen(user, case, ScreeningDecision.ACCEPT, "", True, None)
        reference = case.reference
        db.session.commit()

    page.get_by_role("link", name="Record a request").click()
    submit_empty(page, "Record the request")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the date the request was received")
    assert_accessible(page, "the request form with errors")
    received = today() - dt.timedelta(days=2)
    page.locator("#received_on-day").fill(str(received.day))
    page.locator("#received_on-month").fill(str(received.month))
    page.locator("#received_on-year").fill(str(received.year))
    page.get_by_label("The person themselves").check()
    page.get_by_label("The requester's identity has been checked").check()
    page.get_by_label("Full name of the person the request is about").fill("Browsa Fakeperson")
    page.locator("#date_of_birth-day").fill("1")
    page.locator("#date_of_birth-month").fill("4")
    page.locator("#date_of_birth-year").fill("1990")
    page.get_by_role("button", name="Record the request").click()
    expect(page.locator("h1")).to_contain_text("SAR-")
    assert_accessible(page, "a subject access request")

    page.get_by_role("link", name="Find the person's cases").click()
    expect(page.get_by_text(reference)).to_be_visible()
    assert_accessible(page, "the person's cases found")
    page.get_by_label(re.compile(reference)).check()
    page.get_by_role("button", name="Confirm these cases").click()
    expect(page.locator("table")).to_contain_text(reference)

    page.get_by_role("button", name="Build the response").click()
    expect(page.get_by_role("heading", name="Response built")).to_be_visible()
    assert_accessible(page, "a response built")
    page.get_by_role("link", name="Back to the request").click()

    page.get_by_role("link", name="Correct their details").click()
    assert_accessible(page, "the correction form")
    page.get_by_label("Last name").fill("Fakecorrected")
    page.get_by_label("Why the details are being corrected").fill("Invented: her passport was seen")
    page.get_by_role("button", name="Correct the details on every case").click()
    expect_banner(page, "Details corrected on 1 case.")
    expect(page.get_by_text("Invented: her passport was seen")).to_be_visible()
    page.screenshot(path=str(Path(os.environ.get("MARAC_SCREENSHOTS", "/tmp")) / "subject-request.png"), full_page=True)
    visit(page, "/subject-requests/")
    assert_accessible(page, "the request log")
    assert not page.problems, "\n".join(page.problems)
# --- MACE: reviews and the registers of persons and locations of concern ----------------------------

@pytest.fixture(scope="module")
def mace_panel(live):
    """A MACE panel the manager manages (made on first use, after the other tests' pages): children's
    cases naming the same person and location of concern, one overdue for review, one reviewed."""
    from marac.agencies.models import AgencyKind
    from marac.core.timeutil import today
    from marac.extensions import db
    from marac.mace import services as mace
    from marac.cases.models import RiskLevel
    from marac.mace.models import ConcernKind, DisruptionTactic
    from marac.panels.models import PanelKind, Role
    from marac.users.models import User
    from tests.mace_cases import mace_case

    with live.app.app_context():
        manager = db.session.get(User, live.users.manager.id)
        panel = PanelFactory(kind=PanelKind.MACE, name="Testborough MACE")
        PanelMemberFactory(panel=panel, agency=AgencyFactory(kind=AgencyKind.POLICE))
        PanelRoleFactory(panel=panel, user=manager, role=Role.MANAGER)
        day = today()
        overdue = mace_case(manager, manager, panel, day - timedelta(weeks=14))
        reviewed = mace_case(manager, manager, panel, day - timedelta(weeks=13), first="Kiddo")
        mace.record_review(manager, reviewed, day - timedelta(days=2), RiskLevel.HIGH, "Invented: two missing episodes",
                           [DisruptionTactic.CAWN, DisruptionTactic.RETURN_HOME_INTERVIEW], "Invented: CAWN served",
                           True)
        entry = mace.register_entries(manager, panel, ConcernKind.PERSON)[0]
        db.session.commit()
        return SimpleNamespace(id=panel.id, overdue=overdue.id, reviewed=reviewed.id,
                               person=entry.entry_id, location=overdue.locations[0].location_id)


MACE_PAGES = {
    "mace-reviews": lambda p: f"/panels/{p.id}/reviews",
    "mace-interval": lambda p: f"/panels/{p.id}/reviews/interval",
    "mace-case": lambda p: f"/cases/{p.reviewed}",
    "mace-review": lambda p: f"/cases/{p.overdue}/reviews/new",
    "mace-persons": lambda p: f"/panels/{p.id}/persons",
    "mace-locations": lambda p: f"/panels/{p.id}/locations",
    "mace-person": lambda p: f"/panels/{p.id}/persons/{p.person}",
    "mace-location": lambda p: f"/panels/{p.id}/locations/{p.location}",
    "mace-unlink": lambda p: f"/panels/{p.id}/persons/{p.person}/cases/{p.overdue}/unlink",
}


@pytest.mark.parametrize("name", list(MACE_PAGES))
def test_mace_pages_are_accessible(live, mace_panel, manager, name):
    visit(manager, MACE_PAGES[name](mace_panel))
    assert_accessible(manager, name)


def test_mace_review_with_errors_is_accessible_and_screenshot(live, mace_panel, manager):
    visit(manager, f"/cases/{mace_panel.overdue}/reviews/new")
    manager.locator("#reviewed_on-day").fill("")
    submit_empty(manager, "Record the review")
    assert_accessible(manager, "the review form with errors")
    visit(manager, f"/panels/{mace_panel.id}/reviews")
    expect(manager.get_by_text("Overdue", exact=True)).to_be_visible()
    Path("/tmp/screens").mkdir(exist_ok=True)
    manager.screenshot(path="/tmp/screens/mace-reviews.png", full_page=True)
    visit(manager, f"/panels/{mace_panel.id}/persons")
    manager.screenshot(path="/tmp/screens/mace-persons.png", full_page=True)
    visit(manager, f"/cases/{mace_panel.reviewed}")
    manager.screenshot(path="/tmp/screens/mace-case.png", full_page=True)
# --- transfers -----------------------------------------------------------------------------------

def test_transfer_pages_are_accessible(live, manager):
    """Receiving a case from another area, and the confirmation before a transfer out, with their errors
    (nothing is transferred: the waiting case stays for the other tests)."""
    from sqlalchemy import select

    from marac.cases.models import Case
    from marac.extensions import db

    visit(manager, f"/panels/{live.panel_id}/transfers/new")
    assert_accessible(manager, "receive a case from another area")
    submit_empty(manager, "Continue to the case details")
    assert_accessible(manager, "receive a case from another area with errors")
    with live.app.app_context():
        case_id = db.session.execute(select(Case.id).where(Case.reference == live.meetings.walk_waiting)).scalar_one()
        db.session.remove()
    visit(manager, f"/cases/{case_id}/transfer")
    expect_heading(manager, "Transfer the case to another area's MARAC?")
    assert_accessible(manager, "the transfer confirmation")
    submit_empty(manager, "Transfer the case")
    assert_accessible(manager, "the transfer confirmation with errors")
