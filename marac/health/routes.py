"""/healthz and /readyz: public, without a session (no cookie, no session row), not rate-limited."""
from flask import Blueprint, Response, current_app, jsonify

from marac.core.permissions import access
from marac.extensions import limiter
from marac.health import services

bp = Blueprint("health", __name__)
SESSIONLESS = "marac_sessionless_paths"
PATHS = ("/healthz", "/readyz")
limiter.exempt(bp)


@bp.record_once
def _set_up(state):
    """At registration: these paths open no session (auth/sessions.py reads the set), and the
    migrations' head is read once."""
    app = state.app
    app.extensions.setdefault(SESSIONLESS, set()).update(PATHS)
    app.extensions[services.HEADS] = services.migration_heads(app.extensions["migrate"].directory)


@bp.route("/healthz")
@access("public")
def live():
    """The process is up and answering; touches neither the database nor Redis."""
    return Response("ok\n", mimetype="text/plain")


@bp.route("/readyz")
@access("public")
def ready():
    """200 when every check passes, else 503; the body lists each check as ok or failed."""
    checks = services.readiness(current_app)
    ready = all(result == services.OK for result in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503
