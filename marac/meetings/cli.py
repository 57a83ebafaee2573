"""`flask reminders send`: the scheduled emails, for cron (daily, on working days)."""
import click
from flask.cli import AppGroup

from marac.extensions import db

reminders_cli = AppGroup("reminders", help="Scheduled reminder emails (run daily from cron).")


@reminders_cli.command("send")
def reminders_send():
    """Send the reminders due today: missing research two working days before it is due, and each
    agency's weekly digest of overdue actions. Safe to run as often as wanted: no reminder is sent
    twice to the same person."""
    from marac.actions.services import send_overdue_digests
    from marac.meetings.services import send_research_reminders

    research = send_research_reminders()
    digests = send_overdue_digests()
    db.session.commit()
    click.echo(f"Research reminders sent: {research}. Overdue-action digests sent: {digests}.")
