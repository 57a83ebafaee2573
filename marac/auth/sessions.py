"""Server-side sessions in the user_sessions table.

The cookie carries only a random token; the table keys the session by the token's SHA-256. A
session expires after SESSION_IDLE_TIMEOUT without a request and SESSION_ABSOLUTE_TIMEOUT after it
began (sign-in starts a new session). Ending a session deletes its row, so it ends at once.

The session interface runs outside the request's unit of work (Flask opens the session before the
view and saves it after the after_request hooks, commit_at_edge included), so it commits its own
writes to user_sessions. end_sessions, active_sessions and purge_expired are ordinary service
functions: they flush or read, and their caller commits.
"""
import copy
import hashlib
import secrets
import uuid
from datetime import timedelta

from flask import request
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import CallbackDict

from marac.auth.models import UserSession
from marac.core.timeutil import utcnow
from marac.extensions import db

# last_seen_at is written at most this often for an unchanged session, to spare a write per request.
TOUCH_INTERVAL = timedelta(seconds=60)


def token_hash(token):
    """The SHA-256 of a cookie's token, the key of its session row."""
    return hashlib.sha256(token.encode()).hexdigest()


class ServerSession(CallbackDict, SessionMixin):
    """The session's data, its cookie token and (once loaded) its row."""

    def __init__(self, initial=None, token=None, row_created_at=None):
        def on_update(self):
            self.modified = True

        super().__init__(initial, on_update)
        self.token = token
        self.row_created_at = row_created_at
        self.modified = False
        self.regenerate_requested = False

    def regenerate(self):
        """Give this session a new token and a new start time (at sign-in)."""
        self.regenerate_requested = True
        self.modified = True


class DatabaseSessionInterface(SessionInterface):
    """Flask's session interface over user_sessions; commits its own writes (see the module docstring)."""

    def open_session(self, app, request):
        """The session named by the cookie, if it exists and has not timed out; else a new, empty one.
        The paths a blueprint declared sessionless (the health checks) get Flask's null session: no
        read, no row, no cookie."""
        if request.path in app.extensions.get("marac_sessionless_paths", ()):
            return self.make_null_session(app)
        token = request.cookies.get(app.config["SESSION_COOKIE_NAME"])
        if not token or len(token) > 100:
            return ServerSession()
        # The row and its user in one statement: the user stays in the session's identity map (the row
        # holds it), where the user loader (db.session.get) finds it without another query.
        row = db.session.execute(select(UserSession).where(UserSession.token_hash == token_hash(token))
                                 .options(joinedload(UserSession.user))).scalar_one_or_none()
        if row is None:
            return ServerSession()
        now = utcnow()
        if (now - row.last_seen_at > app.config["SESSION_IDLE_TIMEOUT"]
                or now - row.created_at > app.config["SESSION_ABSOLUTE_TIMEOUT"]):
            db.session.delete(row)
            db.session.commit()
            return ServerSession()
        # A deep copy: a value changed in place (Flask appends to the list of flashed messages) must not
        # change the row's stored value too, or saving would see no change and drop it.
        session = ServerSession(copy.deepcopy(row.data), token=token, row_created_at=row.created_at)
        session.row = row
        # Read now: by the time the session is saved the request has committed, and reading the row
        # again would cost a query (or fail, if the session was ended meanwhile).
        session.last_seen_at = row.last_seen_at
        return session

    def save_session(self, app, session, response):
        """Write the session's row (at most every TOUCH_INTERVAL when unchanged) and set or clear the cookie."""
        name = app.config["SESSION_COOKIE_NAME"]
        path = self.get_cookie_path(app)
        row = getattr(session, "row", None)
        now = utcnow()
        if (session and row is not None and not session.regenerate_requested and not session.modified
                and now - session.last_seen_at < TOUCH_INTERVAL):
            return  # nothing to write (most requests): whether the row still exists does not matter
        if row is not None and not _still_exists(row):
            # Ended while this request ran: a signed-in session ended elsewhere (a sign-out in another
            # tab, a deactivation, a password change) stays ended, unless this request signed someone in
            # (a new session in any case). One this request ended itself and emptied of its user (a
            # sign-out, which then says so) goes on as a new anonymous session.
            row = None
            if not session.regenerate_requested and _user_id(session) is not None:
                response.delete_cookie(name, path=path)
                return
        if not session:
            if row is not None:
                db.session.delete(row)
                db.session.commit()
            if session.token:
                response.delete_cookie(name, path=path)
            return
        token = session.token
        if session.regenerate_requested or row is None:
            if row is not None:
                db.session.delete(row)
            token = secrets.token_urlsafe(32)
            row = UserSession(token_hash=token_hash(token), created_at=now, last_seen_at=now,
                              client_addr=request.remote_addr,
                              user_agent=(request.user_agent.string or "")[:200])
            db.session.add(row)
        row.data = dict(session)
        row.user_id = _user_id(session)
        if row.user_id and row.authenticated_at is None:
            row.authenticated_at = now
        row.last_seen_at = now
        db.session.commit()
        if token != session.token:
            response.set_cookie(name, token, httponly=True, path=path,
                                secure=app.config["SESSION_COOKIE_SECURE"],
                                samesite=app.config["SESSION_COOKIE_SAMESITE"])


def _still_exists(row):
    return db.session.execute(
        select(UserSession.token_hash).where(UserSession.token_hash == row.token_hash)
    ).first() is not None


def _user_id(session):
    value = session.get("_user_id")
    return uuid.UUID(value) if value else None


def end_sessions(user_id, keep_token_hash=None):
    """Delete a user's sessions, all or all but one. Returns how many ended."""
    stmt = delete(UserSession).where(UserSession.user_id == user_id)
    if keep_token_hash:
        stmt = stmt.where(UserSession.token_hash != keep_token_hash)
    return db.session.execute(stmt).rowcount


def active_sessions(user_id, app_config):
    """The user's sessions within both time-outs, the most recently used first."""
    now = utcnow()
    rows = db.session.execute(
        select(UserSession).where(UserSession.user_id == user_id).order_by(UserSession.last_seen_at.desc())
    ).scalars().all()
    return [r for r in rows
            if now - r.last_seen_at <= app_config["SESSION_IDLE_TIMEOUT"]
            and now - r.created_at <= app_config["SESSION_ABSOLUTE_TIMEOUT"]]


def purge_expired(app_config):
    """Delete sessions past either time-out (run by `flask sessions purge`)."""
    now = utcnow()
    stmt = delete(UserSession).where(
        (UserSession.last_seen_at < now - app_config["SESSION_IDLE_TIMEOUT"])
        | (UserSession.created_at < now - app_config["SESSION_ABSOLUTE_TIMEOUT"])
    )
    return db.session.execute(stmt).rowcount
