"""The flask command groups, each declared in its package's cli.py: users, demo, keys, audit, sessions,
packs, jobs, docs, retention, reminders and backup."""
from marac.audit.cli import audit_cli
from marac.backup.cli import backup_cli
from marac.auth.cli import sessions_cli
from marac.demo.cli import demo_cli
from marac.disclosures.cli import docs_cli
from marac.jobs.cli import jobs_cli
from marac.keys.cli import keys_cli
from marac.meetings.cli import reminders_cli
from marac.packs.cli import packs_cli
from marac.retention.cli import retention_cli
from marac.users.cli import users_cli


def register(app):
    """Add every command group to the app's `flask` command."""
    for group in (users_cli, demo_cli, keys_cli, audit_cli, sessions_cli, packs_cli, jobs_cli, docs_cli, retention_cli,
                  reminders_cli, backup_cli):
        app.cli.add_command(group)
