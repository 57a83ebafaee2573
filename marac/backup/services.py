"""Backups of the whole database, and restoring one with checks. Services for `flask backup`.

A backup is one uncompressed tar file, written with mode 0600, holding two members:

- ``manifest.json``: the format, when and from what kind of database it was taken, the Alembic
  revision, the audit chain head (seq, hash), the row count of every table, the data and blind-index
  keys present (ids, purposes and the public fingerprint of the KEK that wrapped them: no key), a
  public fingerprint of the audit key, and the SHA-256 and size of the database member; sealed by an
  HMAC under the audit key, so that no one without that key can alter the manifest, nor (through its
  SHA-256) the database. It holds ids, counts and codes only: nothing personal and no key material.
- ``database.pgdump`` (PostgreSQL: ``pg_dump --format=custom``, taken in the snapshot the manifest was
  read in, so the two agree while the app keeps writing) or ``database.sqlite`` (SQLite: a copy made
  with the online backup API, consistent while the app runs, the manifest read from the copy).

The database holds its data keys only wrapped by the KEK (MARAC_KEK) and its audit chain is keyed by
MARAC_AUDIT_KEY; neither is in the backup, so a backup is useless without them, and they are kept apart
(docs/deployment.md). A restore refuses, before it changes anything, a backup whose keys the configured
KEK did not wrap or whose chain another audit key made. After restoring it checks the revision, every
table's count, the audit chain up to the manifest's head, and that every key unwraps and every
encrypted value decrypts (keys.rotation's checks, as `flask keys verify` runs them).

Nothing here prints or raises a value from the database: messages name tables, counts, ids and paths.
The PostgreSQL password is handed to pg_dump and pg_restore in their environment (PGPASSWORD), never
on the command line, and the database is described without it.
"""
import hashlib
import hmac
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections import namedtuple
from pathlib import Path

from flask import current_app
from sqlalchemy import create_engine, func, inspect, select, table, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from marac.audit.models import AuditChainHead
from marac.audit.services import ChainBroken, record, verify
from marac.core.crypto import decode_key, kek_fingerprint, keyring
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.keys.models import DataKey
from marac.keys.rotation import verify_keys, verify_values

FORMAT = "marac-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
PAYLOAD_NAMES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite"}
KIND_LABELS = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
MANIFEST_MAX_BYTES = 8 * 1024 * 1024
CHUNK = 1024 * 1024
# The tables whose counts `flask backup` prints; the manifest counts every table.
MAIN_TABLES = (("cases", "cases"), ("people", "people"), ("meetings", "meetings"), ("actions", "actions"),
               ("users", "users"), ("audit_events", "audit events"))

Check = namedtuple("Check", "name ok detail")  # one post-restore check and what it found


class BackupError(Exception):
    """A backup or restore refused or failed; the message is safe to print (no value, no password)."""


# --- the configured database -----------------------------------------------------------------------

def database_kind(engine=None):
    """"postgresql" or "sqlite": the kind of the configured database (others are refused)."""
    name = (engine or db.engine).dialect.name
    if name not in PAYLOAD_NAMES:
        raise BackupError(f"backups support PostgreSQL and SQLite, not {name}")
    return name


def sqlite_path(engine=None):
    """The absolute path of the configured SQLite file (Flask-SQLAlchemy resolves a relative one)."""
    path = (engine or db.engine).url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise BackupError("the configured SQLite database is not a file")
    return Path(path).resolve()


def libpq_target(url):
    """(libpq URL without the password, environment for pg_dump/pg_restore with PGPASSWORD set if the
    URL has one) for a SQLAlchemy URL such as postgresql+psycopg://user:secret@host/db."""
    url = make_url(url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    # Built anew: URL.set(password=None) would keep the password (None there means "unchanged").
    plain = URL.create("postgresql", username=url.username, host=url.host, port=url.port, database=url.database,
                       query=url.query)
    return plain.render_as_string(hide_password=False), env


def describe_target(engine=None):
    """The configured database in words, without a password: for output and confirmations."""
    engine = engine or db.engine
    if database_kind(engine) == "sqlite":
        return f"SQLite file {sqlite_path(engine)}"
    url = engine.url
    where = f"{url.host or 'local socket'}{':' + str(url.port) if url.port else ''}"
    return f"PostgreSQL database {url.database} on {where}"


def target_name(engine=None):
    """What an operator types to confirm replacing the configured database: its name, or file name."""
    engine = engine or db.engine
    return sqlite_path(engine).name if database_kind(engine) == "sqlite" else engine.url.database


def audit_key_id():
    """A public fingerprint of the configured audit key (an HMAC of a constant): it tells whether a
    backup's chain was made with this key without holding the key."""
    key = current_app.config["MARAC_AUDIT_KEY"].encode()
    return hmac.new(key, b"marac audit key id", hashlib.sha256).hexdigest()[:16]


def configured_kek_id():
    """The public fingerprint of the configured KEK (as data_keys.kek_id stores it)."""
    return kek_fingerprint(decode_key(current_app.config["MARAC_KEK"]))


def manifest_mac(manifest):
    """The HMAC (audit key) of a manifest's canonical JSON, its own "hmac" field left out."""
    body = {name: value for name, value in manifest.items() if name != "hmac"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(current_app.config["MARAC_AUDIT_KEY"].encode(), b"marac backup manifest\n" + canonical,
                    hashlib.sha256).hexdigest()


# --- what a database holds -------------------------------------------------------------------------

def facts(connection):
    """What the manifest records and a restore compares, read in one transaction of `connection`:
    {"alembic_revision", "audit_head": {"seq", "hash"}, "tables": {name: rows}, "data_keys": [...]}."""
    names = sorted(inspect(connection).get_table_names())
    tables = {name: connection.execute(select(func.count()).select_from(table(name))).scalar_one()
              for name in names}
    revision = head = None
    keys = []
    if "alembic_version" in names:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if "audit_chain_head" in names:
        row = connection.execute(select(AuditChainHead.seq, AuditChainHead.hash)
                                 .where(AuditChainHead.id == 1)).first()
        head = {"seq": row.seq, "hash": row.hash} if row else None
    if "data_keys" in names:
        columns = DataKey.__table__.c
        for row in connection.execute(select(columns.id, columns.purpose, columns.kek_id, columns.is_primary,
                                             columns.retired_at).order_by(columns.purpose, columns.id)):
            keys.append({"id": str(row.id), "purpose": row.purpose, "kek_id": row.kek_id,
                         "primary": bool(row.is_primary), "retired": row.retired_at is not None})
    return {"alembic_revision": revision, "audit_head": head, "tables": tables, "data_keys": keys}


def revision_advice(revision):
    """A sentence for the operator when the code's migrations are not at `revision`, else None."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
        heads = script.get_heads()
    except (CommandError, KeyError, OSError):  # no migrations folder: nothing to advise
        return None
    try:
        known = revision is None or script.get_revision(revision) is not None
    except CommandError:  # ScriptDirectory's form of an unknown revision id
        known = False
    if not known:
        return (f"this code does not know the backup's migration {revision}: run it with the code it was "
                "taken under, or newer")
    if revision not in heads:
        return (f"this code's newest migration is {', '.join(heads)}; the backup is at {revision}: run "
                "`flask db upgrade` before starting the app")
    return None


# --- creating --------------------------------------------------------------------------------------

def default_file_name(kind, moment=None):
    """marac-backup-<UTC timestamp>-<kind>.tar: a time and a database kind, nothing else."""
    return f"marac-backup-{(moment or utcnow()):%Y%m%dT%H%M%SZ}-{kind}.tar"


def output_path(output, kind, moment):
    """Where to write: `output` (a file, or a directory for the default name), else the default name in
    the current directory. Refuses an existing file."""
    path = Path(output) if output else Path.cwd()
    if path.is_dir():
        path = path / default_file_name(kind, moment)
    if path.exists():
        raise BackupError(f"{path} exists; choose a new file")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent} is not a directory")
    return path.resolve()


def create_backup(output=None):
    """Take a backup of the configured database into a new file. Returns (path, manifest, size).

    Records a `backup.created` event (in the live database, after the backup: the backup's own head is
    the one before it); the caller commits."""
    kind = database_kind()
    moment = utcnow()
    path = output_path(output, kind, moment)
    workdir = Path(_private_dir(path.parent))
    try:
        payload = workdir / PAYLOAD_NAMES[kind]
        found, server = _dump_postgresql(payload) if kind == "postgresql" else _copy_sqlite(payload)
        size, digest = _size_and_digest(payload)
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "created_at": moment.isoformat(),
            "database": kind, "server_version": server, **found,
            "kek_id": configured_kek_id(), "audit_key_id": audit_key_id(),
            "payload": {"name": payload.name, "bytes": size, "sha256": digest},
        }
        manifest["hmac"] = manifest_mac(manifest)
        _write_archive(path, workdir / ".partial", manifest, payload)
    except (OSError, sqlite3.Error) as error:  # a full disk, an unreadable SQLite file
        raise BackupError(f"writing the backup failed: {getattr(error, 'strerror', None) or error}") from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    written = path.stat().st_size
    record("backup.created", object_type="database", detail={
        "database": kind, "bytes": written, "head_seq": (manifest["audit_head"] or {}).get("seq"),
        "tables": len(manifest["tables"]), "rows": sum(manifest["tables"].values()),
        "revision": manifest["alembic_revision"]})
    return path, manifest, written


def _private_dir(parent):
    """A new directory only this user can read (mode 0700), beside the output so the rename is atomic."""
    try:
        return tempfile.mkdtemp(prefix=".marac-backup-", dir=parent)
    except OSError as error:
        raise BackupError(f"cannot write in {parent}: {error.strerror}") from None


def _private_file(path):
    """Create an empty file with mode 0600 (refusing an existing one)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _dump_postgresql(payload):
    """pg_dump --format=custom of the configured database in an exported snapshot, and the facts read in
    that same snapshot, so the manifest describes exactly what was dumped. Returns (facts, version)."""
    conninfo, env = libpq_target(db.engine.url)
    _private_file(payload)
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ",
                                               postgresql_readonly=True) as connection:
        with connection.begin():
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            found = facts(connection)
            server = connection.execute(text("SHOW server_version")).scalar_one().split()[0]
            _run(["pg_dump", "--format=custom", "--no-password", f"--snapshot={snapshot}",
                  f"--file={payload}", f"--dbname={conninfo}"], env, "pg_dump")
    return found, server


def _copy_sqlite(payload):
    """Copy the configured SQLite database with the online backup API (one step: a consistent read
    snapshot while the app keeps writing to its WAL), then read the facts from the copy. The copy is a
    single file (rollback journal, no WAL). Returns (facts, SQLite version)."""
    source_path = sqlite_path()
    if not source_path.exists():
        raise BackupError(f"the configured SQLite file {source_path} does not exist")
    _private_file(payload)
    source = sqlite3.connect(source_path, timeout=15)
    try:
        target = sqlite3.connect(payload)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()
    engine = create_engine(f"sqlite:///{payload}", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            found = facts(connection)
    finally:
        engine.dispose()
    copy = sqlite3.connect(payload)
    try:
        copy.execute("PRAGMA journal_mode=DELETE")  # fold any WAL back in: one self-contained file
    finally:
        copy.close()
    return found, sqlite3.sqlite_version


def _run(command, env, name):
    """Run pg_dump / pg_restore; on failure raise BackupError with the tool's own error lines only (the
    server's DETAIL, CONTEXT and "Command was" lines, which can quote row values, are left out)."""
    try:
        result = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)") from None
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.startswith(f"{name}: ")]
        raise BackupError(f"{name} failed (exit {result.returncode}): " + " / ".join(lines[:5]))
    return result


def _size_and_digest(path):
    """(size in bytes, SHA-256 hex) of a file."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _member(name, size, mtime):
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, mtime
    return info


def _write_archive(path, partial, manifest, payload):
    """Write the tar (manifest first) to a 0600 file beside the output, then rename it into place, so
    that an interrupted backup never leaves a file under the final name."""
    encoded = json.dumps(manifest, indent=2, sort_keys=True).encode()
    mtime = int(utcnow().timestamp())
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        with tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as archive:
            archive.addfile(_member(MANIFEST_NAME, len(encoded), mtime), io.BytesIO(encoded))
            with open(payload, "rb") as data:
                archive.addfile(_member(payload.name, manifest["payload"]["bytes"], mtime), data)
        handle.flush()
        os.fsync(handle.fileno())
    if path.exists():
        raise BackupError(f"{path} exists; choose a new file")
    os.replace(partial, path)


# --- reading a backup ------------------------------------------------------------------------------

def open_backup(path, workdir):
    """Read a backup's manifest and extract its database member into `workdir`, checking its size and
    SHA-256 against the manifest. Returns (manifest, payload path). BackupError if it is damaged."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    damaged = f"{path.name} is damaged or not a marac backup"
    try:
        with tarfile.open(path, mode="r:") as archive:
            first = archive.next()
            if first is None or first.name != MANIFEST_NAME or not first.isfile() or first.size > MANIFEST_MAX_BYTES:
                raise BackupError(f"{damaged}: it does not start with a manifest")
            manifest = _parse_manifest(archive.extractfile(first).read(), damaged)
            second = archive.next()
            expected = manifest["payload"]
            if second is None or second.name != expected["name"] or not second.isfile():
                raise BackupError(f"{damaged}: the database member is missing")
            payload = Path(workdir) / expected["name"]
            _private_file(payload)
            digest, size = hashlib.sha256(), 0
            source = archive.extractfile(second)
            with open(payload, "wb") as out:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            if archive.next() is not None:
                raise BackupError(f"{damaged}: it holds more than a manifest and a database")
    except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError) as error:
        raise BackupError(f"{damaged} ({type(error).__name__}: truncated or altered)") from None
    if size != expected["bytes"] or digest.hexdigest() != expected["sha256"]:
        raise BackupError(f"{damaged}: the database member does not match its checksum (truncated or altered)")
    return manifest, payload


def _parse_manifest(raw, damaged):
    try:
        manifest = json.loads(raw.decode())
    except ValueError:
        raise BackupError(f"{damaged}: the manifest is not readable") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{damaged}: the manifest is not a marac backup's")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"this backup has format version {manifest.get('format_version')}; this code reads "
                          f"version {FORMAT_VERSION}")
    kind = manifest.get("database")
    payload = manifest.get("payload")
    if kind not in PAYLOAD_NAMES or not isinstance(payload, dict) or payload.get("name") != PAYLOAD_NAMES[kind]:
        raise BackupError(f"{damaged}: the manifest does not describe its database member")
    if not _well_formed(manifest):
        raise BackupError(f"{damaged}: the manifest is not well formed")
    if manifest["audit_key_id"] == audit_key_id() and not hmac.compare_digest(manifest["hmac"],
                                                                             manifest_mac(manifest)):
        raise BackupError(f"{damaged}: the manifest was altered (its HMAC does not match)")
    return manifest


def _well_formed(manifest):
    """Whether a manifest has every field, of its type (the restore reads them without more checks)."""
    payload, head, tables, keys = (manifest.get(name) for name in ("payload", "audit_head", "tables", "data_keys"))
    strings = ("created_at", "kek_id", "audit_key_id", "hmac")
    return (all(isinstance(manifest.get(name), str) for name in strings)
            and isinstance(manifest.get("alembic_revision"), (str, type(None)))
            and isinstance(payload.get("bytes"), int) and isinstance(payload.get("sha256"), str)
            and (head is None or isinstance(head, dict) and isinstance(head.get("seq"), int)
                 and isinstance(head.get("hash"), str))
            and isinstance(tables, dict) and all(isinstance(n, str) and isinstance(c, int) for n, c in tables.items())
            and isinstance(keys, list) and all(isinstance(k, dict) and {"id", "purpose", "kek_id", "retired"} <= set(k)
                                               for k in keys))


# --- restoring -------------------------------------------------------------------------------------

def target_tables():
    """The tables in the configured database (its default schema)."""
    if database_kind() == "sqlite" and not sqlite_path().exists():
        return []
    with db.engine.connect() as connection:
        return sorted(inspect(connection).get_table_names())


def refusals(manifest, replace):
    """Why this backup must not be restored into the configured database now ([] if it may be): another
    kind of database, keys this KEK did not wrap, a chain made with another audit key, a target that is
    not empty (without `replace`), or one with tables the backup lacks (they would survive it)."""
    problems = []
    kind = database_kind()
    if manifest["database"] != kind:
        problems.append(f"this is a backup of a {KIND_LABELS[manifest['database']]} database; the configured "
                        f"database is {KIND_LABELS[kind]}")
    kek_id = configured_kek_id()
    foreign = sorted({key["kek_id"] for key in manifest["data_keys"] if not key["retired"]} - {kek_id})
    if foreign:
        problems.append(f"wrong key-encryption key: this backup's keys are wrapped by KEK {', '.join(foreign)}, "
                        f"the configured MARAC_KEK is {kek_id}. Set MARAC_KEK (or MARAC_KEK_FILE) to the KEK in "
                        "use when the backup was taken")
    if manifest["audit_key_id"] != audit_key_id():
        problems.append(f"wrong audit key: this backup's audit chain was made with audit key "
                        f"{manifest['audit_key_id']}, the configured MARAC_AUDIT_KEY is {audit_key_id()}")
    present = target_tables()
    if present and not replace:
        problems.append(f"the target is not empty ({len(present)} tables): restore into an empty database, or "
                        "give --replace to overwrite it")
    extra = sorted(set(present) - set(manifest["tables"]))
    if present and replace and extra and kind == "postgresql":
        problems.append(f"the target has tables the backup lacks, which a restore would leave behind: "
                        f"{', '.join(extra)}. Drop and recreate the database, then restore into it empty")
    return problems


def load(manifest, payload, replace):
    """Restore the extracted database member into the configured database, all or nothing: pg_restore
    in a single transaction (dropping the backup's objects first with `replace`), or the SQLite backup
    API into the target file."""
    db.session.remove()
    db.engine.dispose()
    if manifest["database"] == "postgresql":
        conninfo, env = libpq_target(db.engine.url)
        command = ["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction", "--no-password",
                   f"--dbname={conninfo}"]
        if replace:
            command += ["--clean", "--if-exists"]
        _run(command + [str(payload)], env, "pg_restore")
    else:
        target_path = sqlite_path()
        if not target_path.parent.is_dir():
            raise BackupError(f"{target_path.parent} is not a directory")
        if not target_path.exists():
            _private_file(target_path)
        source = sqlite3.connect(f"{Path(payload).resolve().as_uri()}?mode=ro", uri=True)
        try:
            target = sqlite3.connect(target_path, timeout=15)
            try:
                source.backup(target)
            finally:
                target.close()
        except sqlite3.Error as error:
            raise BackupError(f"copying into {target_path} failed: {error}") from None
        finally:
            source.close()
    db.engine.dispose()
    keyring().forget()


def check_restored(manifest):
    """Compare the restored database with the manifest and check it: [Check]. Reads only."""
    checks = []
    found = facts(db.session.connection())
    checks.append(Check("migration revision", found["alembic_revision"] == manifest["alembic_revision"],
                        f"{found['alembic_revision']} (backup: {manifest['alembic_revision']})"))
    expected, actual = manifest["tables"], found["tables"]
    differ = sorted(name for name in set(expected) | set(actual) if expected.get(name) != actual.get(name))
    checks.append(Check("row counts", not differ,
                        f"{len(actual)} tables, {sum(actual.values())} rows" if not differ else
                        "differ in " + ", ".join(f"{n} ({actual.get(n)} not {expected.get(n)})" for n in differ[:10])))
    keys_expected = [key["id"] for key in manifest["data_keys"]]
    keys_found = [key["id"] for key in found["data_keys"]]
    checks.append(Check("key ids", keys_found == keys_expected,
                        f"{len(keys_found)} keys" + ("" if keys_found == keys_expected else
                                                     f", the backup lists {len(keys_expected)} others")))
    checks.append(_check_chain(manifest["audit_head"]))
    problems = verify_keys()
    checks.append(Check("keys unwrap with the configured KEK", not problems,
                        "all" if not problems else "; ".join(f"{subject}: {why}" for subject, why in problems[:5])))
    checked, failures = verify_values()
    checks.append(Check("encrypted values decrypt", not failures,
                        f"{checked} values" if not failures else
                        f"{len(failures)} of {checked} fail, first: " +
                        ", ".join(f"{f.table}.{f.column} row {f.row_id}" for f in failures[:5])))
    db.session.rollback()
    return checks


def _check_chain(head):
    """The audit chain verifies with the configured key and reaches the manifest's head."""
    if head is None:
        return Check("audit chain", False, "the backup records no chain head")
    try:
        count, seq, hash_ = verify(head=(head["seq"], head["hash"]))
    except ChainBroken as broken:
        return Check("audit chain", False, f"broken at event {broken.seq}: {broken.reason}")
    return Check("audit chain", True, f"{count} events, head {seq}:{hash_[:12]} (backup: {head['seq']})")


def record_restore(manifest, checks):
    """Audit the restore in the restored database (after its checks: the event follows the backup's
    head). The caller commits."""
    return record("backup.restored", object_type="database", detail={
        "database": manifest["database"], "created_at": manifest["created_at"],
        "head_seq": (manifest["audit_head"] or {}).get("seq"), "revision": manifest["alembic_revision"],
        "checks_failed": [check.name for check in checks if not check.ok]})
