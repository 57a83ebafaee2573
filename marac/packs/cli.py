"""`flask packs ...`: build a meeting's packs, trace a leaked copy, delete expired packs."""
import sys
import uuid
from pathlib import Path

import click
from flask.cli import AppGroup

from marac.extensions import db
from marac.packs.models import PackKind

packs_cli = AppGroup("packs", help="Meeting packs (PDF).")


@packs_cli.command("build")
@click.argument("meeting_id")
@click.option("--kind", type=click.Choice([k.value for k in PackKind]), default=PackKind.AGENDA.value,
              show_default=True)
def packs_build(meeting_id, kind):
    """Build every pack of a meeting now, in this process (what the manager's button does)."""
    from flask import current_app

    from marac.core.steps import StepRefused
    from marac.meetings.models import Meeting
    from marac.packs.models import BuildStatus
    from marac.packs.services import build_packs

    meeting = _meeting(meeting_id, Meeting)
    current_app.config["JOBS_INLINE"] = True  # the command is the job: run it here, commit at the end
    try:
        build = build_packs(None, meeting, PackKind(kind))
    except StepRefused as refusal:
        db.session.rollback()
        click.echo(f"Refused: {refusal.message}", err=True)
        sys.exit(1)
    db.session.commit()
    if build.status != BuildStatus.DONE:
        click.echo(f"Build {build.id} failed: {build.error}", err=True)
        sys.exit(1)
    click.echo(f"Built {build.done} {PackKind(kind).label.lower()} render(s) for meeting {meeting.id} "
               f"({meeting.meets_on.isoformat()}); build {build.id}.")


@packs_cli.command("trace")
@click.argument("file_or_pack_id")
def packs_trace(file_or_pack_id):
    """Say to whom and when a copy was issued: give the PDF file, or its pack id (PK-...)."""
    from marac.audit.services import record
    from marac.core.pdf import sha256_of
    from marac.packs.services import trace

    path = Path(file_or_pack_id)
    needle = sha256_of(path.read_bytes()) if path.is_file() else file_or_pack_id
    issues = trace(needle)
    record("packs.traced", None, object_type="pack_issues",
           detail={"by": "file" if path.is_file() else "code", "found": len(issues)})
    db.session.commit()
    if not issues:
        click.echo("No pack was issued with this id or file.", err=True)
        sys.exit(1)
    for issue in issues:
        render = issue.render
        click.echo(f"{issue.code}: issued to {issue.user.full_name} ({issue.user.email}) of {issue.agency.name} "
                   f"at {issue.issued_at.isoformat(timespec='seconds')}; {render.kind} pack of "
                   f"{render.meeting.panel.name} meeting {render.meeting.meets_on.isoformat()}; SHA-256 {issue.sha256}")


@packs_cli.command("expire")
def packs_expire():
    """Delete the PDFs of packs past their panel's retention period."""
    from marac.packs.services import expire_packs

    count = expire_packs()
    db.session.commit()
    click.echo(f"{count} expired pack(s) deleted.")


def _meeting(meeting_id, model):
    try:
        meeting = db.session.get(model, uuid.UUID(meeting_id))
    except ValueError:
        meeting = None
    if meeting is None:
        raise click.BadParameter("no meeting with this id", param_hint="MEETING_ID")
    return meeting
