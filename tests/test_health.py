"""/healthz and /readyz (no session, no details), and the database settings of the production stack:
a pool per process and a statement timeout that ends a slow query as the error page."""
import os

import click
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from config import TestConfig
from marac import create_app, engine_options
from marac.auth.models import UserSession
from marac.core.permissions import access
from marac.extensions import db
from marac.health.services import HEADS
from tests.conftest import FreshContextClient
from tests.helpers import sign_in

POSTGRES = pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="PostgreSQL only")


class Statements:
    """Counts the SQL statements sent while inside."""

    def __enter__(self):
        self.count = 0
        event.listen(Engine, "before_cursor_execute", self._seen)
        return self

    def _seen(self, *args):
        self.count += 1

    def __exit__(self, *exc):
        event.remove(Engine, "before_cursor_execute", self._seen)


def probe_app(app, **overrides):
    """Another app on the same database (or another), with these settings."""
    settings = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], **overrides}
    probe = create_app(TestConfig, overrides=settings)
    probe.test_client_class = FreshContextClient
    return probe


def test_healthz_answers_without_a_session_or_the_database(client):
    with Statements() as statements:
        response = client.get("/healthz")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok\n"
    assert "Set-Cookie" not in response.headers
    assert statements.count == 0
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_ready_with_the_database_at_the_migrations_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}
    assert "Set-Cookie" not in response.headers


def test_a_signed_in_browser_gets_no_cookie_and_its_session_is_not_touched(client, world, clock):
    sign_in(client, world.users["manager"])
    [row] = db.session.query(UserSession).filter_by(user_id=world.users["manager"].id).all()
    seen = row.last_seen_at
    clock(minutes=5)  # past the interval after which an ordinary request writes last_seen_at
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code == 200 and "Set-Cookie" not in response.headers, path
    db.session.expire_all()
    assert db.session.get(UserSession, row.token_hash).last_seen_at == seen


@pytest.mark.no_db_transaction  # the test's transaction would answer for the probe's database
def test_readyz_fails_when_the_database_is_unreachable(app, tmp_path):
    probe = probe_app(app, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/db.sqlite")
    response = probe.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "not ready", "checks": {"database": "failed", "migrations": "failed"}}
    assert "Set-Cookie" not in response.headers
    assert "sqlite" not in response.get_data(as_text=True).lower()
    assert probe.test_client().get("/healthz").status_code == 200  # the process is still up


def test_readyz_fails_when_the_schema_is_not_at_the_head(app, client, monkeypatch):
    monkeypatch.setitem(app.extensions, HEADS, frozenset({"20991231_0999"}))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "ok", "migrations": "failed"}


def test_readyz_fails_when_redis_is_unreachable(app):
    probe = probe_app(app, REDIS_URL="redis://127.0.0.1:1/0")
    response = probe.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["redis"] == "failed"
    assert "127.0.0.1" not in response.get_data(as_text=True)


def test_readyz_checks_redis_when_configured(app):
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    response = probe_app(app, REDIS_URL="redis://127.0.0.1:6379/15").test_client().get("/readyz")
    assert response.get_json()["checks"]["redis"] == "ok"


def test_health_checks_are_not_rate_limited(client):
    assert all(client.get("/readyz").status_code == 200 for _ in range(50))


def test_engine_options_pool_and_statement_timeouts():
    config = TestConfig.load()
    config.update(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://db.invalid/marac", STATEMENT_TIMEOUT_MS=15000,
                  CLI_STATEMENT_TIMEOUT_MS=600000, DB_POOL_SIZE=4, DB_MAX_OVERFLOW=2)
    options = engine_options(config)
    assert options["connect_args"]["options"] == ("-c statement_timeout=15000 -c plan_cache_mode=force_custom_plan"
                                                  " -c max_parallel_workers_per_gather=0")
    assert (options["pool_size"], options["max_overflow"], options["pool_pre_ping"]) == (4, 2, True)
    with click.Context(click.Command("jobs")):  # a `flask` command: the RQ worker, retention...
        cli = engine_options(config)["connect_args"]["options"]
        assert cli.startswith("-c statement_timeout=600000 ") and "max_parallel_workers_per_gather" not in cli
    config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///x.sqlite"
    assert "options" not in engine_options(config)["connect_args"]


@POSTGRES
def test_the_statement_timeout_is_set_on_postgresql(app):
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar() == "15s"


@POSTGRES
def test_statements_are_planned_for_their_own_values_on_postgresql(app):
    """psycopg prepares a statement run five times; PostgreSQL must not then switch it to a generic plan
    (a list's capped count went from 9 ms to 250 ms at 100,000 cases when it did)."""
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("SHOW plan_cache_mode")).scalar() == "force_custom_plan"


@POSTGRES
def test_a_page_statement_starts_no_parallel_workers_on_postgresql(app):
    """The Gather of two workers doubled the home page's count of overdue actions (11 ms against 5)."""
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"


@POSTGRES
@pytest.mark.no_db_transaction  # the probe's own connections, with its own timeout
def test_a_query_past_the_timeout_is_the_error_page_not_a_hang(app):
    """Without the timeout the query would sleep its 20 s and the page say "finished"."""
    probe = probe_app(app, STATEMENT_TIMEOUT_MS=300, PROPAGATE_EXCEPTIONS=False)  # as in production

    @access("public")
    def slow():
        db.session.execute(text("SELECT pg_sleep(20)"))
        return "finished"

    probe.add_url_rule("/slow", "slow", slow)
    response = probe.test_client().get("/slow")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Sorry, there is a problem with the service" in body and "finished" not in body
    assert "statement" not in body.lower()
    with probe.app_context():
        db.engine.dispose()
