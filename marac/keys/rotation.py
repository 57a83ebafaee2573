"""Rotating, retiring, counting and checking keys; re-wrapping them with a new KEK; rebuilding
blind indexes. Services for `flask keys`.

They flush and leave the commit to the caller, except reencrypt_all() and reindex_all(), which
commit after every batch so that an interrupted run keeps its progress and the next run resumes.
Values are rewritten with ``UPDATE ... WHERE id = :id AND col = :old``, so a value that the
application changed after the batch read it is left alone (it is already under a current key, or
the next run picks it up). Nothing here decrypts a value except to re-encrypt or verify it, and
nothing reports a value: failures name the table, column and row id.
"""
import uuid
from collections import Counter, namedtuple

from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from sqlalchemy import LargeBinary, func, literal, literal_column, select, update

from marac.audit.services import record
from marac.core.blind_index import BlindIndex, blind_index
from marac.core.crypto import (FORMAT_VERSION, DecryptionError, Encrypted, KeyUnavailable, deserialise,
                               kek_fingerprint, keyring, seal, unseal)
from marac.core.steps import StepRefused
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.keys.keyring import KeyRing
from marac.keys.models import DATA_PURPOSE, DataKey
from marac.keys.services import (create_key, index_purpose, live_keys, lock_keys, primary_key, retire_after,
                                 retire_key)

Target = namedtuple("Target", "table column pk")  # an encrypted column, its table and primary key
Failure = namedtuple("Failure", "table column row_id reason")
BatchResult = namedtuple("BatchResult", "last_id rows done skipped failures")
ColumnResult = namedtuple("ColumnResult", "table column done skipped failures")
ReindexResult = namedtuple("ReindexResult", "last_id rows done unchanged skipped failures")


# --- where the encrypted values are ----------------------------------------------------------

def encrypted_targets():
    """Every encrypted column named in Encrypted.registry."""
    targets = []
    for model, name in Encrypted.registry:
        table = model.__table__
        (pk,) = table.primary_key.columns
        targets.append(Target(table, next(c for c in table.columns if c.name == name), pk))
    return targets


def _substr(column, start, length):
    # Literal numbers, so that the GROUP BY expression is textually the selected one (PostgreSQL).
    return func.substr(column, literal_column(str(start)), literal_column(str(length)))


def under_key(column, key_id):
    """SQL: the stored value names this data key in its header."""
    return _substr(column, 2, 16) == literal(key_id.bytes, LargeBinary)


def values_by_key():
    """{(table, column): Counter of data key id} read from each value's header, never decrypting.
    A value whose header is not recognised counts under None."""
    usage = {}
    for target in encrypted_targets():
        prefix = _substr(target.column, 1, 17)
        rows = db.session.execute(select(prefix, func.count()).select_from(target.table)
                                  .where(target.column.is_not(None)).group_by(prefix))
        counts = Counter()
        for header, count in rows:
            header = bytes(header)
            recognised = len(header) == 17 and header[0] == FORMAT_VERSION
            counts[uuid.UUID(bytes=header[1:]) if recognised else None] += count
        usage[(target.table.name, target.column.name)] = counts
    return usage


def key_usage():
    """How many values each data key protects, over every encrypted column."""
    return sum(values_by_key().values(), Counter())


def values_not_under(key_id):
    """How many stored values are under any other key (or unreadable)."""
    return sum(db.session.execute(
        select(func.count()).select_from(t.table).where(t.column.is_not(None), ~under_key(t.column, key_id))
    ).scalar_one() for t in encrypted_targets())


# --- rotation --------------------------------------------------------------------------------

def start_rotation():
    """The key to re-encrypt under, as (key, resumed): the primary when values remain under an older
    live key (an unfinished rotation, resumed), else a new primary key."""
    lock_keys()
    primary = primary_key(DATA_PURPOSE)
    if primary is None:
        raise StepRefused("there is no primary data key: run `flask keys init`")
    usage = key_usage()
    if any(usage[key.id] for key in live_keys(DATA_PURPOSE) if not key.is_primary):
        return primary, True
    return create_key(DATA_PURPOSE), False


def pending(target, primary_id, after=None, batch_size=500):
    """The next (row id, stored value) rows not under the primary key, in primary-key order."""
    query = (select(target.pk, target.column)
             .where(target.column.is_not(None), ~under_key(target.column, primary_id)))
    if after is not None:
        query = query.where(target.pk > after)
    return db.session.execute(query.order_by(target.pk).limit(batch_size)).all()


def reencrypt_rows(target, rows, ring=None):
    """Re-encrypt these (row id, old value) rows under the primary key, skipping any changed since."""
    ring = ring or keyring()
    table, column = target.table.name, target.column.name
    done = skipped = 0
    failures = []
    for row_id, old in rows:
        try:
            plain = unseal(old, table, column, row_id, ring)
        except DecryptionError as error:
            failures.append(Failure(table, column, row_id, error.reason))
            continue
        changed = db.session.execute(
            update(target.table).where(target.pk == row_id, target.column == old)
            .values({target.column: seal(plain, table, column, row_id, ring)})
        ).rowcount
        done, skipped = done + changed, skipped + (1 - changed)
    return BatchResult(rows[-1][0] if rows else None, len(rows), done, skipped, failures)


def reencrypt_batch(target, primary_id, after=None, batch_size=500):
    """One batch: read the next rows not under the primary key and re-encrypt them. No commit."""
    return reencrypt_rows(target, pending(target, primary_id, after, batch_size))


def reencrypt_all(primary_id, batch_size=500):
    """Re-encrypt every value not under `primary_id`, committing after each batch. [ColumnResult]"""
    results = []
    for target in encrypted_targets():
        after, done, skipped, failures = None, 0, 0, []
        while True:
            batch = reencrypt_batch(target, primary_id, after, batch_size)
            db.session.commit()
            done, skipped, failures = done + batch.done, skipped + batch.skipped, failures + batch.failures
            if batch.rows < batch_size:
                break
            after = batch.last_id
        results.append(ColumnResult(target.table.name, target.column.name, done, skipped, failures))
    return results


def record_rotation(key, resumed, results, remaining):
    """Audit a rotation run with its counts."""
    return record("keys.rotated", target=key, detail={
        "resumed": resumed,
        "reencrypted": sum(r.done for r in results),
        "skipped": sum(r.skipped for r in results),
        "failed": sum(len(r.failures) for r in results),
        "remaining": remaining,
    })


# --- retiring --------------------------------------------------------------------------------

def retire(key_id):
    """Retire a data key that is not the primary and protects no value. Raises StepRefused otherwise."""
    key = db.session.get(DataKey, key_id)
    if key is None:
        raise StepRefused(f"there is no key {key_id}")
    if key.purpose != DATA_PURPOSE:
        raise StepRefused("blind-index keys are retired by `flask keys reindex`")
    if key.retired_at is not None:
        raise StepRefused(f"key {key.id} is already retired")
    if key.is_primary:
        raise StepRefused(f"key {key.id} is the primary key: run `flask keys rotate` first")
    in_use = key_usage()[key.id]
    if in_use:
        raise StepRefused(f"key {key.id} still protects {in_use} values: run `flask keys rotate` to finish "
                      "re-encrypting them")
    not_before = retire_after(DATA_PURPOSE)
    if utcnow() < not_before:
        raise StepRefused(f"processes may still be encrypting with key {key.id} until {not_before:%Y-%m-%d %H:%M} "
                      "UTC (they check for a new primary key every minute); try again then")
    return retire_key(key)


# --- checking --------------------------------------------------------------------------------

def verify_values(batch_size=500):
    """Decrypt every stored value with keys loaded afresh. Returns (values checked, [Failure])."""
    ring = KeyRing(keyring().kek)
    checked, failures = 0, []
    for target in encrypted_targets():
        table, column = target.table.name, target.column.name
        after = None
        while True:
            query = select(target.pk, target.column).where(target.column.is_not(None))
            if after is not None:
                query = query.where(target.pk > after)
            rows = db.session.execute(query.order_by(target.pk).limit(batch_size)).all()
            for row_id, blob in rows:
                failure = _check_value(ring, blob, table, column, row_id)
                if failure:
                    failures.append(failure)
            checked += len(rows)
            if len(rows) < batch_size:
                break
            after = rows[-1][0]
    return checked, failures


def _check_value(ring, blob, table, column, row_id):
    try:
        deserialise(unseal(blob, table, column, row_id, ring))
    except DecryptionError as error:
        return Failure(table, column, row_id, error.reason)
    except KeyUnavailable:
        return Failure(table, column, row_id, "the data keys cannot be loaded (see the key problems)")
    except ValueError:
        return Failure(table, column, row_id, "decrypts but does not deserialise")
    return None


def verify_keys():
    """Problems with the stored keys, as [(key id or purpose, reason)]: a live key that the configured
    KEK did not wrap or that does not unwrap, a purpose without exactly one primary key."""
    ring, problems, primaries = keyring(), [], Counter()
    keys = db.session.execute(select(DataKey).where(DataKey.retired_at.is_(None))).scalars().all()
    for key in keys:
        primaries[key.purpose] += key.is_primary
        try:
            ring.unwrap_stored(key)
        except KeyUnavailable:
            problems.append((key.id, f"wrapped by another key-encryption key ({key.kek_id})"))
        except Exception:  # InvalidUnwrap: the wrapped key was altered
            problems.append((key.id, "does not unwrap with the configured key-encryption key"))
    for purpose in sorted({key.purpose for key in keys} | {DATA_PURPOSE}):
        if primaries[purpose] != 1:
            problems.append((purpose, f"{primaries[purpose]} primary keys instead of one"))
    return problems


# --- the key-encryption key ------------------------------------------------------------------

def rewrap_keys(new_kek):
    """Re-wrap every stored key (data and index, retired too) with a new KEK. Returns how many."""
    ring, new_id = keyring(), kek_fingerprint(new_kek)
    if new_id == ring.kek_id:
        raise StepRefused("the new key-encryption key is the one configured now")
    lock_keys()
    keys = db.session.execute(select(DataKey).order_by(DataKey.created_at)).scalars().all()
    foreign = [key for key in keys if key.kek_id not in (ring.kek_id, new_id)]
    if foreign:
        raise StepRefused(f"key {foreign[0].id} is wrapped by an unknown key-encryption key ({foreign[0].kek_id}); "
                      "nothing was changed")
    count = 0
    for key in keys:
        if key.kek_id == ring.kek_id:
            key.wrapped_key, key.kek_id = aes_key_wrap(new_kek, ring.unwrap_stored(key)), new_id
            count += 1
    db.session.flush()
    record("keys.kek_rotated", object_type="data_keys", detail={"keys": count, "kek_id": new_id})
    return count


# --- blind indexes ---------------------------------------------------------------------------

def indexed_values():
    """{(table, column, index name): how many rows have a value}, for every declared index column."""
    counts = {}
    for entry in BlindIndex.registry:
        column = entry.model.__mapper__.columns[entry.attr]
        counts[(column.table.name, column.name, entry.index_name)] = db.session.execute(
            select(func.count()).select_from(column.table).where(column.is_not(None))).scalar_one()
    return counts


def index_entries(name=None):
    """The declared blind-index columns, of index `name` or of all; StepRefused for an unknown name."""
    entries = [entry for entry in BlindIndex.registry if name is None or entry.index_name == name]
    if name is not None and not entries:
        raise StepRefused(f"no column is declared with blind index {name!r}")
    return entries


def start_reindex(name):
    """The key to recompute index `name` under, as (key, resumed): the primary when an unfinished
    reindex left an older live key, else a new primary key."""
    lock_keys()
    live = live_keys(index_purpose(name))
    if len(live) > 1 and live[0].is_primary:
        return live[0], True
    return create_key(index_purpose(name)), False


def reindex_batch(entry, after=None, batch_size=500):
    """One batch: recompute an index column under the primary index key; rows changed since they
    were read are skipped. No commit."""
    model = entry.model
    column = model.__mapper__.columns[entry.attr]
    query = select(model).order_by(model.id).limit(batch_size).execution_options(populate_existing=True)
    if after is not None:
        query = query.where(model.id > after)
    instances = db.session.execute(query).scalars().all()
    done = unchanged = skipped = 0
    failures = []
    for instance in instances:
        old = getattr(instance, entry.attr)
        try:
            new = blind_index(entry.index_name, *entry.parts(instance))
        except DecryptionError as error:
            failures.append(Failure(error.table, error.column, error.row_id, error.reason))
            continue
        if new == old:
            unchanged += 1
            continue
        changed = db.session.execute(
            update(column.table).where(column.table.c.id == instance.id, column.is_not_distinct_from(old))
            .values({column: new})
        ).rowcount
        db.session.expire(instance)
        done, skipped = done + changed, skipped + (1 - changed)
    return ReindexResult(instances[-1].id if instances else None, len(instances), done, unchanged, skipped,
                         failures)


def reindex_all(name, batch_size=500):
    """Recompute every column of index `name`, committing after each batch. Returns the totals."""
    done = unchanged = skipped = 0
    failures = []
    for entry in index_entries(name):
        after = None
        while True:
            batch = reindex_batch(entry, after, batch_size)
            db.session.commit()
            done, unchanged, skipped = done + batch.done, unchanged + batch.unchanged, skipped + batch.skipped
            failures += batch.failures
            if batch.rows < batch_size:
                break
            after = batch.last_id
    return ReindexResult(None, done + unchanged + skipped + len(failures), done, unchanged, skipped, failures)


def finish_reindex(name):
    """Retire the index's older keys once no process can still be using them.
    Returns (keys retired, the time from which they may be)."""
    purpose = index_purpose(name)
    not_before = retire_after(purpose)
    older = [key for key in live_keys(purpose) if not key.is_primary]
    if utcnow() < not_before:
        return [], not_before
    return [retire_key(key) for key in older], not_before
