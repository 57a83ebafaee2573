"""Background jobs: enqueue a function by its dotted path, to run after the request's commit.

Three ways, by configuration: JOBS_INLINE (the tests) runs the job at once, in the caller's
transaction; with REDIS_URL the job goes to an RQ queue for `flask jobs worker`; otherwise (the
embedded default of `make run`) a daemon thread of this process runs it in its own app context and
database session. A job is a function of plain arguments (ids): it reads what it needs itself.

A job is an edge, like a request or a CLI command: the runner commits at its end, and the job may
commit its progress on the way with checkpoint() (which does nothing when the job runs inline).
"""
import importlib
import threading

from flask import current_app, g
from sqlalchemy import event
from sqlalchemy.orm import Session

from marac.extensions import db

QUEUE_NAME = "marac"
_PENDING = "marac_after_commit"


def resolve(func_path):
    """The function named "package.module:function" (only marac's own functions are jobs)."""
    module_name, _, name = func_path.partition(":")
    if not module_name.startswith("marac.") or not name:
        raise ValueError("a job is a marac function named 'marac.package.module:function'")
    return getattr(importlib.import_module(module_name), name)


def enqueue(func_path, *args):
    """Run the function with these plain arguments as a job. Inline it runs now and returns its value;
    otherwise it starts once the current transaction has committed (so it sees what the caller
    wrote), and nothing starts if that transaction rolls back."""
    resolve(func_path)  # refuse an unknown job now, in the caller, not later in a worker
    app = current_app._get_current_object()
    if app.config.get("JOBS_INLINE"):
        return resolve(func_path)(*args)
    if app.config.get("REDIS_URL"):
        after_commit(lambda: _to_queue(app.config["REDIS_URL"], func_path, args))
    else:
        after_commit(lambda: _to_thread(app, func_path, args))
    return None


def enqueue_after_commit(func_path, *args):
    """Like enqueue, but the job never runs in the caller's transaction: it starts after the commit
    (and not at all on a rollback) in every mode; inline (the tests), it runs in the committing
    thread, so it must not use the database (an email to send, say). An inline failure is logged by
    the exception's class, never raised into the commit."""
    resolve(func_path)
    app = current_app._get_current_object()
    if not app.config.get("JOBS_INLINE"):
        return enqueue(func_path, *args)

    def run_now():
        try:
            resolve(func_path)(*args)
        except Exception as error:
            app.logger.error("job %s failed: %s", func_path, type(error).__name__)

    after_commit(run_now)
    return None


def after_commit(callback):
    """Call `callback()` once, after the current session's transaction commits; forget it on a
    rollback. The callback must not use the session (the transaction is over)."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that the callback belongs to a transaction that commits or not
    session.info.setdefault(_PENDING, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_pending(session):
    for callback in session.info.pop(_PENDING, []):
        callback()


@event.listens_for(Session, "after_transaction_end")
def _drop_pending(session, transaction):
    if transaction.parent is None:  # the outermost transaction ended without a commit (after_commit ran first)
        session.info.pop(_PENDING, None)


def checkpoint():
    """Commit the job's progress so far, when running as a background job (a thread or a worker); in
    a request or inline nothing happens, and the edge commits."""
    if g.get("marac_job"):
        db.session.commit()


def run_job(func_path, *args):
    """Run a job in the current app context as its edge: commit at the end, roll back on failure.
    The failure is logged by the job's name and the exception's class only (never its message, which
    might quote data)."""
    g.marac_job = True
    try:
        resolve(func_path)(*args)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        current_app.logger.error("job %s failed: %s", func_path, type(error).__name__)
        raise
    finally:
        g.pop("marac_job", None)


def _to_thread(app, func_path, args):
    def work():
        with app.app_context():
            try:
                run_job(func_path, *args)
            except Exception:  # logged by run_job; a thread has nobody to raise to
                pass
            finally:
                db.session.remove()

    threading.Thread(target=work, name="marac-job", daemon=True).start()


def _to_queue(redis_url, func_path, args):
    import redis
    from rq import Queue

    queue = Queue(QUEUE_NAME, connection=redis.from_url(redis_url))
    queue.enqueue("marac.jobs.services.run_in_worker", func_path, *args, job_timeout=1800)


def run_in_worker(func_path, *args):
    """The RQ entry point, run by `flask jobs worker` inside its app context."""
    from flask import has_app_context

    if not has_app_context():
        raise RuntimeError("start the worker with `flask jobs worker`, which loads the application")
    return run_job(func_path, *args)
