"""Every revision upgrades and downgrades: empty -> head -> base -> head, on SQLite and PostgreSQL."""
import contextlib

import flask_migrate
import pytest
from sqlalchemy import inspect, select, text

from config import TestConfig
from marac import create_app
from marac.extensions import db
from tests.helpers import reset_schema, scratch_database_url


@contextlib.contextmanager
def migrated(name, tmp_path):
    """Inside the block: the app context of a scratch database (named `name`) migrated from empty to head."""
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": scratch_database_url(name, tmp_path)})
    with app.app_context():
        reset_schema(db.engine)
        flask_migrate.upgrade()
        try:
            yield
        finally:
            db.engine.dispose()


@pytest.mark.no_db_transaction
def test_upgrade_downgrade_upgrade(tmp_path):
    with migrated("migrations", tmp_path):
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "agencies", "panels", "audit_events", "data_keys", "user_sessions"} <= tables
        assert set(db.metadata.tables) <= tables, "a model table has no migration"
        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT seq FROM audit_chain_head WHERE id = 1")).scalar_one() == 0


@pytest.mark.no_db_transaction
def test_a_new_database_is_not_recorded_as_empty_for_the_planner(tmp_path):
    """Migrating an empty database records no planner statistics: statistics of empty tables would have
    PostgreSQL plan the first large transaction (a seed, a test's world) as if the tables stayed empty,
    and a query of seconds takes minutes. An upgrade over existing data does analyse (20261206_0021)."""
    with migrated("nostats", tmp_path), db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            analysed = conn.execute(text("SELECT last_analyze FROM pg_stat_user_tables "
                                         "WHERE relname = 'cases'")).scalar_one()
            assert analysed is None
        else:
            assert conn.execute(text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")).first() is None


@pytest.mark.no_db_transaction
def test_models_match_migrations(tmp_path):
    """Autogenerate finds nothing to add: the models and the revisions agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with migrated("autogen", tmp_path), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert _unspelt(diff) == [], diff


def _unspelt(diff):
    """The differences, less an expression index that both sides have under one name with the same
    plain columns: PostgreSQL gives back its expression in its own spelling (`(status)::text = 'open'::text`
    for `status = 'open'`), so autogenerate reports it removed and added (SQLite's is not compared at all)."""
    def plain(index):
        return [getattr(e, "name", None) for e in index.expressions]

    removed = {d[1].name: d[1] for d in diff if isinstance(d, tuple) and d[0] == "remove_index"}
    added = {d[1].name: d[1] for d in diff if isinstance(d, tuple) and d[0] == "add_index"}
    same = {name for name in removed.keys() & added.keys()
            if plain(removed[name]) == plain(added[name]) and None in plain(added[name])}
    return [d for d in diff if not (isinstance(d, tuple) and d[0] in ("add_index", "remove_index")
                                    and d[1].name in same)]


@pytest.mark.no_db_transaction
def test_case_owned_records_split_the_rows_cases_shared(tmp_path):
    """Before 20261126_0010 a MACE and an ASB case at one address shared one location (the first
    referrer's description), and two MACE cases naming one adult shared one person (the first
    referrer's aliases). The revision gives each case its own rows, rebuilt from its own answers,
    deletes the shared ones and audits each case rebuilt; run again it changes nothing.

    Its data step goes through the app's models, which map the columns of every later revision too, so
    the shared rows are made on a database at head and the revision's step is run on them there (a
    database at the revision before it would be upgraded by the code of that day)."""
    import runpy
    from pathlib import Path

    from sqlalchemy import func, select

    from marac.agencies.models import AgencyKind
    from marac.audit.models import AuditEvent
    from marac.audit.services import verify
    from marac.cases import services
    from marac.cases.forms import referral_form
    from marac.cases.models import Case, CaseLocation, CaseParty, PartyRole
    from marac.core.blind_index import blind_index
    from marac.keys.services import init_keys
    from marac.panels.models import PanelKind
    from marac.people.models import Location, LocationKind, Person
    from tests.factories import AgencyFactory, PanelFactory, PanelMemberFactory, UserFactory
    from tests.referrals import asb_form, mace_form

    revision = Path(__file__).resolve().parent.parent / "migrations/versions/20261126_0010_case_owned_records.py"
    before = runpy.run_path(str(revision))["down_revision"]
    url = scratch_database_url("records", tmp_path)
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url})
    hotspot = {"locations-0-address": "9 Imaginary Parade", "locations-0-postcode": "ZZ3 3ZZ"}

    def referred(user, panel, data):
        with app.test_request_context(method="POST", data=data):
            answers = services.answers_from(referral_form(panel))
        return services.save_answers(user, services.new_case(user, panel), answers, submit=True)

    def poc(case):
        return next(p.person for p in case.parties if p.role == PartyRole.PERSON_OF_CONCERN)

    with app.app_context():
        reset_schema(db.engine)
        flask_migrate.upgrade()
        init_keys()
        db.session.commit()
        agency = AgencyFactory(kind=AgencyKind.POLICE)
        user = UserFactory(agency=agency)
        mace, asb = PanelFactory(kind=PanelKind.MACE), PanelFactory(kind=PanelKind.ASB)
        for panel in (mace, asb):
            PanelMemberFactory(panel=panel, agency=agency)
        first = referred(user, mace, mace_form(**hotspot, **{
            "locations-0-description": "Invented trafficking premises",
            "persons_of_concern-0-aliases": "Invented Alias-One"}))
        second = referred(user, mace, mace_form(first="Otherkid", last="Fakechild", **hotspot, **{
            "locations-0-description": "Invented second hotspot",
            "persons_of_concern-0-aliases": "Invented Alias-Two"}))
        third = referred(user, asb, asb_form(**hotspot, **{"locations-0-kind": LocationKind.ADDRESS,
                                                           "locations-0-description": "Invented noisy flat"}))
        # Share the rows as the code before this revision did: the first case's location and person.
        for case in (second, third):
            own = case.locations[0].location
            case.locations[0].location = first.locations[0].location
            db.session.flush()
            db.session.delete(own)
        party = next(p for p in second.parties if p.role == PartyRole.PERSON_OF_CONCERN)
        own = party.person
        party.person = poc(first)
        db.session.flush()
        db.session.delete(own)
        db.session.commit()
        ids = (first.id, second.id, third.id)
        index = blind_index("location_address", "9 Imaginary Parade", "ZZ3 3ZZ")
        assert db.session.execute(select(func.count()).select_from(Location)
                                  .where(Location.address_index == index)).scalar_one() == 1
        db.session.remove()

        step = runpy.run_path(str(revision))
        with db.engine.begin() as connection:
            step["_split"](connection, [row.case_id for row in connection.execute(step["SHARED"])])
        first, second, third = (db.session.get(Case, i) for i in ids)
        descriptions = [case.locations[0].location.description for case in (first, second, third)]
        assert descriptions == ["Invented trafficking premises", "Invented second hotspot", "Invented noisy flat"]
        assert len({case.locations[0].location_id for case in (first, second, third)}) == 3
        assert poc(first).aliases == ["Invented Alias-One"] and poc(second).aliases == ["Invented Alias-Two"]
        assert poc(first).id != poc(second).id
        # Nothing left over: every person and location belongs to a case.
        assert db.session.execute(select(func.count()).select_from(Person).where(
            ~Person.id.in_(select(CaseParty.person_id)))).scalar_one() == 0
        assert db.session.execute(select(func.count()).select_from(Location).where(
            ~Location.id.in_(select(CaseLocation.location_id)))).scalar_one() == 0
        rebuilt = db.session.execute(select(AuditEvent.object_id).where(
            AuditEvent.action == "case.records_rebuilt")).scalars().all()
        assert sorted(rebuilt) == sorted(str(i) for i in ids)
        verify()
        kept = {case.id: [p.person_id for p in case.parties] for case in (first, second, third)}
        db.session.remove()

        # Downgrade leaves the data as it is; upgrading again finds nothing shared.
        flask_migrate.downgrade(revision=before)
        flask_migrate.upgrade()
        assert {i: [p.person_id for p in db.session.get(Case, i).parties] for i in ids} == kept


ENCRYPT_NAMES = "20261126_0006"


@pytest.mark.no_db_transaction
def test_encrypting_names_converts_existing_rows_both_ways(tmp_path):
    """Migration 0006 with rows present: downgrading opens the register's names and roles and an action's
    named person into plain columns, upgrading seals them again, and the app reads the same values."""
    from alembic.script import ScriptDirectory

    from marac.actions.models import Action, ActionStatus, ActionUpdate, UpdateKind
    from marac.core.timeutil import utcnow
    from marac.keys.services import init_keys
    from marac.meetings.models import Attendee
    from tests import helpers
    from tests.factories import ActionFactory

    url = scratch_database_url("encrypt_names", tmp_path)
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        reset_schema(db.engine)
        flask_migrate.upgrade()
        init_keys()
        world = helpers.build_world()
        attendee = Attendee(meeting_id=world.meeting.id, agency_id=world.agencies.police.id,
                            name="Migratia Fakename", role="DS, Harbour Road CID")
        silent = Attendee(meeting_id=world.meeting.id, name="Quietus Norole")
        db.session.add_all([attendee, silent])
        named = ActionFactory(item=world.item, owner_agency=world.agencies.idva, named_person="Namedia Fakeperson")
        db.session.add(ActionUpdate(action_id=named.id, user_id=world.users["manager"].id, at=utcnow(),
                                    kind=UpdateKind.CREATED, status=ActionStatus.OPEN))
        ids = {"attendee": attendee.id, "silent": silent.id, "named": named.id, "unnamed": world.action.id}
        db.session.commit()
        db.session.remove()
        before = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config()) \
            .get_revision(ENCRYPT_NAMES).down_revision

        flask_migrate.downgrade(revision=before)
        with db.engine.connect() as conn:
            people = dict(conn.execute(text("SELECT name, role FROM attendees")).all())
            persons = {row[0] for row in conn.execute(text("SELECT named_person FROM actions"))}
        assert people == {"Migratia Fakename": "DS, Harbour Road CID", "Quietus Norole": ""}
        assert persons == {"Namedia Fakeperson", None}

        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            raw = repr(conn.execute(text("SELECT name, role FROM attendees")).all()
                       + conn.execute(text("SELECT named_person FROM actions")).all())
        for plain in ("Migratia", "Harbour Road", "Quietus", "Namedia"):
            assert plain not in raw
        assert (db.session.get(Attendee, ids["attendee"]).name, db.session.get(Attendee, ids["attendee"]).role) \
            == ("Migratia Fakename", "DS, Harbour Road CID")
        assert (db.session.get(Attendee, ids["silent"]).name, db.session.get(Attendee, ids["silent"]).role) \
            == ("Quietus Norole", None)
        assert db.session.get(Action, ids["named"]).named_person == "Namedia Fakeperson"
        assert db.session.get(Action, ids["unnamed"]).named_person is None
        # Nothing else went with the conversion: each action keeps its history.
        assert db.session.execute(text("SELECT count(*) FROM action_updates")).scalar() == 1
        db.session.remove()
        db.engine.dispose()


SOUND_ALIKE = "20261206_0019"


@pytest.mark.no_db_transaction
def test_sound_alike_indexes_are_built_for_existing_names(tmp_path):
    """Migration 0019 with names present: upgrading indexes each existing name (decrypted with the app's
    keys through the migration's connection) exactly as the app does at write time; with no key yet
    for an index, the migration makes one, and the app's search finds the people under it."""
    import datetime as dt

    from alembic.script import ScriptDirectory

    from marac.keys.services import init_keys
    from marac.people.models import PersonName
    from marac.people.services import build_person, sounds_like_condition

    url = scratch_database_url("sound_alike", tmp_path)
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url})
    columns = "sound_year_index, sound_alt_year_index, sound_pa_year_index, sound_ap_year_index, prefix_year_index"
    with app.app_context():
        reset_schema(db.engine)
        flask_migrate.upgrade()
        init_keys()
        for first, last, dob in (("Testina", "Fakeperson", dt.date(1990, 4, 1)), ("Alias", "Onlyname", None)):
            db.session.add(build_person({"first_names": first, "last_name": last, "date_of_birth": dob}))
        db.session.commit()
        with db.engine.connect() as conn:
            written = sorted(conn.execute(text(f"SELECT id, {columns} FROM person_names")).all())
        assert any(row[1] for row in written) and any(row[1] is None for row in written)  # no year: no index
        db.session.remove()
        before = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config()) \
            .get_revision(SOUND_ALIKE).down_revision

        flask_migrate.downgrade(revision=before)
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            assert sorted(conn.execute(text(f"SELECT id, {columns} FROM person_names")).all()) == written

        flask_migrate.downgrade(revision=before)
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM data_keys WHERE purpose IN "
                              "('index:person_sound_year', 'index:person_prefix_year')"))
        flask_migrate.upgrade()
        app.extensions["marac_keyring"].forget()
        found = db.session.execute(select(PersonName.person_id).where(
            sounds_like_condition("Testeena Fakepersun", 1990))).scalars().all()
        assert len(found) == 1
        assert db.session.execute(text("SELECT COUNT(*) FROM data_keys WHERE purpose = 'index:person_sound_year'")
                                  ).scalar() == 1
        db.session.remove()


@pytest.mark.no_db_transaction
def test_cases_already_accepted_wait_as_they_did_after_the_awaits_hearing_revision(tmp_path):
    """20261207_0024 with cases present: an accepted case with no hearing waits, an accepted case a
    meeting heard does not, nor a closed one, and a case heard, closed and reopened since waits (the list
    before the revision left it out); downgraded and upgraded again, the same."""
    import datetime as dt
    import uuid

    from marac.cases.models import CaseStatus, ClosureOutcome
    from marac.cases.services import close_case, reopen_case
    from marac.core.timeutil import utcnow
    from marac.keys.services import init_keys
    from tests.factories import AgendaItemFactory, CaseFactory, HeldMeetingFactory, PanelFactory, UserFactory

    url = scratch_database_url("awaits", tmp_path)
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        reset_schema(db.engine)
        flask_migrate.upgrade()
        init_keys()
        panel, referrer = PanelFactory(), UserFactory()
        waiting, heard = (CaseFactory(panel=panel, referrer=referrer, status=CaseStatus.ACCEPTED) for _ in range(2))
        closed = CaseFactory(panel=panel, referrer=referrer, status=CaseStatus.CLOSED)
        AgendaItemFactory(meeting=HeldMeetingFactory(panel=panel), case=heard)
        reopened = CaseFactory(panel=panel, referrer=referrer, status=CaseStatus.ACCEPTED)
        AgendaItemFactory(meeting=HeldMeetingFactory(panel=panel), case=reopened,
                          heard_at=utcnow() - dt.timedelta(days=9))
        db.session.flush()
        manager = UserFactory()
        close_case(manager, reopened, ClosureOutcome.RISK_REDUCED, "")
        reopen_case(manager, reopened, "Invented: a new incident")
        db.session.commit()
        expected = {waiting.id: True, heard.id: False, closed.id: False, reopened.id: True}
        db.session.remove()

        def flags():
            with db.engine.connect() as conn:
                return {uuid.UUID(str(row.id)): bool(row.awaits_hearing) for row in conn.execute(
                    select(text("id"), text("awaits_hearing")).select_from(text("cases")))}

        assert flags() == expected  # kept by the models at head
        flask_migrate.downgrade(revision="20261207_0023")
        assert "awaits_hearing" not in {c["name"] for c in inspect(db.engine).get_columns("cases")}
        flask_migrate.upgrade()
        assert {k: v for k, v in flags().items() if k in expected} == expected  # worked out by the revision
        db.engine.dispose()
