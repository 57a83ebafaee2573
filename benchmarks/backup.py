"""`flask backup create` and `flask backup restore` at the demo volumes (950 cases and their history).

    .venv/bin/python benchmarks/backup.py
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python benchmarks/backup.py

Seeds a scratch database with the demo data, takes a backup through the CLI, and restores it through
the CLI into a second, empty scratch database with the same keys. Prints the database's size, the
backup file's size, and the wall time of each command (the restore's includes its checks: counts, the
audit chain, and decrypting every value), then the time of those checks alone.
"""
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("MARAC_ENV", "test")

from sqlalchemy import text  # noqa: E402

from config import SECRET_NAMES, TestConfig  # noqa: E402
from marac import create_app  # noqa: E402
from marac.backup.services import check_restored, open_backup  # noqa: E402
from marac.demo.services import seed  # noqa: E402
from marac.extensions import db  # noqa: E402
from tests.helpers import migrate_fresh, scratch_database_url  # noqa: E402


def megabytes(count):
    """Bytes as MB with one decimal."""
    return f"{count / 1e6:.1f} MB"


def database_size(app):
    """The size of the app's database in words: its SQLite file and WAL, or pg_database_size."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            path = Path(db.engine.url.database)
            wal = Path(f"{path}-wal")
            return f"{megabytes(path.stat().st_size)} (+ WAL {megabytes(wal.stat().st_size if wal.exists() else 0)})"
        with db.engine.connect() as connection:
            return megabytes(connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one())


def main():
    tmp = Path(tempfile.mkdtemp())
    source = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": scratch_database_url("benchbackup", tmp)})
    migrate_fresh(source)
    with source.app_context():
        begin = time.perf_counter()
        seed()
        db.session.commit()
        print(f"database: {db.engine.dialect.name}; demo seeded in {time.perf_counter() - begin:.1f} s")
        cases = db.session.execute(text("SELECT count(*) FROM cases")).scalar_one()
        events = db.session.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
        db.session.remove()
    print(f"{cases} cases, {events} audit events; database {database_size(source)}")

    outdir = tmp / "backups"
    outdir.mkdir()
    begin = time.perf_counter()
    result = source.test_cli_runner().invoke(args=["backup", "create", "--output", str(outdir)])
    created = time.perf_counter() - begin
    assert result.exit_code == 0, result.output
    [path] = outdir.iterdir()
    print(f"backup create: {created:.2f} s, file {megabytes(path.stat().st_size)}")

    keys = {name: source.config[name] for name in SECRET_NAMES}
    target = create_app(TestConfig, overrides={
        "SQLALCHEMY_DATABASE_URI": scratch_database_url("benchbackup_restore", tmp), **keys})
    begin = time.perf_counter()
    result = target.test_cli_runner().invoke(args=["backup", "restore", str(path), "--yes"])
    restored = time.perf_counter() - begin
    assert result.exit_code == 0, result.output
    print(f"backup restore (with its checks): {restored:.2f} s")
    with target.app_context(), tempfile.TemporaryDirectory() as scratch:
        manifest, _ = open_backup(path, scratch)
        begin = time.perf_counter()
        checks = check_restored(manifest)
        print(f"  of which the checks: {time.perf_counter() - begin:.2f} s "
              f"({'; '.join(f'{c.name}: {c.detail}' for c in checks if c.name == 'encrypted values decrypt')})")
        db.session.remove()
        db.engine.dispose()
    with source.app_context():
        db.engine.dispose()


if __name__ == "__main__":
    main()
