"""`flask sessions ...`: housekeeping of server-side sessions."""
import click
from flask import current_app
from flask.cli import AppGroup

from marac.extensions import db

sessions_cli = AppGroup("sessions", help="Server-side sessions.")


@sessions_cli.command("purge")
def sessions_purge():
    """Delete expired sessions."""
    from marac.auth.sessions import purge_expired

    count = purge_expired(current_app.config)
    db.session.commit()
    click.echo(f"{count} expired sessions deleted.")
