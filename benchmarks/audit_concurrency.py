"""Audit-chain appends under concurrency: what the chain head serialises. Prints figures; asserts nothing.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_audit \
        .venv/bin/python benchmarks/audit_concurrency.py [--seconds 5] [--writers 1,8,32]

Each writer is a process (as a gunicorn worker is) with its own app and one connection, appending
events for a fixed time, each in its own transaction, in two shapes:
  commit   record() then commit: a write step whose only row is its event;
  page     record(), then 5 ms of other work (a sleep: the rest of a page's render, which on a real
           host is CPU and queries), then commit: a page view, whose read is audited first;
each with the chain head locked at record() (-early: how record() worked before events were appended
at commit; the benchmark calls append_pending() at once) or at the commit (-late: record() now).
Runs alternate between the shapes for each number of writers, so that the machine's other load
(it is shared) falls on both alike.
It prints appends/s across all writers, p50/p95 of a transaction (record to end of commit), the
p50/p95 wait for the chain-head lock (the SELECT ... FOR UPDATE on audit_chain_head, wherever in
the transaction it is taken) and how long it is held (from then to the end of the commit: one over
that is the ceiling on appending transactions per second, across every host), and verifies the chain afterwards (`flask audit verify`'s check).
On SQLite every transaction takes the database's write lock at BEGIN, so there it measures that lock.
"""
import argparse
import multiprocessing
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("MARAC_ENV", "test")

from sqlalchemy import event, text  # noqa: E402

from config import TestConfig  # noqa: E402
from marac import create_app  # noqa: E402
from marac.audit.services import append_pending, record, verify  # noqa: E402
from marac.extensions import db  # noqa: E402
from tests.helpers import migrate_fresh, scratch_database_url  # noqa: E402

# shape: (seconds of other work after record(), whether the head is locked at record() as before)
SHAPES = {"commit-early": (0.0, True), "commit-late": (0.0, False),
          "page-early": (0.005, True), "page-late": (0.005, False)}


SECRETS = ("SECRET_KEY", "MARAC_KEK", "MARAC_AUDIT_KEY")


def make_app(url, secrets=None):
    """An app on `url` with one connection; every writer gets the first app's keys (TestConfig makes
    new ones per app, and a chain appended with two audit keys would not verify)."""
    options = ({"pool_size": 1, "max_overflow": 0} if url.startswith("postgresql")
               else {"connect_args": {"timeout": 120}})
    return create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options,
                                             **(secrets or {})})


def writer(url, secrets, name, shape, start_at, stop_at, results):
    """One writer: append until stop_at; put (transaction latencies, head-lock waits) on results."""
    app = make_app(url, secrets)
    work, early = SHAPES[shape]
    latencies, waits, holds = [], [], []
    with app.app_context():
        engine = db.engine
        started = {}

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn, cursor, statement, params, context, many):
            if "audit_chain_head" in statement and "FOR UPDATE" in statement:
                started["at"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn, cursor, statement, params, context, many):
            if "at" in started:
                started["acquired"] = time.perf_counter()
                waits.append(started["acquired"] - started.pop("at"))

        db.session.execute(text("SELECT 1")).scalar()  # connect before the clock starts
        db.session.rollback()
        while time.time() < start_at:
            time.sleep(0.001)
        i = 0
        while time.time() < stop_at:
            t0 = time.perf_counter()
            record("bench.concurrent", object_type="writer", object_id=name, detail={"i": i})
            if early:
                append_pending()  # the head locked at record(), as before events were appended at commit
            if work:
                time.sleep(work)
            db.session.commit()
            done = time.perf_counter()
            latencies.append(done - t0)
            holds.append(done - started.pop("acquired"))
            i += 1
        db.session.remove()
        engine.dispose()
    results.put((latencies, waits, holds))


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def run(url, secrets, writers, shape, seconds):
    """Run `writers` processes for `seconds`; return (appends/s, p50, p95, wait p50, wait p95)."""
    results = multiprocessing.Queue()
    start_at = time.time() + 2.0 + 0.15 * writers  # time for every process to build its app
    stop_at = start_at + seconds
    procs = [multiprocessing.Process(target=writer, args=(url, secrets, f"w{n}", shape, start_at, stop_at, results))
             for n in range(writers)]
    for proc in procs:
        proc.start()
    latencies, waits, holds = [], [], []
    for _ in procs:
        lat, wait, hold = results.get()
        latencies += lat
        waits += wait
        holds += hold
    for proc in procs:
        proc.join()
    return (len(latencies) / seconds, pct(latencies, 50), pct(latencies, 95), pct(waits, 50), pct(waits, 95),
            pct(holds, 50), pct(holds, 95))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--writers", default="1,8,32")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    args = parser.parse_args()
    url = scratch_database_url("auditbench", tempfile.mkdtemp())
    app = make_app(url)
    migrate_fresh(app)
    secrets = {name: app.config[name] for name in SECRETS}
    with app.app_context():
        print(f"database: {db.engine.dialect.name}; {os.cpu_count()} cores; {args.seconds:g} s per run")
        db.session.remove()
        db.engine.dispose()
    print(f"{'shape':12} {'writers':>7} {'appends/s':>10} {'txn p50':>9} {'txn p95':>9} "
          f"{'wait p50':>9} {'wait p95':>9} {'held p50':>9} {'held p95':>9}")
    for writers in (int(n) for n in args.writers.split(",")):
        for shape in args.shapes.split(","):
            rate, p50, p95, w50, w95, h50, h95 = run(url, secrets, writers, shape, args.seconds)
            print(f"{shape:12} {writers:7d} {rate:10.0f} {p50 * 1e3:7.1f}ms {p95 * 1e3:7.1f}ms "
                  f"{w50 * 1e3:7.1f}ms {w95 * 1e3:7.1f}ms {h50 * 1e3:7.1f}ms {h95 * 1e3:7.1f}ms", flush=True)
    with app.app_context():
        start = time.perf_counter()
        count, seq, _ = verify()
        elapsed = time.perf_counter() - start
        print(f"verify: OK, {count} events in {elapsed:.1f} s ({count / elapsed:.0f} events/s); head {seq}")
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    main()
