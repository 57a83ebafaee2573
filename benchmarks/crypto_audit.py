"""Field encryption and audit-trail costs. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/crypto_audit.py            # SQLite (temporary file)
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python benchmarks/crypto_audit.py

Measures: encrypt and decrypt cost per field; decrypting a 50-row page of 6 encrypted fields
against the same page unencrypted; audit appends per second (one commit per append, as a request
does) on the database given.
"""
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("MARAC_ENV", "test")

from config import TestConfig  # noqa: E402
from marac import create_app  # noqa: E402
from marac.audit.services import record  # noqa: E402
from marac.core.crypto import decrypt_value, encrypt_value  # noqa: E402
from marac.extensions import db  # noqa: E402
from tests.helpers import migrate_fresh, scratch_database_url  # noqa: E402

FIELDS = [("first_name", str, "Testina"), ("last_name", str, "Fakeperson-Example"),
          ("date_of_birth", dt.date, dt.date(1990, 4, 1)), ("address", str, "1 Nowhere Street, Testtown"),
          ("postcode", str, "ZZ99 9ZZ"), ("phone", str, "07700 900000")]


def per_call(fn, repeat):
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def median_of(fn, runs=7):
    return statistics.median(fn() for _ in range(runs))


def main():
    url = scratch_database_url("bench", tempfile.mkdtemp())
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url})
    migrate_fresh(app)
    with app.app_context():
        row_id = uuid.uuid4()
        blob = encrypt_value("Testina Fakeperson", str, "people", "first_name", row_id)
        enc = median_of(lambda: per_call(lambda: encrypt_value("Testina Fakeperson", str, "people", "first_name",
                                                                row_id), 2000))
        dec = median_of(lambda: per_call(lambda: decrypt_value(blob, "people", "first_name", row_id), 2000))
        print(f"database: {db.engine.dialect.name}")
        print(f"encrypt one field: {enc * 1e6:.1f} µs")
        print(f"decrypt one field: {dec * 1e6:.1f} µs")

        page = []
        for _ in range(50):
            rid = uuid.uuid4()
            page.append([(encrypt_value(value, kind, "people", name, rid), name, rid) for name, kind, value in FIELDS])
        plain_page = [[value for _, _, value in FIELDS] for _ in range(50)]

        def decrypt_page():
            return [[decrypt_value(b, "people", name, rid) for b, name, rid in row] for row in page]

        def read_plain_page():
            return [[value for value in row] for row in plain_page]

        cost = median_of(lambda: per_call(decrypt_page, 50))
        plain = median_of(lambda: per_call(read_plain_page, 50))
        print(f"50-row page x 6 fields: decrypt {cost * 1e3:.2f} ms, unencrypted {plain * 1e3:.3f} ms, "
              f"added {(cost - plain) * 1e3:.2f} ms per page")

        n = 500
        start = time.perf_counter()
        for i in range(n):
            record("bench.append", object_type="bench", object_id=str(i), detail={"i": i})
            db.session.commit()
        elapsed = time.perf_counter() - start
        print(f"audit appends (one commit each): {n / elapsed:.0f} per second")
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
