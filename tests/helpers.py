"""Test helpers: scratch databases, factories, CSRF-aware form posts and signing in."""
import os
import re
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import flask_migrate
import psycopg
import pyotp
from sqlalchemy import text

from marac.agencies.models import Agency, AgencyKind
from marac.auth.passwords import hash_password
from marac.auth.totp import STEP_SECONDS
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.keys.services import init_keys
from marac.panels.models import Cadence, Panel, PanelKind, PanelMember, PanelRole, Role
from marac.users.models import User

PASSWORD = "correct-horse-battery-staple"


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


# --- factories -------------------------------------------------------------------------------
# Each commits, as a request would: inside a test the commit only releases a savepoint of the
# outer transaction, which is rolled back at the end of the test.

_counter = {"n": 0}


def _next():
    _counter["n"] += 1
    return _counter["n"]


def make_agency(kind=AgencyKind.POLICE, name=None):
    n = _next()
    agency = Agency(name=name or f"Test Agency {n}", short_name=f"TA{n}", kind=kind)
    db.session.add(agency)
    db.session.commit()
    return agency


def make_user(agency=None, *, is_admin=False, mfa=True, must_change_password=False, email=None,
              password=PASSWORD, full_name=None):
    n = _next()
    agency = agency or make_agency()
    user = User(agency_id=agency.id, email=email or f"user{n}@example.org", full_name=full_name or f"Test User {n}",
                password_hash=hash_password(password), is_admin=is_admin,
                must_change_password=must_change_password)
    if mfa:
        user.totp_secret = pyotp.random_base32()
        user.totp_enrolled_at = utcnow()
    db.session.add(user)
    db.session.commit()
    return user


def make_panel(kind=PanelKind.MARAC, **values):
    n = _next()
    fields = dict(kind=kind, name=f"Test Panel {n}", area="Testborough", cadence=Cadence.FORTNIGHTLY, weekday=1,
                  agenda_lead_days=8, capacity=25)
    fields.update(values)
    panel = Panel(**fields)
    db.session.add(panel)
    db.session.commit()
    return panel


def add_member(panel, agency, is_core=True):
    member = PanelMember(panel_id=panel.id, agency_id=agency.id, is_core=is_core)
    db.session.add(member)
    db.session.commit()
    return member


def add_role(panel, user, role):
    panel_role = PanelRole(panel_id=panel.id, user_id=user.id, role=role)
    db.session.add(panel_role)
    db.session.commit()
    return panel_role


def make_case(panel, referrer, status="submitted", referred_on=None, reference=None):
    """A case with a minimal referral and no people, for access tests."""
    import datetime as dt

    from marac.cases.models import Case

    n = _next()
    case = Case(panel_id=panel.id, status=status, referrer_user_id=referrer.id,
                referring_agency_id=referrer.agency_id, referred_on=referred_on or dt.date.today(),
                reference=reference or f"{panel.kind}-2026-{9000 + n}", codes={}, risk_level="high", risk_score=15)
    case.referral = {"referrer_name": "Rita Referrer-Test"}
    db.session.add(case)
    db.session.commit()
    return case


def make_meeting_with_action(panel, case, manager, owner_agency, days_ahead=14):
    """A published meeting listing the case, and an open action on it owned by owner_agency."""
    import datetime as dt

    from marac.meetings import services as meetings

    meeting = meetings.add_meeting(manager, panel, dt.date.today() + dt.timedelta(days=days_ahead), dt.time(10))
    item = meetings.list_case(manager, meeting, case)
    meetings.publish(manager, meeting)
    from marac.actions.models import Action

    action = Action(case_id=case.id, agenda_item_id=item.id, owner_agency_id=owner_agency.id,
                    due_on=dt.date.today() + dt.timedelta(days=7), status="open")
    action.description = "Invented action for tests"
    db.session.add(action)
    db.session.commit()
    return meeting, item, action


def build_world():
    police, idva, council, outsider = (make_agency(AgencyKind.POLICE), make_agency(AgencyKind.IDVA),
                                       make_agency(AgencyKind.OTHER), make_agency(AgencyKind.OTHER))
    panel = make_panel()
    members = [add_member(panel, police), add_member(panel, idva)]
    users = {
        "admin": make_user(council, is_admin=True),
        "manager": make_user(council),
        "chair": make_user(police),
        "representative": make_user(idva),
        "steering": make_user(council),
        "nonmember": make_user(outsider),
    }
    roles = {role.value: add_role(panel, users[role.value], role) for role in Role}  # one user per role, by its value
    case = make_case(panel, users["representative"])
    accepted = make_case(panel, users["representative"], status="accepted")
    meeting, item, action = make_meeting_with_action(panel, accepted, users["manager"], idva)
    return SimpleNamespace(panel=panel, members=members, users=users, roles=roles, case=case, accepted=accepted,
                           meeting=meeting, item=item, action=action,
                           agencies=SimpleNamespace(police=police, idva=idva, council=council, outsider=outsider))


# --- requests --------------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(client, url):
    response = client.get(url)
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({response.status_code})"
    return match.group(1)


def post_form(client, url, data=None, token_from=None):
    """POST a form with a valid CSRF token taken from token_from (default: the same URL)."""
    payload = dict(data or {})
    payload["csrf_token"] = csrf_from(client, token_from or url)
    return client.post(url, data=payload)


def next_code(user):
    """A valid TOTP code for the user that has not been used yet (current step or the next)."""
    user = db.session.get(User, user.id)
    secret, last_step = user.totp_secret, user.totp_last_step
    db.session.commit()  # end the read: on SQLite an open transaction holds the write lock
    totp = pyotp.TOTP(secret)
    now = int(utcnow().timestamp())
    for drift in (0, 1):
        moment = now + drift * STEP_SECONDS
        if last_step is None or totp.timecode(moment) > last_step:
            return totp.at(moment)
    raise AssertionError("no unused TOTP code available within the allowed drift")


def sign_in(client, user, password=PASSWORD):
    """Sign in fully (password, then TOTP code when the user has one). Returns the last response."""
    response = post_form(client, "/sign-in", {"email": user.email, "password": password})
    if response.status_code == 302 and response.headers["Location"].endswith("/sign-in/code"):
        response = post_form(client, "/sign-in/code", {"code": next_code(user)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def session_cookie(client):
    cookie = client.get_cookie("marac_session")
    return cookie.value if cookie else None
