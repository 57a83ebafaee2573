"""`flask keys ...`: create, rotate, retire, count and check keys; change the key-encryption key.

Every command records an audit event holding ids and counts only. Output names keys, tables,
columns and row ids, never a value.
"""
import sys
import uuid
from pathlib import Path

import click
from flask.cli import AppGroup

from marac.extensions import db

keys_cli = AppGroup("keys", help="Data-encryption and blind-index keys.")

BATCH_SIZE = click.option("--batch-size", default=500, show_default=True, type=click.IntRange(min=1),
                          help="Rows per transaction; progress is committed after each batch.")


def fail(message):
    """Print a failure on stderr and exit 1."""
    click.echo(message, err=True)
    sys.exit(1)


def refused(call, *args):
    """Run a service, turning its StepRefused into a clear error and exit status 1."""
    from marac.core.steps import StepRefused

    try:
        return call(*args)
    except StepRefused as refusal:
        db.session.rollback()
        raise click.ClickException(str(refusal)) from None


def echo_failures(failures):
    """Print each value that could not be read, by place and row id, on stderr."""
    for failure in failures:
        click.echo(f"FAIL {failure.table}.{failure.column} row {failure.row_id}: {failure.reason}", err=True)


@keys_cli.command("init")
def keys_init():
    """Create the first data-encryption key if there is none (run once per database)."""
    from marac.keys.services import init_keys

    key = init_keys()
    db.session.commit()
    click.echo("Data key created." if key else "Data key already present.")


@keys_cli.command("rotate")
@BATCH_SIZE
def keys_rotate(batch_size):
    """Make a new primary data key and re-encrypt every value under it.

    Safe to interrupt: run it again and it finishes the unfinished rotation instead of making
    another key. Exits 1 if some values are still under older keys at the end.
    """
    from marac.keys.rotation import reencrypt_all, record_rotation, start_rotation, values_not_under
    from marac.keys.services import retire_after

    key, resumed = refused(start_rotation)
    db.session.commit()
    if resumed:
        click.echo(f"Resuming the unfinished rotation: re-encrypting the remaining values under data key {key.id}.")
    else:
        click.echo(f"New primary data key {key.id}; re-encrypting every value under it.")
    results = reencrypt_all(key.id, batch_size)
    for result in results:
        click.echo(f"  {result.table}.{result.column}: re-encrypted {result.done}, changed meanwhile (left as "
                   f"written) {result.skipped}, failed {len(result.failures)}")
    remaining = values_not_under(key.id)
    record_rotation(key, resumed, results, remaining)
    db.session.commit()
    echo_failures(f for result in results for f in result.failures)
    if remaining:
        fail(f"Not finished: values not yet under data key {key.id}: {remaining} (changed during the run, or "
             "failing to decrypt: see `flask keys verify`). Run `flask keys rotate` again to finish.")
    click.echo(f"Done: every value is under data key {key.id}. Older data keys can be retired with "
               f"`flask keys retire KEY_ID` from {retire_after('data'):%Y-%m-%d %H:%M} UTC.")


@keys_cli.command("retire")
@click.argument("key_id")
def keys_retire(key_id):
    """Retire a data key that is no longer primary and protects no value; it is then never loaded."""
    from marac.keys.rotation import retire

    try:
        key_id = uuid.UUID(key_id)
    except ValueError:
        raise click.BadParameter("not a key id", param_hint="KEY_ID") from None
    key = refused(retire, key_id)
    db.session.commit()
    click.echo(f"Data key {key.id} retired.")


@keys_cli.command("status")
def keys_status():
    """How many values each key protects, by table and column (reads headers; decrypts nothing)."""
    from sqlalchemy import select

    from marac.audit.services import record
    from marac.keys.models import DATA_PURPOSE, DataKey
    from marac.keys.rotation import indexed_values, values_by_key

    usage = values_by_key()
    keys = db.session.execute(select(DataKey).order_by(DataKey.purpose, DataKey.created_at)).scalars().all()
    known = {key.id for key in keys}
    for key in keys:
        if key.retired_at:
            state = f"retired {key.retired_at:%Y-%m-%d %H:%M}"
        else:
            state = "primary" if key.is_primary else "not primary"
        click.echo(f"{key.purpose} key {key.id} ({state}; created {key.created_at:%Y-%m-%d %H:%M} UTC)")
        if key.purpose == DATA_PURPOSE:
            counts = [(place, counter[key.id]) for place, counter in usage.items() if counter[key.id]]
            for (table, column), count in counts:
                click.echo(f"  {table}.{column}: {count}")
            if not counts:
                click.echo("  no values")
    for (table, column), counter in usage.items():
        for key_id, count in counter.items():
            if key_id not in known:
                label = f"unknown key {key_id}" if key_id else "an unrecognised header"
                click.echo(f"{table}.{column}: {count} values under {label}")
    for (table, column, name), count in indexed_values().items():
        click.echo(f"{table}.{column}: {count} values in blind index {name}")
    total = sum(sum(counter.values()) for counter in usage.values())
    click.echo(f"Encrypted values: {total}, in {len(usage)} columns.")
    record("keys.status_read", object_type="data_keys", detail={"values": total, "keys": len(keys)})
    db.session.commit()


@keys_cli.command("verify")
@BATCH_SIZE
def keys_verify(batch_size):
    """Decrypt every value and unwrap every key; exit 1 naming each failure (never its content)."""
    from marac.audit.services import record
    from marac.keys.rotation import verify_keys, verify_values

    problems = verify_keys()
    checked, failures = verify_values(batch_size)
    record("keys.verified", object_type="data_keys",
           detail={"values": checked, "failures": len(failures), "key_problems": len(problems)})
    db.session.commit()
    for subject, reason in problems:
        click.echo(f"FAIL key {subject}: {reason}", err=True)
    echo_failures(failures)
    if problems or failures:
        fail(f"Values that failed to decrypt: {len(failures)} of {checked}. Key problems: {len(problems)}.")
    click.echo(f"OK: {checked} values decrypt; the keys unwrap.")


@keys_cli.command("rotate-kek")
@click.option("--new-kek-file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A file holding the new key-encryption key (base64, 32 bytes), e.g. from `generate-kek`.")
def keys_rotate_kek(new_kek_file):
    """Re-wrap every data and index key with a new key-encryption key; nothing else changes."""
    from marac.core.crypto import KeyUnavailable, decode_key
    from marac.keys.rotation import rewrap_keys

    try:
        new_kek = decode_key(new_kek_file.read_text().strip())
    except (KeyUnavailable, ValueError):
        raise click.ClickException("the file must hold a 32-byte key in base64") from None
    count = refused(rewrap_keys, new_kek)
    db.session.commit()
    click.echo(f"{count} keys re-wrapped with the new key-encryption key.\n"
               "Now set MARAC_KEK (or MARAC_KEK_FILE) to the new key and restart every process: until then\n"
               "they keep the keys they have loaded but cannot load any other. Keep the old key-encryption\n"
               "key, stored as securely, until every backup taken before now has expired: those backups\n"
               "hold keys wrapped by it.")


@keys_cli.command("generate-kek")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the key to this new file (mode 0600) instead of printing it.")
def keys_generate_kek(out):
    """Print a new random key-encryption key (base64), for `rotate-kek` or a new installation."""
    import base64
    import os

    from marac.audit.services import record
    from marac.core.crypto import kek_fingerprint

    raw = os.urandom(32)
    text = base64.b64encode(raw).decode()
    if out:
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise click.ClickException(f"{out} exists; choose a new file") from None
        with os.fdopen(fd, "w") as handle:
            handle.write(text + "\n")
    record("keys.kek_generated", object_type="data_keys", detail={"kek_id": kek_fingerprint(raw)})
    db.session.commit()
    click.echo(f"New key-encryption key written to {out}." if out else text)


@keys_cli.command("reindex")
@click.argument("index_name", required=False)
@BATCH_SIZE
def keys_reindex(index_name, batch_size):
    """Recompute blind indexes under a new key (all, or INDEX_NAME); run again later to retire the old key.

    Lookups match under both keys until the old one is retired, which happens on a run at least ten
    minutes after the new key was made, once no process can still be using the old one.
    """
    from marac.audit.services import record
    from marac.keys.rotation import finish_reindex, index_entries, reindex_all, start_reindex

    names = sorted({entry.index_name for entry in refused(index_entries, index_name)})
    if not names:
        click.echo("No blind indexes are declared.")
        return
    unfinished = False
    for name in names:
        key, resumed = start_reindex(name)
        db.session.commit()
        click.echo(f"Index {name}: " + (f"resuming under key {key.id}." if resumed else f"new key {key.id}."))
        totals = reindex_all(name, batch_size)
        click.echo(f"  recomputed: {totals.done}, already current: {totals.unchanged}, changed meanwhile: "
                   f"{totals.skipped}, failed: {len(totals.failures)}")
        echo_failures(totals.failures)
        retired, not_before = [], None
        if totals.skipped or totals.failures:
            click.echo("  The old key is kept: run `flask keys reindex` again.")
            unfinished = True
        else:
            retired, not_before = finish_reindex(name)
            if retired:
                click.echo(f"  Retired {len(retired)} older key(s).")
            elif len(live_keys_of(name)) > 1:
                click.echo(f"  Older key kept for lookups until {not_before:%Y-%m-%d %H:%M} UTC; run "
                           f"`flask keys reindex {name}` again after that to finish.")
        record("keys.reindexed", target=key, detail={
            "index": name, "resumed": resumed, "recomputed": totals.done, "unchanged": totals.unchanged,
            "skipped": totals.skipped, "failed": len(totals.failures), "retired": len(retired)})
        db.session.commit()
    if unfinished:
        sys.exit(1)


def live_keys_of(name):
    """The live keys of blind index `name`, the primary first."""
    from marac.keys.services import index_purpose, live_keys

    return live_keys(index_purpose(name))
