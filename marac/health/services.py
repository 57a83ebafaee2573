"""Readiness: the database answers, Redis answers (when REDIS_URL is set), and the schema is at the
head of migrations/. Each check says only "ok" or "failed"; why it failed goes to the log as the
exception's class, never its message or a URL."""
import logging

from alembic.script import ScriptDirectory
from sqlalchemy import text

from marac.extensions import db

OK, FAILED = "ok", "failed"
HEADS = "marac_migration_heads"
log = logging.getLogger("marac.health")


def migration_heads(directory):
    """The head revisions of the migrations in `directory`, read once at start-up (empty if unreadable)."""
    try:
        return frozenset(ScriptDirectory(directory).get_heads())
    except Exception as error:  # a deployment without migrations/ is not ready, not broken
        log.warning("migration heads unreadable (%s)", type(error).__name__)
        return frozenset()


def readiness(app):
    """{check: "ok" | "failed"} for the database, the migrations and (when configured) Redis."""
    checks = {"database": FAILED, "migrations": FAILED}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = OK
        revisions = frozenset(db.session.execute(text("SELECT version_num FROM alembic_version")).scalars())
        heads = app.extensions.get(HEADS)
        checks["migrations"] = OK if heads and revisions == heads else FAILED
    except Exception as error:
        db.session.rollback()
        log.warning("readiness: %s check failed (%s)", "migrations" if checks["database"] == OK else "database",
                    type(error).__name__)
    if app.config.get("REDIS_URL"):
        checks["redis"] = _redis_check(app)
    return checks


def _redis_check(app):
    import redis

    client = app.extensions.get("marac_health_redis")
    if client is None:
        client = redis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=2)
        app.extensions["marac_health_redis"] = client
    try:
        client.ping()
        return OK
    except Exception as error:
        log.warning("readiness: redis check failed (%s)", type(error).__name__)
        return FAILED
