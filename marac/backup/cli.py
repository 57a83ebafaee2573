"""`flask backup ...`: take a backup of the whole database, and restore one with checks.

Output names paths, tables, counts, ids and the audit head: never a value, never a password.
Any refusal or failed check exits 1 with a sentence saying why.
"""
import shutil
import sys
import tempfile

import click
from flask.cli import AppGroup

from marac.extensions import db

backup_cli = AppGroup("backup", help="Backups of the whole database (docs/deployment.md).")


def _size(count):
    """A byte count for people: 1.4 MB."""
    for unit in ("bytes", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count} bytes"  # pragma: no cover


def _head(manifest):
    head = manifest["audit_head"]
    return f"{head['seq']}:{head['hash'][:12]}" if head else "none"


def _summary(manifest):
    """The lines that describe a manifest: revision, audit head, main counts, keys."""
    from marac.backup.services import KIND_LABELS, MAIN_TABLES

    tables = manifest["tables"]
    main = ", ".join(f"{label} {tables[name]}" for name, label in MAIN_TABLES if name in tables)
    data_keys = [key for key in manifest["data_keys"] if key["purpose"] == "data"]
    return [
        f"Database: {KIND_LABELS[manifest['database']]} {manifest['server_version']}, "
        f"revision {manifest['alembic_revision']}",
        f"Audit chain head: {_head(manifest)}",
        f"Rows: {main} ({len(tables)} tables, {sum(tables.values())} rows)",
        f"Keys: {len(data_keys)} data, {len(manifest['data_keys']) - len(data_keys)} blind-index, wrapped by "
        f"key-encryption key {manifest['kek_id']} (ids only; no key is in the backup)",
    ]


def _fail(message):
    click.echo(message, err=True)
    sys.exit(1)


@backup_cli.command("create")
@click.option("--output", "-o", metavar="PATH",
              help="The file to write, or a directory for the default name "
                   "(marac-backup-<UTC time>-<kind>.tar; default: in the current directory).")
def backup_create(output):
    """Write a backup of the whole database (mode 0600) with its manifest; keys are not in it."""
    from marac.backup.services import BackupError, create_backup, describe_target

    try:
        path, manifest, size = create_backup(output)
    except BackupError as error:
        db.session.rollback()
        _fail(f"Backup failed: {error}")
    db.session.commit()
    click.echo(f"Backup of the {describe_target()} written: {path} ({_size(size)}, mode 0600)")
    for line in _summary(manifest):
        click.echo(f"  {line}")
    click.echo("Restoring it needs MARAC_KEK and MARAC_AUDIT_KEY, which are not in it: keep them apart.")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--replace", is_flag=True,
              help="Overwrite a database that is not empty (asks you to type its name; destructive).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (with --replace too: for scripts).")
def backup_restore(path, replace, yes):
    """Restore a backup into the configured database, then check it against its manifest.

    The target must be empty unless --replace is given. Refuses, before changing anything, a damaged
    backup, one of another kind of database, or one that the configured MARAC_KEK or MARAC_AUDIT_KEY
    cannot read. Afterwards checks the revision, every table's row count, the audit chain up to the
    backup's head, and that every key unwraps and every encrypted value decrypts; exits 1 on any failure.
    """
    from marac.backup import services

    workdir = tempfile.mkdtemp(prefix="marac-restore-")
    try:
        try:
            manifest, payload = services.open_backup(path, workdir)
            target = services.describe_target()
            click.echo(f"Backup taken {manifest['created_at']}")
            for line in _summary(manifest):
                click.echo(f"  {line}")
            click.echo(f"Target: {target}")
            problems = services.refusals(manifest, replace)
        except services.BackupError as error:
            _fail(f"Refused: {error}")
        if problems:
            _fail("Refused, nothing was changed:\n" + "\n".join(f"  - {problem}" for problem in problems))
        if not yes:
            _confirm(replace, services.target_name())
        try:
            services.load(manifest, payload, replace)
        except services.BackupError as error:
            _fail(f"RESTORE FAILED: {error}")
        click.echo("Restored; checking it against the manifest...")
        checks = services.check_restored(manifest)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for check in checks:
        click.echo(f"  {'OK  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    services.record_restore(manifest, checks)
    db.session.commit()
    _advise(manifest)
    failed = [check.name for check in checks if not check.ok]
    if failed:
        _fail(f"RESTORE FAILED its checks ({', '.join(failed)}): do not use this database; see docs/deployment.md.")
    click.echo(f"RESTORE VERIFIED: the backup of {manifest['created_at']} is complete in the {target}.")


def _confirm(replace, name):
    """Ask before writing; replacing needs the database's name typed."""
    if replace:
        typed = click.prompt(f"This DESTROYS what the database holds now. Type its name ({name}) to replace it",
                             default="", show_default=False)
        if typed.strip() != name:
            _fail("Not confirmed; nothing was changed.")
    elif not click.confirm("Restore into it?", default=False):
        _fail("Not confirmed; nothing was changed.")


def _advise(manifest):
    """Say if the code's migrations are not at the backup's revision."""
    from marac.backup.services import revision_advice

    advice = revision_advice(manifest["alembic_revision"])
    if advice:
        click.echo(f"Note: {advice}.")
