"""Every revision upgrades and downgrades: empty -> head -> base -> head, on SQLite and PostgreSQL."""
import flask_migrate
import pytest
from sqlalchemy import inspect, text

from config import TestConfig
from marac import create_app
from marac.extensions import db
from tests.helpers import reset_schema, scratch_database_url


@pytest.mark.no_db_transaction
def test_upgrade_downgrade_upgrade(tmp_path):
    url = scratch_database_url("migrations", tmp_path)
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        reset_schema(db.engine)
        flask_migrate.upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "agencies", "panels", "audit_events", "data_keys", "user_sessions"} <= tables
        assert set(db.metadata.tables) <= tables, "a model table has no migration"
        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT seq FROM audit_chain_head WHERE id = 1")).scalar_one() == 0
        db.engine.dispose()


@pytest.mark.no_db_transaction
def test_models_match_migrations(tmp_path):
    """Autogenerate finds nothing to add: the models and the revisions agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    url = scratch_database_url("autogen", tmp_path)
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        reset_schema(db.engine)
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        db.engine.dispose()
    assert diff == [], diff


ENCRYPT_NAMES = "20261126_0006_encrypt_names"


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
