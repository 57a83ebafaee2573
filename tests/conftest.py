"""Fixtures: app (migrated database), a transaction rolled back per test, client, login helper.

The suite runs on SQLite by default and on PostgreSQL when DATABASE_URL is set (as .ci/run does).
"""
import os

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import scoped_session, sessionmaker

from config import TestConfig
from marac import create_app
from marac.core import timeutil
from marac.extensions import db, limiter
# Every model, in the application's order, before tests.helpers imports some: the order in which
# Encrypted.registry lists the encrypted columns, and so key rotation visits them, is then the app's.
import marac.models  # noqa: F401
from tests import helpers


class FreshContextClient(FlaskClient):
    """Runs each request in its own app context, as a real server does, so that `g` (Flask-Login's
    user, Flask-WTF's token) never carries over from the test's context or an earlier request."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = helpers.scratch_database_url("main", tmp_path_factory.mktemp("db"))
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url})
    app.test_client_class = FreshContextClient
    helpers.migrate_fresh(app)
    return app


@pytest.fixture(autouse=True)
def _transaction(request, app):
    """Each test runs inside one outer transaction that is rolled back at the end."""
    if "no_db_transaction" in request.keywords:
        yield None
        return
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                                                  expire_on_commit=False))
        limiter.reset()
        app.extensions["marac_keyring"].forget()
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()
            timeutil.set_offset(None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def clock():
    """Move time forward: clock(minutes=31)."""
    from datetime import timedelta

    total = timedelta()

    def advance(**kwargs):
        nonlocal total
        total += timedelta(**kwargs)
        timeutil.set_offset(total)

    yield advance
    timeutil.set_offset(None)


@pytest.fixture
def world(app):
    """A panel with member agencies, one user per kind of role, a non-member, and an admin."""
    return helpers.build_world()


def pytest_configure(config):
    config.addinivalue_line("markers", "no_db_transaction: the test manages its own database")
    config.addinivalue_line("markers", "browser: drives headless Chromium")


def pytest_report_header(config):
    url = os.environ.get("DATABASE_URL", "")
    return f"database: {'PostgreSQL' if url.startswith('postgresql') else 'SQLite'}"
