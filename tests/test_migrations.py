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
