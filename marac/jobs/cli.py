"""`flask jobs worker`: the RQ worker that runs background jobs when REDIS_URL is set."""
import click
from flask import current_app
from flask.cli import AppGroup

jobs_cli = AppGroup("jobs", help="Background jobs (RQ, with REDIS_URL).")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
def jobs_worker(burst):
    """Run jobs from the queue in this process, inside the application (no fork per job, so the
    database connections are never shared with a child)."""
    import redis
    from rq import Queue, SimpleWorker

    from marac.jobs.services import QUEUE_NAME

    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.UsageError("REDIS_URL is not set: without it, jobs run in the web process")
    connection = redis.from_url(url)
    SimpleWorker([Queue(QUEUE_NAME, connection=connection)], connection=connection).work(burst=burst)
