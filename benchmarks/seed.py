"""`flask demo seed --cases N`: cases added per second. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/seed.py                      # SQLite (temporary file), 1,000 and 10,000
    .venv/bin/python benchmarks/seed.py 1000 10000 100000 --workers 2
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python benchmarks/seed.py 1000

Each size is seeded into a fresh scratch database (a file under /tmp, or `<DATABASE_URL's db>_seedbench`
on PostgreSQL) holding the test world's panel, by the same function the command calls (demo.scale
.seed_at_scale), the planner's statistics included (ANALYZE; VACUUM (ANALYZE) on PostgreSQL). Prints
wall time, cases per second, and the CPU seconds of this process and of the worker processes, with the
load average (the machine is shared: a busy machine shows in the wall time, not in the CPU time).

To make the databases the page benchmarks read, run the command itself, e.g.

    MARAC_INSTANCE_DIR=/work/scale/instance DATABASE_URL=sqlite:////work/scale/marac-100k.sqlite \\
        .venv/bin/flask db upgrade && ... .venv/bin/flask demo seed --cases 100000
"""
import argparse
import os
import resource
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("MARAC_ENV", "test")

from config import TestConfig  # noqa: E402
from marac import create_app  # noqa: E402
from marac.cases.models import ReferenceCounter  # noqa: E402
from marac.demo.scale import seed_at_scale  # noqa: E402
from marac.extensions import db  # noqa: E402
from tests.helpers import build_world, migrate_fresh, scratch_database_url  # noqa: E402


def cpu_seconds():
    """(this process, reaped children) user + system CPU seconds."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def run(size, workers):
    url = scratch_database_url("seedbench", tempfile.mkdtemp())
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url})
    migrate_fresh(app)
    with app.app_context():
        world = build_world()
        # The test world's two factory cases have references of their own (MARAC-2026-9001 and on), not
        # from the counter the services and the seed use: start the counter past them.
        db.session.merge(ReferenceCounter(prefix=world.panel.kind, year=2026, last=10_000))
        db.session.commit()
        load = os.getloadavg()[0]
        own, children = cpu_seconds()
        started = time.perf_counter()
        result = seed_at_scale(world.panel, size, workers=workers)
        wall = time.perf_counter() - started
        own_after, children_after = cpu_seconds()
        print(f"{db.engine.dialect.name:10} {size:>8,} cases  {wall:7.1f} s  {size / wall:6,.0f} cases/s  "
              f"(insert {result.seconds:.1f} s, {'VACUUM (ANALYZE)' if db.engine.dialect.name == 'postgresql' else 'ANALYZE'} "
              f"{result.analyse_seconds:.1f} s; CPU: main "
              f"{own_after - own:.1f} s, workers {children_after - children:.1f} s; load {load:.1f}; "
              f"{result.repeats / result.cases:.0%} repeats, {result.people:,} people, {result.actions:,} actions)")
        db.session.remove()
        db.engine.dispose()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    for size in args.sizes:
        run(size, args.workers)


if __name__ == "__main__":
    main()
