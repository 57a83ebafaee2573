"""`flask backup create` / `flask backup restore`: the restore drill, on SQLite and on PostgreSQL.

A source database with two invented cases (heard, actioned, packed, closed) is backed up through the
CLI and restored into fresh scratch databases by a second app with the same keys. The restored
database must read: every encrypted value decrypts (and the invented name comes back), the audit chain
verifies to the same head, and every table has the rows it had. The backup holds no key, its name and
the commands' output no name; a restore refuses a database that is not empty (unless replaced on
typed confirmation), a KEK or audit key that is not the backup's, and a damaged file, each with a
sentence and nothing changed.
"""
import io
import json
import os
import re
import stat
import tarfile
import threading
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import func, inspect, select, table, text

from config import SECRET_NAMES, TestConfig, new_key_b64
from marac import create_app
from marac.audit.models import AuditChainHead
from marac.audit.services import verify
from marac.extensions import db
from marac.keys.rotation import verify_values
from marac.people.models import Person
from tests.helpers import migrate_fresh, scratch_database_url
from tests.test_retention import build_panel, full_case

pytestmark = pytest.mark.no_db_transaction

# Invented, and unusual enough never to occur by chance.
FIRST, OTHER, LAST = "Quibblora", "Wibblethorpe", "Backupfakeworth"
NAME_PATTERN = re.compile(r"marac-backup-\d{8}T\d{6}Z-(sqlite|postgresql)\.tar")


def counts():
    """{table: rows} of the app's database, read apart from the code under test."""
    with db.engine.connect() as connection:
        return {name: connection.execute(select(func.count()).select_from(table(name))).scalar_one()
                for name in inspect(connection).get_table_names()}


def table_names(app):
    """The tables of an app's database (none for a scratch database not yet written)."""
    with app.app_context():
        with db.engine.connect() as connection:
            names = inspect(connection).get_table_names()
        db.engine.dispose()
    return names


def close(app):
    """Release an app's connections, so its scratch database can be dropped."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The database backed up: two invented cases through the services, and their whole history."""
    tmp = tmp_path_factory.mktemp("backup")
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": scratch_database_url("backup_src", tmp)})
    migrate_fresh(app)
    with app.app_context():
        panel, users, idva = build_panel()
        full_case(panel, users, idva, first=FIRST, last=LAST)
        full_case(panel, users, idva, first=OTHER, last=LAST, days_ago=20)
        db.session.commit()
    yield SimpleNamespace(app=app, tmp=tmp, keys={name: app.config[name] for name in SECRET_NAMES})
    close(app)


@pytest.fixture(scope="module")
def backup(source):
    """`flask backup create --output DIR` of the source: its file, output and manifest."""
    outdir = source.tmp / "out"
    outdir.mkdir()
    result = source.app.test_cli_runner().invoke(args=["backup", "create", "--output", str(outdir)])
    assert result.exit_code == 0, result.output
    [path] = outdir.iterdir()
    with tarfile.open(path) as archive:
        manifest = json.loads(archive.extractfile("manifest.json").read())
    with source.app.app_context():
        after = counts()
    return SimpleNamespace(path=path, output=result.output, manifest=manifest, source_counts=after)


def target(source, suffix, **keys):
    """A second app on a fresh, empty scratch database, with the source's keys unless given others."""
    url = scratch_database_url(f"backup_{suffix}", source.tmp)
    return create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url, **source.keys, **keys})


def restore(app, path, *options, input=None):
    """Run `flask backup restore PATH [options]` in the app."""
    return app.test_cli_runner().invoke(args=["backup", "restore", str(path), *options], input=input)


# --- the backup ------------------------------------------------------------------------------

def test_the_backup_file_is_private_and_says_what_it_holds_without_names(source, backup):
    assert NAME_PATTERN.fullmatch(backup.path.name)
    assert stat.S_IMODE(backup.path.stat().st_mode) == 0o600
    assert not [p for p in backup.path.parent.iterdir() if p != backup.path]  # no temporary file left
    manifest = backup.manifest
    kind = "postgresql" if source.app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else "sqlite"
    assert manifest["database"] == kind and kind in backup.path.name
    with source.app.app_context():
        head = db.session.get(AuditChainHead, 1)
        assert manifest["audit_head"]["seq"] == head.seq - 1  # the backup.created event follows it
        db.session.remove()
    assert f"Audit chain head: {manifest['audit_head']['seq']}:{manifest['audit_head']['hash'][:12]}" in backup.output
    assert f"cases {manifest['tables']['cases']}," in backup.output and manifest["tables"]["cases"] == 2
    assert str(backup.path) in backup.output
    for name in (FIRST, OTHER, LAST):
        assert name not in backup.path.name and name not in backup.output


def test_the_backup_holds_no_key_material(source, backup):
    import base64

    raw = backup.path.read_bytes()
    for name, value in source.keys.items():
        assert value.encode() not in raw, name
        if name != "SECRET_KEY":
            assert base64.b64decode(value) not in raw, name
    assert set(backup.manifest) == {
        "format", "format_version", "created_at", "database", "server_version", "alembic_revision", "audit_head",
        "tables", "data_keys", "kek_id", "audit_key_id", "payload", "hmac"}
    assert {tuple(sorted(key)) for key in backup.manifest["data_keys"]} == {
        ("id", "kek_id", "primary", "purpose", "retired")}
    # The personal values themselves are encrypted in the copy.
    for name in (FIRST, OTHER, LAST):
        assert name.encode() not in raw


# --- the restore drill -----------------------------------------------------------------------

def test_a_restore_into_a_fresh_database_reads_every_value_and_the_same_chain(source, backup):
    app = target(source, "fresh")
    result = restore(app, backup.path, "--yes")
    assert result.exit_code == 0, result.output
    assert "RESTORE VERIFIED" in result.output and "FAIL" not in result.output
    for name in (FIRST, OTHER, LAST):
        assert name not in result.output
    head = backup.manifest["audit_head"]
    with app.app_context():
        checked, failures = verify_values()
        assert checked > 50 and not failures
        count, seq, _ = verify(head=(head["seq"], head["hash"]))
        assert seq == count == head["seq"] + 1  # the restore's own event follows the backup's head
        names = {(person.first_names, person.last_name) for person in db.session.execute(select(Person)).scalars()}
        assert (FIRST, LAST) in names and (OTHER, LAST) in names
        db.session.remove()  # end the read (on SQLite a transaction holds the write lock)
        restored = counts()
    # Every table as in the source: each has gained one event since (backup.created, backup.restored).
    assert restored == backup.source_counts
    assert {name: rows for name, rows in restored.items() if name != "audit_events"} == {
        name: rows for name, rows in backup.manifest["tables"].items() if name != "audit_events"}
    close(app)


def test_a_restore_refuses_a_database_that_is_not_empty_unless_replaced_on_typed_confirmation(source, backup):
    app = target(source, "replace")
    assert restore(app, backup.path, "--yes").exit_code == 0
    with app.app_context():
        before = counts()
        db.engine.dispose()
    refused = restore(app, backup.path, "--yes")
    assert refused.exit_code == 1 and "not empty" in refused.output and "nothing was changed" in refused.output
    name = app.config["SQLALCHEMY_DATABASE_URI"].rsplit("/", 1)[1]
    mistyped = restore(app, backup.path, "--replace", input="not-the-name\n")
    assert mistyped.exit_code == 1 and "Not confirmed" in mistyped.output
    with app.app_context():
        assert counts() == before
        db.engine.dispose()
    replaced = restore(app, backup.path, "--replace", input=f"{name}\n")
    assert replaced.exit_code == 0, replaced.output
    assert "RESTORE VERIFIED" in replaced.output
    with app.app_context():
        assert counts() == before  # the backup again, plus its own restore event
        db.engine.dispose()
    close(app)


@pytest.mark.parametrize("key, says", [("MARAC_KEK", "wrong key-encryption key"),
                                       ("MARAC_AUDIT_KEY", "wrong audit key")])
def test_a_restore_with_another_key_is_refused_clearly_and_changes_nothing(source, backup, key, says):
    app = target(source, "wrongkey", **{key: new_key_b64()})
    result = restore(app, backup.path, "--yes")
    assert result.exit_code == 1 and says in result.output and "nothing was changed" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert table_names(app) == []
    close(app)


def damaged_copies(path, tmp):
    """Copies of a backup that a restore must refuse: truncated, a byte changed, not a tar at all."""
    raw = path.read_bytes()
    flipped = bytearray(raw)
    flipped[len(raw) * 3 // 4] ^= 0x01
    copies = {"truncated": raw[: len(raw) // 2], "altered": bytes(flipped), "not a backup": os.urandom(4096),
              "empty": b""}
    for name, content in copies.items():
        (tmp / f"{name}.tar").write_bytes(content)
    return [tmp / f"{name}.tar" for name in copies]


def test_a_damaged_backup_is_refused(source, backup, tmp_path):
    app = target(source, "damaged")
    for copy in damaged_copies(backup.path, tmp_path):
        result = restore(app, copy, "--yes")
        assert result.exit_code == 1, copy.name
        assert "Refused" in result.output and "damaged" in result.output, (copy.name, result.output)
        assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert table_names(app) == []
    close(app)


def forge(backup, path, change, seal_with=None):
    """A copy of the backup whose manifest `change` edited, sealed again by `seal_with` (an app holding
    the audit key) or left with the original HMAC."""
    from marac.backup.services import manifest_mac

    with tarfile.open(backup.path) as archive:
        manifest = json.loads(archive.extractfile("manifest.json").read())
        change(manifest)
        if seal_with is not None:
            with seal_with.app_context():
                manifest["hmac"] = manifest_mac(manifest)
        with tarfile.open(path, "w") as out:
            encoded = json.dumps(manifest).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(encoded)
            out.addfile(info, io.BytesIO(encoded))
            member = archive.getmember(manifest["payload"]["name"])
            out.addfile(member, archive.extractfile(member))
    return path


def test_a_manifest_altered_without_the_audit_key_is_refused(source, backup, tmp_path):
    """Its HMAC no longer matches: nor may the database member be swapped with its SHA-256 edited."""
    app = target(source, "forged")

    def one_more_case(manifest):
        manifest["tables"]["cases"] += 1

    result = restore(app, forge(backup, tmp_path / "forged.tar", one_more_case), "--yes")
    assert result.exit_code == 1 and "the manifest was altered" in result.output
    assert table_names(app) == []
    close(app)


def test_a_restore_that_does_not_match_its_manifest_fails_its_checks(source, backup, tmp_path):
    """A manifest that counts one case more than the database holds (a dump that lost a row), sealed by
    the audit key: the restore runs, its checks find the difference, and the verdict is a failure."""

    def one_more_case(manifest):
        manifest["tables"]["cases"] += 1

    forged = forge(backup, tmp_path / "forged.tar", one_more_case, seal_with=source.app)
    app = target(source, "mismatch")
    result = restore(app, forged, "--yes")
    assert result.exit_code == 1
    assert "FAIL row counts: differ in cases (2 not 3)" in result.output and "RESTORE FAILED" in result.output
    assert "OK   audit chain" in result.output and "OK   encrypted values decrypt" in result.output
    close(app)


def test_create_refuses_to_overwrite_a_file(source, backup):
    before = backup.path.read_bytes()
    result = source.app.test_cli_runner().invoke(args=["backup", "create", "--output", str(backup.path)])
    assert result.exit_code == 1 and "exists" in result.output
    assert backup.path.read_bytes() == before


def test_a_backup_taken_while_the_app_writes_is_consistent(source, tmp_path):
    """Another connection appends audit events all through `backup create`: the manifest and the copy
    are of one moment (PostgreSQL: one exported snapshot; SQLite: the online backup API), so a restore
    of it passes every check."""
    from marac.audit.services import record

    stop, errors, written = threading.Event(), [], []

    def writer():
        try:
            with source.app.app_context():
                while not stop.is_set():
                    record("test.during_backup", object_type="writer")
                    db.session.commit()
                    written.append(1)
                db.session.remove()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(repr(error))

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 5 and thread.is_alive():
            time.sleep(0.01)
        before = len(written)
        result = source.app.test_cli_runner().invoke(args=["backup", "create", "--output", str(tmp_path)])
        after = len(written)
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    assert not errors and after > before  # the app wrote while the backup ran
    [path] = tmp_path.glob("*.tar")
    app = target(source, "during")
    restored = restore(app, path, "--yes")
    assert restored.exit_code == 0 and "RESTORE VERIFIED" in restored.output, restored.output
    close(app)


def test_replacing_a_database_with_a_table_the_backup_lacks(source, backup):
    """SQLite: the whole file is replaced, the extra table with it. PostgreSQL: pg_restore would leave
    it behind, so the restore is refused before it changes anything."""
    app = target(source, "extra")
    assert restore(app, backup.path, "--yes").exit_code == 0
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("CREATE TABLE invented_extra (id integer)"))
        db.engine.dispose()
    result = restore(app, backup.path, "--replace", "--yes")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert result.exit_code == 1 and "invented_extra" in result.output and "Drop and recreate" in result.output
        assert "invented_extra" in table_names(app)
    else:
        assert result.exit_code == 0 and "RESTORE VERIFIED" in result.output
        assert "invented_extra" not in table_names(app)
    close(app)


def test_the_password_goes_to_the_environment_never_the_command_line():
    from marac.backup.services import libpq_target

    conninfo, env = libpq_target("postgresql+psycopg://marac:s3cr%40t@db.example:5433/marac?sslmode=require")
    assert conninfo == "postgresql://marac@db.example:5433/marac?sslmode=require"
    assert env["PGPASSWORD"] == "s3cr@t"
    assert libpq_target("postgresql+psycopg://marac@db.example/marac")[0] == "postgresql://marac@db.example/marac"


def test_the_restore_says_what_to_do_about_the_migration(source, backup):
    from marac.backup.services import revision_advice

    with source.app.app_context():
        assert revision_advice(backup.manifest["alembic_revision"]) is None
        assert "db upgrade" in revision_advice("20261122_0001")
        assert "does not know" in revision_advice("29991231_9999")


def test_pg_dump_gets_the_password_in_its_environment(source, tmp_path, monkeypatch):
    """With a password in DATABASE_URL, pg_dump's command line holds none; PGPASSWORD does; the output
    does not show it (the server here trusts local connections, so any password works)."""
    import subprocess

    from sqlalchemy.engine import make_url

    url = make_url(source.app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        pytest.skip("pg_dump is PostgreSQL's")
    password = "invented-Pa55word"
    app = create_app(TestConfig, overrides={
        "SQLALCHEMY_DATABASE_URI": url.set(password=password).render_as_string(hide_password=False), **source.keys})
    calls, real = [], subprocess.run

    def spy(command, **kwargs):
        calls.append((command, kwargs.get("env", {})))
        return real(command, **kwargs)

    monkeypatch.setattr("marac.backup.services.subprocess.run", spy)
    result = app.test_cli_runner().invoke(args=["backup", "create", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [(command, env)] = calls
    assert command[0] == "pg_dump" and not [arg for arg in command if password in arg]
    assert env["PGPASSWORD"] == password and password not in result.output
    close(app)
