"""`flask docs data-protection`: regenerate the records of processing from what the models declare."""
import sys

import click
from flask.cli import AppGroup

docs_cli = AppGroup("docs", help="Documents generated from the code.")


@docs_cli.command("data-protection")
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if the document differs from the models.")
def data_protection(check):
    """Write the generated part of docs/data-protection.md (the data held, by category and field)."""
    from marac.disclosures.processing import DOCUMENT, document_text, write

    if check:
        if document_text(DOCUMENT.read_text()) != DOCUMENT.read_text():
            click.echo(f"{DOCUMENT} differs from the models: run `flask docs data-protection`", err=True)
            sys.exit(1)
        click.echo(f"{DOCUMENT} matches the models")
        return
    click.echo(f"{DOCUMENT} {'rewritten' if write() else 'already matches the models'}")
