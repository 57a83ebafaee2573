"""Logs as JSON lines: one line per request with its id (the caller's, when it is a plain token,
echoed in X-Request-ID), the route, status, time and user id, and nothing personal."""
import logging
import uuid

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from marac.core.logs import JsonFormatter, install_logging
from marac.extensions import db
from tests.helpers import json_log_lines, sign_in


@pytest.fixture(autouse=True)
def request_lines_on(app, monkeypatch):
    """Production writes a line per request; the test configuration does not, unless asked."""
    monkeypatch.setitem(app.config, "LOG_REQUESTS", True)


def request_lines(lines):
    return [line for line in lines() if line["logger"] == "marac.request"]


def test_each_request_is_one_json_line_with_its_id(client, world):
    sign_in(client, world.users["manager"])
    with json_log_lines() as lines:
        response = client.get(f"/panels/{world.panel.id}/cases?sort=reference", headers={"X-Request-ID": "lb-1234abcd"})
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "lb-1234abcd"
    [line] = request_lines(lines)
    assert set(line) == {"time", "level", "logger", "message", "request_id", "method", "route", "path", "status",
                         "duration_ms", "user_id"}
    assert line["request_id"] == "lb-1234abcd" and line["level"] == "INFO"
    assert (line["method"], line["status"]) == ("GET", 200)
    assert line["route"] == "/panels/<uuid:panel_id>/cases"
    assert line["path"] == f"/panels/{world.panel.id}/cases"  # never the query string
    assert line["user_id"] == str(world.users["manager"].id)
    assert line["duration_ms"] > 0 and line["time"].endswith("+00:00")


def test_nothing_is_read_after_the_request_commits(client, world):
    """As in production, the request's commit expires what the session loaded: whatever runs after it
    (the request's line names its user, the headers, the session's cookie) must not read the database
    again. Only the session's own row may be written then. The line once read the user's row again
    for its `user_id`: a statement on every signed-in request."""
    user = world.users["manager"]
    db.session.remove()
    db.session.configure(expire_on_commit=True)  # production's setting (the test sessions keep values)
    sign_in(client, user)
    after_commit = []
    committed = []

    def seen(conn, cursor, statement, *args):
        if committed:
            after_commit.append(" ".join(statement.split()))

    def commit(session):
        committed.append(session)

    event.listen(Engine, "before_cursor_execute", seen)
    event.listen(Session, "after_commit", commit)
    try:
        with json_log_lines() as lines:
            response = client.get(f"/panels/{world.panel.id}/cases")  # writes: audit, sharing records
    finally:
        event.remove(Session, "after_commit", commit)
        event.remove(Engine, "before_cursor_execute", seen)
    assert response.status_code == 200 and committed
    # (the savepoints are the test's transaction, which production does not have)
    assert [s for s in after_commit if "user_sessions" not in s and "SAVEPOINT" not in s] == []
    [line] = request_lines(lines)
    assert line["user_id"] == str(user.id)


def test_an_unsafe_request_id_is_replaced(client):
    with json_log_lines() as lines:
        response = client.get("/sign-in", headers={"X-Request-ID": "Testina Fakeperson <b>"})
    given = response.headers["X-Request-ID"]
    assert uuid.UUID(given).version == 4
    [line] = request_lines(lines)
    assert line["request_id"] == given and line["user_id"] is None


def test_an_unknown_path_is_not_logged(client):
    with json_log_lines() as lines:
        assert client.get("/people/Testina-Fakeperson").status_code == 404
    [line] = request_lines(lines)
    assert line["path"] is None and line["route"] is None and line["status"] == 404
    assert "Fakeperson" not in str(lines())


def test_exceptions_are_logged_by_class_and_place_not_message():
    record = logging.LogRecord("marac", logging.ERROR, __file__, 1, "job failed", (), None)
    try:
        raise ValueError("Testina Fakeperson, born 1990")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    text = JsonFormatter().format(record)
    assert "builtins.ValueError" in text and "test_logs.py" in text
    assert "Fakeperson" not in text


def test_install_logging_is_idempotent():
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        first = install_logging("json")
        assert install_logging("json") is first
        assert [h for h in root.handlers if isinstance(h.formatter, JsonFormatter)] == [first]
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
