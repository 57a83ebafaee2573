"""How a service refuses a step, how it detects a stale edit, and how a route runs a step.

Services raise StepRefused (or StaleEdit) with a message for the user; they flush and never commit.
Routes run a service step through attempt(), which turns a refusal into a message on the form (or an
error banner) after rolling back. The request's one commit happens at the edge (commit_at_edge), as
indico's request handler does: a route never commits.
"""
from collections import namedtuple

from flask import flash
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from marac.extensions import db

STALE = "Someone else saved this while you were editing it. Your changes have not been saved; the page shows theirs."


class StepRefused(Exception):
    """A step that cannot be taken now. `message` says why, in words for the user; `field` names the
    form field it belongs to (None: the form, or the page, as a whole)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message, self.field = message, field


class StaleEdit(StepRefused):
    """The object changed since the form was loaded: someone else saved first."""

    def __init__(self, message=STALE):
        super().__init__(message)


def check_version(obj, expected):
    """Refuse with StaleEdit unless `expected` (the version the form was loaded with) is still current.
    None means the form carried no version (a new object)."""
    if expected is not None and str(obj.version) != str(expected):
        raise StaleEdit()


Outcome = namedtuple("Outcome", "ok value stale")
Outcome.__bool__ = lambda self: self.ok


def attempt(step, *args, form=None, stale=None, **kwargs):
    """Run one service step. A refusal or a stale edit rolls back and is told to the user: on the
    form (the refusal's field, or the form as a whole) when one is given, else as an error banner.
    `stale` replaces the stale-edit message. Returns an Outcome, true when the step was taken."""
    try:
        value = step(*args, **kwargs)
        db.session.flush()  # a version conflict surfaces here, not at the commit
    except (StaleEdit, StaleDataError) as error:
        db.session.rollback()
        _tell(form, stale or getattr(error, "message", STALE), None)
        return Outcome(False, None, True)
    except StepRefused as refusal:
        db.session.rollback()
        _tell(form, refusal.message, refusal.field)
        return Outcome(False, None, False)
    return Outcome(True, value, False)


def _tell(form, message, field):
    if form is None:
        flash(message, "error")
    elif field is not None and field in form:
        form[field].errors = [*form[field].errors, message]  # a tuple until the form is validated
    else:
        form.form_errors = [*form.form_errors, message]


def commit_at_edge(response):
    """after_request: the request's one commit. A response below 400 commits what its services
    wrote (audit events of reads included); an error response rolls back. A request that wrote
    nothing leaves its read transaction to the session's teardown, so a plain page costs no commit."""
    if response.status_code >= 400:
        db.session.rollback()
    elif db.session.info.get("written") or db.session.new or db.session.dirty or db.session.deleted:
        db.session.commit()
    return response


@event.listens_for(Session, "after_flush")
def _note_write(session, flush_context):
    session.info["written"] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_write(session, transaction):
    if transaction.parent is None:  # the outermost transaction: committed or rolled back
        session.info.pop("written", None)
