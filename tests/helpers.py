"""Test helpers: scratch databases, the world the tests share, CSRF-aware form posts and signing in,
reading pages with an HTML parser, and reading the database."""
import datetime as dt
import html
import os
import time
from contextlib import contextmanager
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import flask_migrate
import psycopg
import pyotp
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import event, func, select, text

from marac.agencies.models import AgencyKind
from marac.audit.models import AuditEvent
from marac.cases.models import CaseStatus
from marac.auth.totp import STEP_SECONDS
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.keys.services import init_keys
from marac.panels.models import PanelKind, Role
from marac.users.models import User
from tests.factories import (PASSWORD, ActionFactory, AgencyFactory, CaseFactory, MeetingFactory, PanelFactory,
                             PanelMemberFactory, PanelRoleFactory, UserFactory)


# --- databases -------------------------------------------------------------------------------

def scratch_database_url(suffix, tmp_dir):
    """A fresh, empty database: a file under tmp_dir, or `<DATABASE_URL's db>_<suffix>` on PostgreSQL."""
    base = os.environ.get("DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp_dir}/{suffix}.sqlite"
    if not base.startswith("postgresql"):
        raise RuntimeError("DATABASE_URL must be a PostgreSQL URL for the test suite")
    if suffix == "main":
        return base
    parts = urlsplit(base)
    name = f"{parts.path.lstrip('/')}_{suffix}"
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def reset_schema(engine):
    """On PostgreSQL, an empty public schema (a scratch SQLite file starts empty)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))


def migrate_fresh(app):
    """Empty the database, migrate it to head and create the first data key."""
    with app.app_context():
        reset_schema(db.engine)
        flask_migrate.upgrade()
        init_keys()
        db.session.commit()


# --- a world to test in ----------------------------------------------------------------------

def build_world():
    """A panel with two member agencies, a user per kind of role, a non-member and an admin, a referral
    awaiting screening, and an accepted case listed at a published meeting with an action for the IDVA."""
    police, idva = AgencyFactory(kind=AgencyKind.POLICE), AgencyFactory(kind=AgencyKind.IDVA)
    council, outsider = AgencyFactory(kind=AgencyKind.OTHER), AgencyFactory(kind=AgencyKind.OTHER)
    panel = PanelFactory()
    members = [PanelMemberFactory(panel=panel, agency=police), PanelMemberFactory(panel=panel, agency=idva)]
    users = {
        "admin": UserFactory(agency=council, is_admin=True),
        "manager": UserFactory(agency=council),
        "chair": UserFactory(agency=police),
        "representative": UserFactory(agency=idva),
        "steering": UserFactory(agency=council),
        "nonmember": UserFactory(agency=outsider),
    }
    # one user per role, by its value
    roles = {role.value: PanelRoleFactory(panel=panel, user=users[role.value], role=role) for role in Role}
    case = CaseFactory(panel=panel, referrer=users["representative"])
    accepted = CaseFactory(panel=panel, referrer=users["representative"], status=CaseStatus.ACCEPTED)
    meeting = MeetingFactory(panel=panel, manager=users["manager"], cases=[accepted], published=True)
    item = meeting.items[0]
    action = ActionFactory(item=item, owner_agency=idva)
    return SimpleNamespace(panel=panel, members=members, users=users, roles=roles, case=case, accepted=accepted,
                           meeting=meeting, item=item, action=action,
                           agencies=SimpleNamespace(police=police, idva=idva, council=council, outsider=outsider))


def another_panel(world, kind=PanelKind.MARAC, agencies=("police", "idva"),
                  roles=(Role.MANAGER, Role.CHAIR, Role.REPRESENTATIVE), **values):
    """A new panel with these of the world's agencies as members and the world's users in these roles
    (the world has one user per role, named by its value)."""
    panel = PanelFactory(kind=kind, **values)
    for name in agencies:
        PanelMemberFactory(panel=panel, agency=getattr(world.agencies, name))
    for role in roles:
        PanelRoleFactory(panel=panel, user=world.users[role], role=role)
    return panel


# --- requests --------------------------------------------------------------------------------

def csrf_from(client, url):
    """The CSRF token of the first form on the page at url."""
    response = client.get(url)
    field = soup(response).find("input", attrs={"name": "csrf_token", "value": True})
    assert field, f"no CSRF token on {url} ({response.status_code})"
    return field["value"]


def is_form_token(name):
    """Whether a field is the one-time token of a form that makes something (core.forms.OnceForm),
    "form_token" or, in a form with a prefix, "<prefix>-form_token"."""
    return name == "form_token" or name.endswith("-form_token")


def form_tokens(client, url):
    """The tokens a browser posts with a form of the page at url: its CSRF token, and a fresh one-time
    token of each once-only form on it (each GET of a page issues new ones)."""
    response = client.get(url)
    tokens = {}
    for field in soup(response).find_all("input", attrs={"type": "hidden", "value": True}):
        if field.get("name") == "csrf_token" or is_form_token(field.get("name", "")):
            tokens.setdefault(field["name"], field["value"])
    assert "csrf_token" in tokens, f"no CSRF token on {url} ({response.status_code})"
    return tokens


def post_form(client, url, data=None, token_from=None):
    """POST a form as a browser would, with the tokens of the page it is on (token_from, default: the
    same URL): a valid CSRF token and fresh one-time form tokens, unless data gives its own."""
    payload = {**form_tokens(client, token_from or url), **(data or {})}
    return client.post(url, data=payload)


def next_code(user):
    """A valid TOTP code for the user that has not been used yet (current step or the next)."""
    user = db.session.get(User, user.id)
    secret, last_step = user.totp_secret, user.totp_last_step
    db.session.commit()  # end the read: on SQLite an open transaction holds the write lock
    totp = pyotp.TOTP(secret)
    for attempt in range(3):
        now = int(utcnow().timestamp())
        for drift in (0, 1):
            moment = now + drift * STEP_SECONDS
            if last_step is None or totp.timecode(moment) > last_step:
                return totp.at(moment)
        # Signed in twice within one step already (a fast suite): a person would wait for the next code.
        time.sleep(STEP_SECONDS - now % STEP_SECONDS + 0.5)
    raise AssertionError("no unused TOTP code available within the allowed drift")


def sign_in(client, user, password=PASSWORD):
    """Sign in fully (password, then TOTP code when the user has one). Returns the last response."""
    response = post_form(client, "/sign-in", {"email": user.email, "password": password})
    if response.status_code == 302 and response.headers["Location"].endswith("/sign-in/code"):
        response = post_form(client, "/sign-in/code", {"code": next_code(user)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def on_the_day(clock, day, *sessions):
    """Move the clock to 09:30 UTC on `day` (a meeting cannot be opened before its day) and sign each
    (client, user) in again, their sessions having timed out on the way."""
    now = utcnow()
    target = dt.datetime.combine(day, dt.time(9, 30), tzinfo=dt.timezone.utc)
    if target > now:
        clock(seconds=(target - now).total_seconds())
    for client, user in sessions:
        sign_in(client, user)


def signed_in(app, user):
    """A client of its own, signed in as the user."""
    client = app.test_client()
    sign_in(client, user)
    return client


def session_cookie(client):
    """The session token the client holds, or None."""
    cookie = client.get_cookie("marac_session")
    return cookie.value if cookie else None


# --- reading pages ---------------------------------------------------------------------------
# Each takes a response or an HTML string, and reads the HTML with a parser.

def soup(source):
    """The parsed HTML of a response, or of an HTML string."""
    markup = source if isinstance(source, str) else source.get_data(as_text=True)
    return BeautifulSoup(markup, "html.parser")


def page_of(response):
    """The response's HTML with entities decoded, so messages with apostrophes compare as typed."""
    return html.unescape(response.get_data(as_text=True))


def page_text(source):
    """The text a user reads on the page, whitespace collapsed."""
    return " ".join(soup(source).get_text(" ").split())


def title_of(source):
    """The page's <title>."""
    return soup(source).title.get_text()


def text_by_id(source, element_id):
    """The text of the element with this id."""
    element = soup(source).find(id=element_id)
    assert element is not None, f"no element #{element_id}"
    return element.get_text()


def links(source):
    """The href of every link on the page, in order."""
    return [a["href"] for a in soup(source).find_all("a", href=True)]


def input_value(source, name):
    """The value of the first input called name that has one, or None."""
    field = soup(source).find("input", attrs={"name": name, "value": True})
    return field["value"] if field else None


def textarea_value(source, name):
    """The text in the textarea called name, or None."""
    field = soup(source).find("textarea", attrs={"name": name})
    return field.get_text() if field else None


def is_checked(source, name, value):
    """Whether the radio button called name with this value (which must be on the page) is checked."""
    field = soup(source).find("input", attrs={"name": name, "type": "radio", "value": value})
    assert field is not None, f"no radio button {name}={value}"
    return field.has_attr("checked")


def selected_value(source, name):
    """The value of the selected option of the select called name, or None."""
    select_field = soup(source).find("select", attrs={"name": name})
    assert select_field is not None, f"no select {name}"
    option = select_field.find("option", selected=True)
    return option["value"] if option else None


def version_in(source, name="version"):
    """The number in the form field called name (a form's version, for optimistic locking)."""
    value = input_value(source, name)
    assert value is not None and value.isdigit(), f"no {name} number on the page: {value!r}"
    return value


def summary_value(source, label):
    """The text of the value cell of the first summary-list row with this label."""
    for key in soup(source).select("dt.govuk-summary-list__key"):
        if key.get_text(strip=True) == label:
            return key.find_next_sibling("dd", class_="govuk-summary-list__value").get_text()
    raise AssertionError(f"no row {label!r}")


def table_rows(source):
    """Every table row on the page."""
    return soup(source).select("tr.govuk-table__row")


def row_with(source, needle):
    """The one table row whose text contains needle."""
    found = [row for row in table_rows(source) if needle in row.get_text()]
    assert len(found) == 1, f"{len(found)} rows contain {needle!r}"
    return found[0]


def tags_in(element):
    """(colour, text) of each GOV.UK tag in an element, like ("red", "Overdue"); colour None when plain."""
    found = []
    for tag in element.select("strong.govuk-tag"):
        colours = [name.removeprefix("govuk-tag--") for name in tag["class"] if name.startswith("govuk-tag--")]
        found.append((colours[0] if colours else None, tag.get_text()))
    return found


# --- the database ----------------------------------------------------------------------------

def fresh(model, object_id):
    """The object as stored now, read again from the database."""
    db.session.expire_all()
    return db.session.get(model, object_id)


def row_count(model, *where):
    """How many rows of the model match the conditions."""
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def audit_events(action, object_id=None):
    """The audit events of this action (and object), oldest first."""
    statement = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
    if object_id is not None:
        statement = statement.where(AuditEvent.object_id == str(object_id))
    return db.session.execute(statement).scalars().all()


# --- PDF documents ---------------------------------------------------------------------------

def pdf_pages_text(pdf_bytes):
    """The extracted text of each page of a PDF, in order (pypdf: what a reader's copy-paste gets)."""
    import io

    import pypdf

    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf_bytes)).pages]


def pdf_text(pdf_bytes):
    """The extracted text of a whole PDF, pages separated by form feeds."""
    return "\f".join(pdf_pages_text(pdf_bytes))


def pdf_ua_failures(pdf_bytes):
    """PDF/UA-1 failures found by page-validation, as "rule: message" strings; [] when compliant."""
    import page

    report = page.validate_pdf_bytes(pdf_bytes, profile=page.ValidationProfile.PDF_UA_1)
    failures = [f"{failure.rule_id}: {failure.message}" for failure in report.failures]
    if not report.is_compliant and not failures:
        failures.append("not compliant (no failure listed)")
    return failures


# --- the ASB taskforce's work ----------------------------------------------------------------

def asb_answers(first="Compa", last="Fakeneighbour", dob="1950-03-04", on=None, respondents=("Noisy",), yes=8,
                aliases=""):
    """The answers of an ASB referral (as the referral form gives them): a complainant, respondents
    named "<first> Fakerespondent", an address, and `yes` vulnerability answers of yes (8: high
    priority, 1 working day; 4: medium, 3; fewer: standard, 10)."""
    from marac.cases import questions
    from marac.core.timeutil import today
    from marac.people.models import LocationKind, YesNoUnknown

    on = on or today()
    return {
        "referrer_name": "Rita Referrer-Test", "referrer_role": "Housing officer", "referrer_contact": "0207 000 0001",
        "referred_on": on.isoformat(),
        "complainant": {"first_names": first, "last_name": last, "aliases": aliases, "date_of_birth": dob,
                        "postcode": "ZZ4 4ZZ"},
        "respondents": [{"first_names": name, "last_name": "Fakerespondent"} for name in respondents],
        "locations": [{"kind": LocationKind.ADDRESS, "address": "Flat 2, Pretend House", "postcode": "ZZ5 5ZZ"}],
        "categories": [questions.AsbCategory.NOISE], "description": "Invented behaviour for testing.",
        "vulnerability": {key: YesNoUnknown.YES if n < yes else YesNoUnknown.NO
                          for n, (key, _) in enumerate(questions.ASB_QUESTIONS)},
        "needs": [], "interventions": [], "complaints_6_months": 3,
    }


def asb_case(referrer, panel, manager=None, **answers):
    """An ASB referral sent through the service (accepted by `manager` when one is given)."""
    from marac.cases import services
    from marac.cases.models import ScreeningDecision

    case = services.new_case(referrer, panel)
    services.save_answers(referrer, case, asb_answers(**answers), submit=True)
    if manager is not None:
        services.screen(manager, case, ScreeningDecision.ACCEPT, "", True, None)
    return case


def asb_world_of(world):
    """The ids of the world's ASB taskforce (made on first use): the world's police and IDVA as members,
    its users in every role, an accepted case with two respondents and a step of the ladder by the IDVA
    (the representative's agency), and a Case Review application decided, reviewed, with a
    recommendation, under saved settings."""
    import datetime as dt

    from marac.asb import services as asb
    from marac.asb.models import Decision, InterventionOutcome, Rung
    from marac.core.timeutil import today

    from marac.agencies.models import Agency

    if hasattr(world, "asb"):
        return world.asb
    # Read afresh: the world's objects may be detached by the requests made before this.
    users = {kind: db.session.get(User, user.id) for kind, user in world.users.items()}
    police, idva = (db.session.get(Agency, a.id) for a in (world.agencies.police, world.agencies.idva))
    panel = PanelFactory(kind=PanelKind.ASB)
    for agency in (police, idva):
        PanelMemberFactory(panel=panel, agency=agency)
    for role in Role:
        PanelRoleFactory(panel=panel, user=users[role.value], role=role)
    manager, rep = users["manager"], users["representative"]
    case = asb_case(rep, panel, manager, respondents=("Noisy", "Rowdy"))
    day = today()
    step = asb.record_intervention(rep, case, {
        "respondent_number": 1, "rung": Rung.CPW, "taken_on": day - dt.timedelta(days=10),
        "agency_id": idva.id, "outcome": InterventionOutcome.IN_FORCE, "review_on": day,
        "ends_on": None, "note": "Invented warning note"})
    asb.update_settings(manager, panel, {"threshold": 3, "hate_threshold": 1, "window_months": 6,
                                         "acknowledge_days": 5, "decision_days": 10, "review_days": 20})
    application = asb.apply(manager, panel, {
        "received_on": day - dt.timedelta(days=30), "complainant_name": "Compa Fakeneighbour",
        "complainant_dob": dt.date(1950, 3, 4), "complainant_contact": "Invented contact", "applicant": None,
        "summary": "Invented application", "is_hate": False, "other_complaints": 2})
    asb.acknowledge(manager, application, day - dt.timedelta(days=28), None)
    asb.decide(manager, application, Decision.MET, "Invented reason", day - dt.timedelta(days=25), None)
    asb.record_review(manager, application, day - dt.timedelta(days=20), "Invented review notes", None)
    asb.add_recommendation(manager, application, police.id, "Invented recommendation", None)
    db.session.commit()
    # Ids: the objects themselves are detached by the next request.
    world.asb = SimpleNamespace(panel_id=panel.id, case_id=case.id, step_id=step.id, application_id=application.id)
    return world.asb


@contextmanager
def json_log_lines():
    """Every log record written while inside, as the production JSON handler writes it (core/logs.py):
    yields a function that returns the lines parsed so far."""
    import io
    import json
    import logging

    from marac.core.logs import install_logging

    buffer = io.StringIO()
    handler = install_logging("json", stream=buffer)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        logging.getLogger().removeHandler(handler)


REDIS_TEST_URL = os.environ.get("MARAC_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def redis_or_skip():
    """Skip the test when no Redis answers at REDIS_TEST_URL; fail instead with MARAC_REQUIRE_REDIS=1
    (CI starts Redis before the suite and sets it, so that these tests cannot pass by skipping)."""
    import redis

    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as error:
        if os.environ.get("MARAC_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis is not reachable at {REDIS_TEST_URL} ({error}) and MARAC_REQUIRE_REDIS=1")
        pytest.skip(f"Redis is not reachable at {REDIS_TEST_URL} ({error}); CI runs this test with Redis")


@contextmanager
def counting():
    """Count the SQL statements sent to the database inside the block: yields a list holding them."""
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        # The session's last-seen time is written once a minute, whatever the page: not the page's cost.
        if not statement.startswith("UPDATE user_sessions"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
