"""`flask audit ...`: verify the chain and print its head."""
import sys

import click
from flask.cli import AppGroup

from marac.extensions import db

audit_cli = AppGroup("audit", help="The tamper-evident audit trail.")


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
