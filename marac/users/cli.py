"""`flask users ...`: accounts made from the command line (the first administrator)."""
import click
from flask.cli import AppGroup

from marac.extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--name", default="Administrator", show_default=True, help="The administrator's full name.")
@click.option("--agency", "agency_name", default="Council administration", show_default=True,
              help="The agency the administrator belongs to; created (kind: other) if it does not exist.")
@click.password_option(help="Asked for when not given.")
def create_admin(email, name, agency_name, password):
    """Create an administrator who must change the password at first sign-in."""
    from marac.agencies.models import AgencyKind
    from marac.agencies.services import agency_named, create_agency
    from marac.auth.passwords import password_problem
    from marac.core.steps import StepRefused
    from marac.users.services import create_user, email_taken

    problem = password_problem(password, email)
    if problem:
        raise click.ClickException(problem)
    if email_taken(email):
        raise click.ClickException("a user with this email address already exists")
    try:
        agency = agency_named(agency_name) or create_agency(None, agency_name, agency_name[:24], AgencyKind.OTHER)
        create_user(None, agency, email, name, is_admin=True, password=password)
    except StepRefused as refusal:
        db.session.rollback()
        raise click.ClickException(refusal.message) from None
    db.session.commit()
    click.echo("Administrator created. They will choose a new password at first sign-in.")
