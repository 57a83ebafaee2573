"""flask command groups: users, demo, keys, audit, sessions."""
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from marac.extensions import db
from marac.keys.cli import keys_cli

users_cli = AppGroup("users", help="Manage user accounts.")
demo_cli = AppGroup("demo", help="Demonstration data (development only).")
audit_cli = AppGroup("audit", help="The tamper-evident audit trail.")
sessions_cli = AppGroup("sessions", help="Server-side sessions.")


def register(app):
    for group in (users_cli, demo_cli, keys_cli, audit_cli, sessions_cli):
        app.cli.add_command(group)


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--name", default="Administrator", show_default=True, help="The administrator's full name.")
@click.option("--agency", "agency_name", default="Council administration", show_default=True,
              help="The agency the administrator belongs to; created (kind: other) if it does not exist.")
@click.password_option(help="Asked for when not given.")
def create_admin(email, name, agency_name, password):
    """Create an administrator who must change the password at first sign-in."""
    from sqlalchemy import select

    from marac.agencies.models import Agency
    from marac.agencies.services import create_agency
    from marac.auth.passwords import password_problem
    from marac.users.services import create_user, email_taken

    problem = password_problem(password, email)
    if problem:
        raise click.ClickException(problem)
    if email_taken(email):
        raise click.ClickException("a user with this email address already exists")
    agency = db.session.execute(select(Agency).where(Agency.name == agency_name)).scalar_one_or_none()
    if agency is None:
        agency = create_agency(None, agency_name, agency_name[:24], "other")
    create_user(None, agency, email, name, is_admin=True, password=password)
    db.session.commit()
    click.echo("Administrator created. They will choose a new password at first sign-in.")


@demo_cli.command("seed")
def demo_seed():
    """Add the demo agencies, panels and accounts (idempotent). Refused in production."""
    from marac.demo.services import seed

    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException("demo data is not for production")
    created = seed()
    db.session.commit()
    click.echo(f"Demo data ready ({created} records added).")


@audit_cli.command("verify")
@click.option("--head", "head", default=None, metavar="SEQ:HASH",
              help="A head recorded earlier (from `flask audit head`): also detects a truncated tail.")
def audit_verify(head):
    """Recompute the chain; exit 1 naming the first bad event."""
    from marac.audit.services import ChainBroken, verify

    expected = None
    if head:
        seq, _, hash_ = head.partition(":")
        if not seq.isdigit() or len(hash_) != 64:
            raise click.BadParameter("expected SEQ:HASH", param_hint="--head")
        expected = (int(seq), hash_)
    try:
        count, seq, hash_ = verify(head=expected)
    except ChainBroken as broken:
        click.echo(f"FAIL: event {broken.seq}: {broken.reason}", err=True)
        sys.exit(1)
    click.echo(f"OK: {count} events; head {seq}:{hash_}")


@audit_cli.command("head")
def audit_head():
    """Print the latest sequence number and hash, to keep somewhere apart from the database."""
    from marac.audit.models import AuditChainHead

    head = db.session.get(AuditChainHead, 1)
    click.echo(f"{head.seq}:{head.hash}")


@sessions_cli.command("purge")
def sessions_purge():
    """Delete expired sessions."""
    from marac.auth.sessions import purge_expired

    count = purge_expired(current_app.config)
    db.session.commit()
    click.echo(f"{count} expired sessions deleted.")
