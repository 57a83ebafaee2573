"""Error pages. Each rolls back the request's transaction and says nothing about the data."""
import logging

from flask import render_template
from flask_wtf.csrf import CSRFError

from marac.core.crypto import DecryptionError
from marac.extensions import db

log = logging.getLogger("marac")

PAGES = {
    400: ("Sorry, there is a problem with that request", "The form may have expired. Go back, reload the page and try again."),
    403: ("You do not have access to this page", "If you think you should, ask your panel manager or an administrator."),
    404: ("Page not found", "If you typed the web address, check it is correct."),
    405: ("Sorry, that action is not available here", "Go back and try again."),
    429: ("Too many attempts", "Wait 15 minutes, then try again."),
    500: ("Sorry, there is a problem with the service", "Try again later. The problem has been logged."),
}


def render_error(status):
    """The error page for a status: a title and a sentence that say nothing about the data."""
    title, body = PAGES[status]
    return render_template("errors/error.html", title=title, body=body, status=status), status


def register_error_handlers(app, record_decryption_failure):
    """Error pages for every status, and for a value that will not decrypt. create_app passes
    `record_decryption_failure(error)`, which writes the audit event (core cannot import audit)."""
    for status in (400, 403, 404, 405, 429, 500):
        app.register_error_handler(status, lambda error, status=status: _handle(status))
    app.register_error_handler(CSRFError, lambda error: _handle(400))

    def decryption_failed(error):
        """A value that will not decrypt is tampering or a key problem: audit it, never show data."""
        db.session.rollback()
        log.error("decryption failed: %s.%s row %s (%s)", error.table, error.column, error.row_id, error.reason)
        record_decryption_failure(error)
        db.session.commit()
        return render_error(500)

    app.register_error_handler(DecryptionError, decryption_failed)


def _handle(status):
    db.session.rollback()
    return render_error(status)
