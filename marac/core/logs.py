"""Logs as one JSON object a line, a request id on every request, and one line per request.

Each line says when, how bad, which logger and what happened; inside a request it also carries the
request id (the caller's X-Request-ID when it is a plain token, else a new uuid4, echoed in the
response's X-Request-ID header) and, in the request's own line, the method, the route and path, the
status, the time taken and the signed-in user's id. Nothing else about the request is written: no
query string, no form value, no header, no client address. Paths hold only the route's own words and
UUIDs (tests/test_access_matrix.py checks every id in a URL is one); where a route takes free text
(a file name, say), the route's rule is written instead of the path. An exception is written as its
class and the stack's frames, never its message, which might quote data.
"""
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import datetime, timezone

from flask import current_app, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter
from sqlalchemy import inspect as sa_inspect

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's request id is kept only when it is a plain token (a load balancer's uuid, say).
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,128}")
STARTED = "marac.request_started"
request_log = logging.getLogger("marac.request")


class JsonFormatter(_LibraryJsonFormatter):
    """python-json-logger's formatter with this app's fields, the request id inside a request, and
    exceptions without their messages."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        super().__init__(["levelname", "name", "message"], *args, **kwargs)

    def add_fields(self, log_data, record, message_dict):
        """time first (UTC, ISO 8601), then the library's fields, then the request id."""
        log_data["time"] = datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds")
        super().add_fields(log_data, record, message_dict)
        if "request_id" not in log_data and has_request_context():
            log_data["request_id"] = g.get("request_id")

    def formatException(self, exc_info):
        """The exception's class, the classes of its causes (a database driver's error inside
        SQLAlchemy's: QueryCanceled is a statement timeout) and where it was raised (file, line,
        function); never a message."""
        kind, error, tb = exc_info
        chain, seen = [], error
        while seen is not None and len(chain) < 5:
            chain.append(f"{type(seen).__module__}.{type(seen).__qualname__}")
            seen = seen.__cause__ or seen.__context__
        frames = [f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in traceback.extract_tb(tb)]
        return "\n".join([" <- ".join(chain or [f"{kind.__module__}.{kind.__qualname__}"]), *frames])


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def install_logging(log_format, stream=None):
    """Send the root logger's records to `stream` (default stderr) as JSON lines or as text, once per
    process: create_app may run many times, and gunicorn.conf.py may have installed the JSON handler
    already. Text is added only where nothing handles the root logger yet (as logging.basicConfig
    does; under pytest its capture does). marac's own loggers, the request lines included, log from
    INFO, other libraries from WARNING. Returns the handler installed or kept, if any."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "marac", False) or isinstance(h.formatter, JsonFormatter)]
    json_handlers = [h for h in ours if isinstance(h.formatter, JsonFormatter)]
    handler = None
    if log_format == "json" and json_handlers and stream is None:
        handler = json_handlers[0]
    elif log_format == "json" or stream is not None or not root.handlers:
        for old in ours:
            root.removeHandler(old)
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
        handler.marac = True
        root.addHandler(handler)
    else:
        for old in json_handlers:
            root.removeHandler(old)
    if log_format == "json":
        logging.captureWarnings(True)  # a library's warning is a JSON line too, not a bare line on stderr
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
    logging.getLogger("marac").setLevel(logging.INFO)
    return handler


class TimedRequests:
    """WSGI middleware noting when a request arrived, before the session is loaded, so that a request's
    time includes its session's reads and writes."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        environ[STARTED] = time.perf_counter()
        return self.wsgi_app(environ, start_response)


def request_id_of(headers):
    """The caller's X-Request-ID when it is a plain token, else a new uuid4."""
    given = headers.get(REQUEST_ID_HEADER, "")
    return given if SAFE_REQUEST_ID.fullmatch(given) else str(uuid.uuid4())


def begin_request():
    """before_request (registered first): this request's id."""
    g.request_id = request_id_of(request.headers)


def echo_request_id(response):
    """after_request: the request id in the response, and the status for the request's line."""
    if "request_id" not in g:
        begin_request()  # an error before any before_request ran (a 404 from routing, say)
    response.headers[REQUEST_ID_HEADER] = g.request_id
    g.response_status = response.status_code
    return response


def log_request(error=None):
    """teardown_request: one line per request, after the session is saved (with LOG_REQUESTS)."""
    if not current_app.config.get("LOG_REQUESTS"):
        return
    started = request.environ.get(STARTED)
    rule = request.url_rule
    user_id = _signed_in_id(g.get("_login_user"))  # only when the request loaded it: logging must not query
    request_log.info("request", extra={
        "request_id": g.get("request_id"),
        "method": request.method,
        "route": rule.rule if rule is not None else None,
        "path": _loggable_path(rule),
        "status": g.get("response_status", 500),
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "user_id": str(user_id) if user_id else None,
    })


def _signed_in_id(user):
    """The id of the user the request was made by, from its identity key. Not from its attributes: the
    request has committed by now, which expires them, and reading one (`is_authenticated` reads
    `is_active`, even `id`) would read the user's row again, a statement a request."""
    if user is None or user.is_anonymous:
        return None
    identity = sa_inspect(user).identity
    return identity[0] if identity else None


def _loggable_path(rule):
    """The path when every variable part of the route is a UUID (or a number); else the route's rule.
    None when no route matched: an unknown path is whatever the caller typed."""
    if rule is None:
        return None
    kinds = {type(converter).__name__ for converter in rule._converters.values()}
    if kinds <= {"UUIDConverter", "IntegerConverter"}:
        return request.path
    return rule.rule


def register_request_log(app):
    """The request id, its response header and the request's line. Registered before the other hooks:
    after_request hooks run last-registered first, so echo_request_id sees the final status."""
    app.wsgi_app = TimedRequests(app.wsgi_app)
    app.before_request_funcs.setdefault(None, []).insert(0, begin_request)
    app.after_request(echo_request_id)
    app.teardown_request(log_request)
