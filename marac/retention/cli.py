"""`flask retention run [--dry-run]`: delete the cases past their panel's retention schedule (daily, from cron)."""
import click
from flask.cli import AppGroup

from marac.extensions import db

retention_cli = AppGroup("retention", help="Retention schedules and deletion.")


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="List what would be deleted (reference and date) and delete nothing.")
def retention_run(dry_run):
    """Delete every case past its retention date and not under a legal hold, leaving a tombstone; then
    remove the deleted values from the database files. Lists each case by reference and date only."""
    from marac.retention.services import run, scrub_files

    result = run(dry_run=dry_run)
    for due in result.due:
        click.echo(f"{due.reference or 'draft referral'}\t{due.panel_name}\tdue {due.due_on.isoformat()}")
    if dry_run:
        db.session.rollback()
        click.echo(f"Dry run: {len(result.due)} case(s) would be deleted; nothing was deleted.")
        return
    db.session.commit()
    statements = scrub_files(result.tables)
    click.echo(f"Deleted {len(result.deleted)} case(s); {len(statements)} maintenance statement(s) run.")
