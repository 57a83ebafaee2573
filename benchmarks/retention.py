"""What deleting for good costs: SQLite secure_delete on the case list and on a write, and the nightly
run (deleting a tenth of the cases, then the maintenance step: VACUUM on SQLite, VACUUM FULL of the
tables touched on PostgreSQL) with 10,000 cases.

    .venv/bin/python benchmarks/retention.py
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python benchmarks/retention.py

The demo (950 cases through the referral services) is seeded, then its cases, people, names,
locations and history are copied with new ids (the copies' ciphertexts do not open: the size and
the work are what is measured) to reach 10,000 cases.
"""
import os
import statistics
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("MARAC_ENV", "test")

from sqlalchemy import event, func, insert, select  # noqa: E402

from config import TestConfig  # noqa: E402
from marac import create_app  # noqa: E402
from marac.cases.models import Case, CaseStatus  # noqa: E402
from marac.demo.services import DEMO_PASSWORD, seed  # noqa: E402
from marac.extensions import db  # noqa: E402
from marac.panels.models import Panel, PanelKind  # noqa: E402
from marac.retention import services as retention  # noqa: E402
from tests.helpers import migrate_fresh, scratch_database_url  # noqa: E402

RUNS = 15
TARGET = 10_000
COPIED = ("people", "person_names", "locations", "cases", "case_parties", "case_locations", "case_changes")


def median_ms(action, runs=RUNS):
    times = []
    for _ in range(runs):
        begin = time.perf_counter()
        action()
        times.append(time.perf_counter() - begin)
    return statistics.median(times) * 1000


def secure_delete_costs(app, panel_id, case_id):
    """The case list page and a write (an encrypted referral overwritten, committed), secure_delete on and off."""
    client = app.test_client()
    response = client.post("/sign-in", data={"email": "marac.manager@example.org", "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.status_code

    def case_list():
        assert client.get(f"/panels/{panel_id}/cases").status_code == 200

    def write():
        with app.app_context():
            case = db.session.get(Case, case_id)
            referral = dict(case.referral)
            referral["recent_incident"] = "Demo: " + uuid.uuid4().hex * 20  # a new, longer ciphertext
            case.referral = referral
            db.session.commit()

    results = {}
    for setting in ("ON", "OFF"):
        def pragma(dbapi_connection, record, setting=setting):
            dbapi_connection.execute(f"PRAGMA secure_delete={setting}")

        with app.app_context():
            engine = db.engine
        event.listen(engine, "connect", pragma)
        engine.dispose()  # every connection from now on has the setting
        results[setting] = (median_ms(case_list), median_ms(write, runs=40))
        event.remove(engine, "connect", pragma)
        engine.dispose()
    for setting, (listing, writing) in results.items():
        print(f"secure_delete={setting}: case list (50 of 600) median {listing:.0f} ms; "
              f"a write (referral re-encrypted, committed) median {writing:.1f} ms")


def grow_to(target):
    """Copy the demo's cases (with their people, names, locations and history) until there are `target`."""
    tables = {name: db.metadata.tables[name] for name in COPIED}
    rows = {name: [dict(r._mapping) for r in db.session.execute(select(table))] for name, table in tables.items()}
    have = db.session.execute(select(func.count()).select_from(Case)).scalar()
    copy = 0
    while have < target:
        copy += 1
        new_ids = {}

        def new(old):
            if old is None:
                return None
            return new_ids.setdefault(old, uuid.uuid4())

        for name in COPIED:
            batch = []
            for row in rows[name]:
                row = dict(row)
                row["id"] = new(row["id"])
                for column in ("person_id", "location_id", "case_id"):
                    if column in row and name not in ("people", "locations"):
                        row[column] = new(row[column])
                if name == "cases":
                    row["repeat_of_id"] = None  # (a copy repeats nothing: the copies are inserted in batches)
                    row["reference"] = f"{row['reference']}-{copy}" if row["reference"] else None
                batch.append(row)
            if name == "cases":
                batch = batch[: target - have]
                keep = {row["id"] for row in batch}
            elif name in ("case_parties", "case_locations", "case_changes"):
                batch = [row for row in batch if row["case_id"] in keep]
            for start in range(0, len(batch), 1000):
                db.session.execute(insert(tables[name]), batch[start:start + 1000])
            if name == "cases":
                have += len(batch)
        db.session.commit()
    return have


def main():
    url = scratch_database_url("benchretention", tempfile.mkdtemp())
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url, "MFA_REQUIRED": False,
                                            "WTF_CSRF_ENABLED": False})
    migrate_fresh(app)
    with app.app_context():
        seed()
        db.session.commit()
        dialect = db.engine.dialect.name
        print(f"database: {dialect}")
        panel = db.session.execute(select(Panel).where(Panel.kind == PanelKind.MARAC)).scalar_one()
        case = db.session.execute(select(Case).where(Case.panel_id == panel.id, Case.status == CaseStatus.ACCEPTED)
                                  .limit(1)).scalar_one()
        panel_id, case_id = panel.id, case.id
        db.session.remove()
    if dialect == "sqlite":
        secure_delete_costs(app, panel_id, case_id)
    with app.app_context():
        begin = time.perf_counter()
        total = grow_to(TARGET)
        print(f"copied the demo to {total} cases in {time.perf_counter() - begin:.1f} s")
        if dialect == "sqlite":
            size = os.path.getsize(db.engine.url.database)
            print(f"database file: {size / 1e6:.1f} MB")
        victims = db.session.execute(select(Case.id).where(Case.status != CaseStatus.DELETED)
                                     .order_by(Case.id).limit(total // 10)).scalars().all()
        db.session.remove()
        begin = time.perf_counter()
        tables = retention.delete_cases(None, victims)
        db.session.commit()
        print(f"deleting {len(victims)} cases (tombstones written, rows deleted, audited, committed): "
              f"{time.perf_counter() - begin:.1f} s")
        db.session.remove()
        begin = time.perf_counter()
        statements = retention.scrub_files(tables)
        print(f"maintenance step ({'; '.join(statements)}): {time.perf_counter() - begin:.1f} s")
        begin = time.perf_counter()
        retention.due_cases()
        db.session.remove()
        print(f"working out which cases are due (every panel): {time.perf_counter() - begin:.2f} s")
        db.engine.dispose()


if __name__ == "__main__":
    main()
