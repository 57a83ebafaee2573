"""marac: case coordination for MARAC, MACE and ASB taskforce panels."""
from flask import Flask, session
from sqlalchemy import event
from sqlalchemy.engine import Engine

from config import config_from_environment


def create_app(config=None, overrides=None):
    """Build the application. `config` is a config class (default: from MARAC_ENV)."""
    app = Flask(__name__, template_folder="../templates", static_folder="../static",
                instance_relative_config=True)
    config = config or config_from_environment()
    app.config.from_mapping(config.load())
    app.config.update(overrides or {})
    register_proxies(app)
    register_request_log(app)
    import marac.models  # noqa: F401  (every table on the metadata)
    from sqlalchemy.orm import configure_mappers

    configure_mappers()  # so that models can be built before the first query (ids set at construction)

    register_extensions(app)
    register_security(app)
    register_blueprints(app)
    register_templates(app)
    register_cli(app)
    configure_logging(app)
    return app


def register_proxies(app):
    """Behind TRUSTED_PROXIES reverse proxies, take the client address and scheme from the last that
    many X-Forwarded-For / X-Forwarded-Proto entries (werkzeug's ProxyFix). With 0, the default, the
    headers are ignored: a client cannot choose the address that sign-in limits and the audit see."""
    count = app.config["TRUSTED_PROXIES"]
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


def register_request_log(app):
    """A request id on every request and one log line per request (core/logs.py), registered before
    the other hooks so that its line sees the final status."""
    from marac.core.logs import register_request_log as register

    register(app)


def register_extensions(app):
    from marac.auth.sessions import DatabaseSessionInterface
    from marac.core.crypto import decode_key
    from marac.core.forms import refuse_nameless_fields
    from marac.keys.keyring import KeyRing
    from marac.extensions import csrf, db, limiter, login_manager, migrate

    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config))
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    app.before_request(refuse_nameless_fields)  # before the CSRF check, which reads every field's name
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = None  # sessions are server-side and end on demand
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = None
    app.session_interface = DatabaseSessionInterface()
    app.extensions["marac_keyring"] = KeyRing(decode_key(app.config["MARAC_KEK"]))

    @login_manager.user_loader
    def load_user(user_id):
        import uuid

        from marac.users.models import User

        try:
            user = db.session.get(User, uuid.UUID(user_id))
        except ValueError:
            return None
        return user if user is not None and user.is_active else None


def engine_options(config):
    """SQLAlchemy engine options. PostgreSQL: a pool per process (gunicorn workers are forked before
    the app is made, preload_app off, so no connection crosses a fork), a statement timeout, the
    web's or, under the `flask` command (the RQ worker, retention, key rotation), the longer CLI one,
    custom plans only, and for the web no parallel workers."""
    url = config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 15}}
    import click

    in_cli = click.get_current_context(silent=True) is not None
    timeout = config["CLI_STATEMENT_TIMEOUT_MS"] if in_cli else config["STATEMENT_TIMEOUT_MS"]
    # Every statement planned for its own values (plan_cache_mode): psycopg prepares a statement run
    # five times, and PostgreSQL then settles on a generic plan, blind to which panel, status or
    # page size it is for; for the lists' capped counts such a plan scanned the table (250 ms where
    # the plan for the values takes 9). Re-planning costs a fraction of a millisecond.
    options = f"-c statement_timeout={int(timeout)} -c plan_cache_mode=force_custom_plan"
    if not in_cli:
        # A page's statement runs in one process: starting parallel workers for it (PostgreSQL does for
        # a join over a few thousand rows) costs more than it saves (the home page's overdue actions by
        # agency: 11 ms with two workers, 5 without, at 100,000 cases), and under load the workers only
        # take cores from the other requests. The `flask` commands keep the server's setting.
        options += " -c max_parallel_workers_per_gather=0"
    return {
        "pool_pre_ping": True,
        "pool_size": config["DB_POOL_SIZE"],
        "max_overflow": config["DB_MAX_OVERFLOW"],
        "pool_recycle": config["DB_POOL_RECYCLE"],
        "pool_timeout": config["DB_POOL_TIMEOUT"],
        "connect_args": {"connect_timeout": config["DB_CONNECT_TIMEOUT"], "options": options},
    }


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: WAL, foreign keys on, secure delete, and transactions begun by SQLAlchemy (see _sqlite_begin)."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        # Deleted and overwritten records are zeroed as their space is freed: a case deleted under the
        # retention schedule leaves no ciphertext in the file's free space (retention.services.scrub_files).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    """SQLite transactions take the write lock at once (BEGIN IMMEDIATE): writers queue instead of
    failing on a lock upgrade, and the audit chain head is read under the lock."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def register_security(app):
    from marac.audit.services import record_decryption_failure, record_undeclared_read
    from marac.core.disclosure import disclosure_check
    from marac.core.errors import register_error_handlers
    from marac.core.forms import remember_where_a_form_led
    from marac.core.permissions import enforce_access
    from marac.core.security import remember_client_addr, set_security_headers
    from marac.core.steps import commit_at_edge

    app.before_request(remember_client_addr)
    app.before_request(enforce_access)
    app.after_request(set_security_headers)
    app.after_request(commit_at_edge)
    app.after_request(remember_where_a_form_led)  # after_request hooks run last first: before the commit
    # Registered after commit_at_edge so that it runs before it (after_request runs in reverse):
    # the fallback audit event of an undeclared read is committed with the request.
    app.after_request(disclosure_check(record_undeclared_read))
    register_error_handlers(app, record_decryption_failure)


def register_blueprints(app):
    from marac.actions.routes import bp as actions
    from marac.agencies.routes import bp as agencies
    from marac.asb.routes import bp as asb
    from marac.auditor.routes import bp as auditor
    from marac.auth.routes import bp as auth
    from marac.cases.routes import bp as cases
    from marac.disclosures.routes import bp as disclosures
    from marac.health.routes import bp as health
    from marac.home.routes import bp as home
    from marac.mace.routes import bp as mace
    from marac.meetings.routes import bp as meetings
    from marac.notifications.routes import bp as notifications
    from marac.packs.routes import bp as packs
    from marac.panels.routes import bp as panels
    from marac.retention.routes import bp as retention
    from marac.sharing.routes import bp as sharing
    from marac.stats.routes import bp as stats
    from marac.subjects.routes import bp as subjects
    from marac.transfers.routes import bp as transfers
    from marac.users.routes import bp as users

    for blueprint in (home, auth, agencies, users, notifications, panels, cases, sharing, meetings, actions, asb, mace,
                      packs, transfers, stats, retention, subjects, auditor, disclosures, health):
        app.register_blueprint(blueprint)


def register_templates(app):
    from flask_login import current_user

    from marac.core.enums import vocabularies
    from marac.core.formatting import format_date
    from marac.core.forms import flat_errors
    from marac.core.security import csp_nonce
    from marac.sharing.models import WITHHELD

    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.globals["flat_errors"] = flat_errors
    app.jinja_env.globals.update({enum.__name__: enum for enum in vocabularies()})
    app.jinja_env.globals["WITHHELD"] = WITHHELD
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["labels"] = lambda codes, names: "; ".join(names.get(c, c) for c in codes or [])
    app.jinja_env.autoescape = True

    @app.context_processor
    def inject():
        return {"organisation_name": app.config["ORGANISATION_NAME"], "current_user": current_user,
                "mfa_pending": bool(session.get("mfa_user_id"))}


def register_cli(app):
    from marac.cli import register

    register(app)


def configure_logging(app):
    """Log events by id and code only; request bodies and form values are never logged. JSON lines
    (MARAC_LOG_FORMAT=json, production's default) or text (development, tests): core/logs.py."""
    from flask.logging import default_handler

    from marac.core.logs import install_logging

    install_logging(app.config["LOG_FORMAT"])
    app.logger.removeHandler(default_handler)  # the root logger's handler writes marac's records
