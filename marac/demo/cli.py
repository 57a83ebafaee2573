"""`flask demo ...`: demonstration data for development."""
import os

import click
from flask import current_app
from flask.cli import AppGroup

from marac.extensions import db

demo_cli = AppGroup("demo", help="Demonstration data (development only).")
PANEL_KINDS = {"marac": "MARAC", "mace": "MACE", "asb": "ASB"}


@demo_cli.command("seed")
@click.option("--cases", "count", type=click.IntRange(min=1), default=None,
              help="Add this many cases to a demo panel in bulk (for the scale benchmarks), after the demo "
                   "data if it is missing.")
@click.option("--panel", "panel_kind", type=click.Choice(sorted(PANEL_KINDS)), default=None,
              help="The demo panel that gets the --cases (default: marac).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes that build the --cases rows while this one inserts them (default: 2, or 1 on a "
                   "single core).")
def demo_seed(count, panel_kind, workers):
    """Add the demo agencies, panels and accounts (idempotent); with --cases N, add N cases to a demo panel.
    Refused in production."""
    from marac.demo.services import seed

    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException("demo data is not for production")
    if count is None:
        if panel_kind or workers:
            raise click.UsageError("--panel and --workers go with --cases")
        created = seed()
        db.session.commit()
        click.echo(f"Demo data ready ({created} records added).")
        return
    _seed_cases(count, panel_kind or "marac", workers or min(2, os.cpu_count() or 1))


def _seed_cases(count, panel_kind, workers):
    from marac.demo.scale import demo_panel, seed_at_scale
    from marac.demo.services import seed
    from marac.panels.models import PanelKind

    kind = PanelKind(PANEL_KINDS[panel_kind])
    panel = demo_panel(kind)
    if panel is None:
        click.echo("Adding the demo data first (its panels and accounts are missing)...")
        created = seed()
        db.session.commit()
        click.echo(f"Demo data ready ({created} records added).")
        panel = demo_panel(kind)
        if panel is None:
            raise click.ClickException(f"the demo {kind} panel has no manager or chair")

    def progress(done, seconds):
        if done == count or done % 10_000 < 2_000:
            click.echo(f"  {done:,} cases in {seconds:.1f} s")

    result = seed_at_scale(panel, count, progress=progress, workers=workers)
    click.echo(f"Added {result.cases:,} cases to {panel.name} ({result.repeats:,} repeats, {result.people:,} people, "
               f"{result.actions:,} actions, {result.meetings:,} meetings) in {result.seconds:.1f} s; statistics "
               f"refreshed in {result.analyse_seconds:.1f} s: {result.per_second:,.0f} cases/s.")
