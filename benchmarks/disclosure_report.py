"""The disclosure report of one case in a long audit trail.

    .venv/bin/python benchmarks/disclosure_report.py
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python benchmarks/disclosure_report.py

A panel with 2,000 cases and a trail of 100,000 events (written with bulk inserts, with their
audit_event_refs as audit.services.record writes them): most name one case, one in ten is a case list
naming 50, and 50,000 sharing records. Prints the median time and SQL statements of the report's
first page and of its CSV as the panel manager sees them, and the query plan of the events lookup,
to show that it goes through the index of the objects events name rather than the whole trail.
(The bulk-inserted events are not hash-chained: do not run `flask audit verify` on this database.)
"""
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("MARAC_ENV", "test")

from sqlalchemy import event, insert, select, text  # noqa: E402

from config import TestConfig  # noqa: E402
from marac import create_app  # noqa: E402
from marac.agencies.models import AgencyKind  # noqa: E402
from marac.audit.models import AuditChainHead, AuditEvent, AuditEventRef  # noqa: E402
from marac.cases.models import Case, CaseStatus  # noqa: E402
from marac.core.timeutil import utcnow  # noqa: E402
from marac.extensions import db  # noqa: E402
from marac.panels.models import Role  # noqa: E402
from marac.sharing.models import Category, SharingRecord  # noqa: E402
from tests.factories import (PASSWORD, AgencyFactory, PanelFactory, PanelMemberFactory,  # noqa: E402
                             PanelRoleFactory, UserFactory)
from tests.helpers import migrate_fresh, scratch_database_url  # noqa: E402

CASES, EVENTS, RECORDS, RUNS = 2_000, 100_000, 50_000, 9


def build():
    rng = random.Random(15)
    police, idva = AgencyFactory(kind=AgencyKind.POLICE), AgencyFactory(kind=AgencyKind.IDVA)
    council = AgencyFactory(kind=AgencyKind.OTHER)
    panel = PanelFactory()
    for agency in (police, idva):
        PanelMemberFactory(panel=panel, agency=agency)
    manager = UserFactory(agency=council, mfa=False)
    PanelRoleFactory(panel=panel, user=manager, role=Role.MANAGER)
    viewers = [UserFactory(agency=agency, mfa=False) for agency in (police, idva) for _ in range(5)]
    now = utcnow()
    case_ids = [uuid.uuid4() for _ in range(CASES)]
    db.session.execute(insert(Case), [
        {"id": case_id, "panel_id": panel.id, "reference": f"MARAC-2026-{n:05d}", "status": CaseStatus.ACCEPTED,
         "referrer_user_id": viewers[0].id, "referring_agency_id": police.id, "codes": {}, "version": 1,
         "is_repeat": False, "created_at": now, "updated_at": now} for n, case_id in enumerate(case_ids)])
    head = db.session.get(AuditChainHead, 1)
    seq, events, refs = head.seq, [], []
    for n in range(EVENTS):
        seq += 1
        viewer = rng.choice(viewers)
        at = now - timedelta(minutes=EVENTS - n)
        if n % 10 == 0:
            named = rng.sample(case_ids, 50)
            events.append({"seq": seq, "occurred_at": at, "actor_user_id": viewer.id, "actor_agency_id": viewer.agency_id,
                           "action": "cases.listed", "object_type": "panels", "object_id": str(panel.id),
                           "detail": {"cases": [str(c) for c in named]}, "prev_hash": "0" * 64,
                           "hash": f"{seq:064x}"})
            refs += [{"ref_id": c, "seq": seq} for c in named] + [{"ref_id": panel.id, "seq": seq}]
        else:
            case_id = rng.choice(case_ids)
            events.append({"seq": seq, "occurred_at": at, "actor_user_id": viewer.id, "actor_agency_id": viewer.agency_id,
                           "action": "case.viewed", "object_type": "cases", "object_id": str(case_id),
                           "detail": {"cases": [str(case_id)]}, "prev_hash": "0" * 64, "hash": f"{seq:064x}"})
            refs.append({"ref_id": case_id, "seq": seq})
        if len(events) >= 5000:
            db.session.execute(insert(AuditEvent), events)
            db.session.execute(insert(AuditEventRef), refs)
            events, refs = [], []
    if events:
        db.session.execute(insert(AuditEvent), events)
        db.session.execute(insert(AuditEventRef), refs)
    head.seq = seq
    records = []
    for n in range(RECORDS):
        viewer = rng.choice(viewers)
        records.append({"id": uuid.uuid4(), "case_id": rng.choice(case_ids), "category": rng.choice(list(Category)).value,
                        "agency_id": viewer.agency_id, "user_id": viewer.id, "shared_at": now - timedelta(minutes=n),
                        "purpose": "case page viewed", "lawful_basis": panel.lawful_basis})
    for start in range(0, RECORDS, 5000):
        db.session.execute(insert(SharingRecord), records[start:start + 5000])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE"))  # what autovacuum does after a bulk load: the planner's statistics
        db.session.commit()
    counts = {}
    for ref in db.session.execute(select(AuditEventRef.ref_id)).scalars():
        counts[ref] = counts.get(ref, 0) + 1
    busiest = max(case_ids, key=lambda c: counts.get(c, 0))
    return manager, busiest, counts.get(busiest, 0)


def main():
    url = scratch_database_url("benchdisclosures", tempfile.mkdtemp())
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url, "MFA_REQUIRED": False,
                                            "WTF_CSRF_ENABLED": False})
    migrate_fresh(app)
    statements = [0]
    with app.app_context():
        begin = time.perf_counter()
        manager, case_id, named = build()
        print(f"database: {db.engine.dialect.name}")
        print(f"built {CASES} cases, {EVENTS} events, {RECORDS} sharing records in {time.perf_counter() - begin:.1f} s")
        print(f"the busiest case is named by {named} events")
        email = manager.email
        from marac.disclosures.services import Scope, _timeline

        scope = Scope([db.session.get(Case, case_id)])
        compiled = _timeline(scope).compile(db.engine, compile_kwargs={"literal_binds": True})
        explain = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
        print("plan of the report's timeline:")
        for row in db.session.execute(text(explain + str(compiled))):
            print("   ", " ".join(str(part) for part in row))

        @event.listens_for(db.engine, "before_cursor_execute")
        def count(*args):
            statements[0] += 1

    client = app.test_client()
    assert client.post("/sign-in", data={"email": email, "password": PASSWORD}).status_code == 302

    def measure(label, url):
        times, counts = [], []
        for _ in range(RUNS):
            statements[0] = 0
            begin = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - begin)
            counts.append(statements[0])
            assert response.status_code == 200, (label, response.status_code)
        print(f"{label}: {statistics.median(times) * 1000:.0f} ms, {statistics.median(counts):.0f} SQL statements")

    measure("report, page 1 (50 rows)", f"/cases/{case_id}/disclosures")
    measure("report, page 10", f"/cases/{case_id}/disclosures?page=10")
    measure("whole report as CSV", f"/cases/{case_id}/disclosures.csv")


if __name__ == "__main__":
    main()
