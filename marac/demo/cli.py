"""`flask demo ...`: demonstration data for development."""
import click
from flask import current_app
from flask.cli import AppGroup

from marac.extensions import db

demo_cli = AppGroup("demo", help="Demonstration data (development only).")


@demo_cli.command("seed")
def demo_seed():
    """Add the demo agencies, panels and accounts (idempotent). Refused in production."""
    from marac.demo.services import seed

    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException("demo data is not for production")
    created = seed()
    db.session.commit()
    click.echo(f"Demo data ready ({created} records added).")
