"""Fake people's personal data never reaches the raw database file (WAL included), a pg_dump, the
logs (SQL echo included) or an error page."""
import datetime as dt
import json
import logging
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, text

from config import TestConfig
from marac import create_app
from marac.cases.models import PartyRole
from marac.extensions import db
from marac.panels.models import PanelKind, Role
from tests import helpers
from tests.factories import open_on_its_day
from tests.conftest import FreshContextClient
from tests.referrals import asb_form, date_parts, mace_form, marac_form

# Obviously fake, and unusual enough that a chance match in binary data is impossible.
SECRETS = {
    "victim first name": "Zelphinaquorra",
    "victim last name": "Fakeperson-Xyqt",
    "alias": "Quibblesworth Mocktail",
    "address": "77 Nonexistent Crescent, Fabletown",
    "postcode": "ZZ9 9QX",
    "phone": "07700 900765",
    "narrative": "Sentinel-narrative-Vrooblax",
    "young person": "Youngoblinx",
    "complainant": "Complainatrix",
}
DOB = dt.date(1987, 6, 13)
DOB_FORMS = ["1987-06-13", "13/06/1987", "13 June 1987"]


def needles():
    return list(SECRETS.values()) + DOB_FORMS


def post_fake_referrals(client, world):
    panel = world.panel
    data = marac_form(first=SECRETS["victim first name"], last=SECRETS["victim last name"], dob=DOB,
                      aliases=SECRETS["alias"], postcode=SECRETS["postcode"])
    data.update({"victim-address": SECRETS["address"], "victim-phone": SECRETS["phone"],
                 "recent_incident": SECRETS["narrative"]})
    response = helpers.post_form(client, f"/panels/{panel.id}/referrals/new", data)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def scan(blob, label):
    for needle in needles():
        for encoding in ("utf-8", "utf-16-le"):
            assert needle.encode(encoding) not in blob, f"{label} contains a fake person's data"
            assert needle.lower().encode(encoding) not in blob.lower(), f"{label} contains a fake person's data"


@pytest.fixture
def live_world(tmp_path):
    """A separate, committed database: the raw file and a dump are only meaningful when data is written."""
    url = helpers.scratch_database_url("leaks", tmp_path)
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url})
    app.test_client_class = FreshContextClient
    helpers.migrate_fresh(app)
    with app.app_context():
        built = helpers.build_world()
        # Plain values: the objects expire when their session ends.
        world = SimpleNamespace(panel=SimpleNamespace(id=built.panel.id), users={
            name: SimpleNamespace(id=user.id, email=user.email) for name, user in built.users.items()})
        panel_id = built.panel.id
        db.session.remove()
    yield app, world, url, panel_id
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.no_db_transaction
def test_database_logs_and_pages_hold_no_plaintext(live_world, caplog):
    app, world, url, panel_id = live_world
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # SQL echo, with parameters
    app.config["LOG_REQUESTS"] = True  # production's line per request, through production's JSON handler
    json_logs = helpers.json_log_lines()
    json_lines = json_logs.__enter__()
    try:
        client = app.test_client()
        with app.app_context():  # closed at once: on SQLite an open transaction holds the write lock
            helpers.sign_in(client, world.users["representative"])
        case_url = post_fake_referrals(client, world)
        # The people are there and readable through the app...
        page = client.get(case_url).get_data(as_text=True)
        assert SECRETS["victim first name"] in page and SECRETS["address"] in page
        # ...and searchable by name and date of birth, and by postcode...
        found = helpers.post_form(client, f"/panels/{panel_id}/cases/search", {
            "name": f'{SECRETS["victim first name"]} {SECRETS["victim last name"]}',
            **date_parts("date_of_birth", DOB)}, token_from="/referrals/mine")
        assert case_url.rsplit("/", 1)[1] in found.get_data(as_text=True)
        by_postcode = helpers.post_form(client, f"/panels/{panel_id}/cases/search", {"postcode": SECRETS["postcode"]},
                                        token_from="/referrals/mine")
        assert case_url.rsplit("/", 1)[1] in by_postcode.get_data(as_text=True)
        lines = json_lines()
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
        json_logs.__exit__(None, None, None)

    # ...but not in the logs, the JSON lines production writes included (a line per request, with its id),
    scan("\n".join(r.getMessage() + repr(r.args) for r in caplog.records).encode(), "the captured logs")
    requests = [line for line in lines if line["logger"] == "marac.request"]
    assert {line["route"] for line in requests} >= {"/panels/<uuid:panel_id>/referrals/new", "/cases/<uuid:case_id>",
                                                    "/panels/<uuid:panel_id>/cases/search"}
    assert all(line["request_id"] for line in requests)
    scan("\n".join(json.dumps(line) for line in lines).encode(), "the JSON log lines")
    # nor in the database as stored.
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        files = [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
        assert Path(f"{path}-wal") in files, "expected a WAL file to check too"
        for file in files:
            scan(file.read_bytes(), file.name)
    else:
        parts = urlsplit(url)
        dump = subprocess.run(["pg_dump", "-h", parts.hostname, "-p", str(parts.port or 5432), "-U",
                               parts.username or "postgres", "--data-only", parts.path.lstrip("/")],
                              check=True, capture_output=True).stdout
        assert b"COPY public.people" in dump
        scan(dump, "pg_dump")


def test_tampered_value_gives_a_generic_error_page_and_an_audit_event(app, client, world, caplog):
    helpers.sign_in(client, world.users["representative"])
    location = post_fake_referrals(client, world)
    case_id = location.rsplit("/", 1)[1]
    with app.app_context():
        # Copy another row's ciphertext over the victim's name: it must not decrypt as someone else.
        rows = db.session.execute(text("SELECT id, first_names FROM people WHERE first_names IS NOT NULL")).all()
        assert len(rows) >= 2
        db.session.execute(text("UPDATE people SET first_names = :v WHERE id = :id"),
                           {"v": rows[1].first_names, "id": rows[0].id})
        db.session.commit()
    caplog.set_level(logging.INFO)
    response = client.get(f"/cases/{case_id}")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in body
    scan(body.encode(), "the error page")
    scan("\n".join(r.getMessage() for r in caplog.records).encode(), "the logs")
    assert any("decryption failed: people.first_names" in r.getMessage() for r in caplog.records)
    [event] = helpers.audit_events("crypto.decrypt_failed")
    assert event.object_type == "people" and event.detail["column"] == "first_names"


def test_other_panels_fake_data_is_encrypted_too(app, client, world):
    """MACE and ASB referrals: names, dates of birth, postcodes and addresses only as ciphertext."""
    mace = helpers.another_panel(world, PanelKind.MACE, agencies=["idva"], roles=[Role.MANAGER])
    asb = helpers.another_panel(world, PanelKind.ASB, agencies=["idva"], roles=[Role.MANAGER])
    helpers.sign_in(client, world.users["representative"])
    assert helpers.post_form(client, f"/panels/{mace.id}/referrals/new",
                             mace_form(first=SECRETS["young person"])).status_code == 302
    assert helpers.post_form(client, f"/panels/{asb.id}/referrals/new",
                             asb_form(first=SECRETS["complainant"])).status_code == 302
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(table.select()).all():
                blob = repr(tuple(row)).encode()
                for needle in (SECRETS["young person"], SECRETS["complainant"], "Pretend Academy",
                               "9 Imaginary Parade", "ZZ3 3ZZ", "Flat 2, Pretend House"):
                    assert needle.encode() not in blob, f"{table.name} holds {needle!r} in plain text"
        assert re.search(f"{PartyRole.YOUNG_PERSON}|{PartyRole.COMPLAINANT}",
                         " ".join(r for (r,) in db.session.execute(text("SELECT role FROM case_parties"))))


# Fake names said at a meeting: an attendee in the register, their role, and an action's named person.
MEETING_SECRETS = {"attendee": "Attendeequorra Fakename", "role": "Sentinel-role-Qwyzzle",
                   "named person": "Namedpersonix Fakeperson"}


@pytest.mark.no_db_transaction
def test_names_at_a_meeting_are_stored_encrypted(live_world, caplog):
    """The register's names and roles and an action's named person: readable through the app, in the
    database file (WAL included), a pg_dump and the SQL echo only as ciphertext."""
    from marac.actions import services as actions
    from marac.actions.models import Action
    from marac.core.timeutil import today
    from marac.meetings import services as meetings
    from marac.meetings.models import Attendee, Meeting
    from marac.users.models import User

    app, world, url, panel_id = live_world
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    try:
        with app.app_context():
            manager = db.session.get(User, world.users["manager"].id)
            meeting = db.session.execute(select(Meeting).where(Meeting.panel_id == panel_id)).scalar_one()
            open_on_its_day(manager, meeting)
            agency_id = meeting.panel.members[0].agency_id
            attendee = meetings.add_attendee(manager, meeting, MEETING_SECRETS["attendee"], MEETING_SECRETS["role"],
                                             agency_id, False)
            meetings.agree_confidentiality(manager, meeting, attendee)
            action = actions.add_action(manager, meeting.items[0], agency_id, "Invented action", meeting.meets_on,
                                        MEETING_SECRETS["named person"])
            db.session.commit()
            attendee_id, action_id = attendee.id, action.id
            db.session.remove()
        with app.app_context():  # read back through the models
            attendee, action = db.session.get(Attendee, attendee_id), db.session.get(Action, action_id)
            assert (attendee.name, attendee.role) == (MEETING_SECRETS["attendee"], MEETING_SECRETS["role"])
            assert action.named_person == MEETING_SECRETS["named person"]
            db.session.remove()
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)

    def scan_for_names(blob, label):
        for needle in MEETING_SECRETS.values():
            for encoding in ("utf-8", "utf-16-le"):
                assert needle.lower().encode(encoding) not in blob.lower(), f"{label} holds {needle!r} in plain"

    scan_for_names("\n".join(r.getMessage() + repr(r.args) for r in caplog.records).encode(), "the captured logs")
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for file in [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]:
            scan_for_names(file.read_bytes(), file.name)
    else:
        parts = urlsplit(url)
        dump = subprocess.run(["pg_dump", "-h", parts.hostname, "-p", str(parts.port or 5432), "-U",
                               parts.username or "postgres", "--data-only", parts.path.lstrip("/")],
                              check=True, capture_output=True).stdout
        assert b"COPY public.attendees" in dump and b"COPY public.actions" in dump
        scan_for_names(dump, "pg_dump")
