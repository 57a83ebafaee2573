"""Case list, search and case page with the demo volumes (600 MARAC, 150 MACE, 200 ASB cases).

    .venv/bin/python benchmarks/case_pages.py
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python benchmarks/case_pages.py

Prints the median time and the number of SQL statements of each page, the number of values
decrypted by the list page, and the query plan of the name + date-of-birth search, to show that
it uses the blind index rather than scanning.
"""
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("MARAC_ENV", "test")

from sqlalchemy import event, select, text  # noqa: E402

import marac.core.crypto as crypto  # noqa: E402
from config import TestConfig  # noqa: E402
from marac import create_app  # noqa: E402
from marac.cases.models import Case, CaseStatus, PartyRole  # noqa: E402
from marac.demo.services import DEMO_PASSWORD, seed  # noqa: E402
from marac.extensions import db  # noqa: E402
from marac.panels.models import Panel, PanelKind  # noqa: E402
from tests.helpers import migrate_fresh, scratch_database_url  # noqa: E402

RUNS = 15


class Counter:
    def __init__(self):
        self.statements = 0
        self.decrypts = 0


def main():
    url = scratch_database_url("benchcases", tempfile.mkdtemp())
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url, "MFA_REQUIRED": False,
                                            "WTF_CSRF_ENABLED": False})
    migrate_fresh(app)
    counter = Counter()
    with app.app_context():
        start = time.perf_counter()
        seed()
        db.session.commit()
        print(f"database: {db.engine.dialect.name}")
        print(f"demo seed (950 cases through the referral services): {time.perf_counter() - start:.1f} s")
        panel = db.session.execute(select(Panel).where(Panel.kind == PanelKind.MARAC)).scalar_one()
        case = db.session.execute(select(Case).where(Case.panel_id == panel.id, Case.status == CaseStatus.ACCEPTED)
                                  .limit(1)).scalar_one()
        subject = next(p.person for p in case.parties if p.role == PartyRole.VICTIM)
        name, dob, postcode, reference = subject.full_name, subject.date_of_birth, subject.postcode, case.reference
        panel_id, case_id = panel.id, case.id

        @event.listens_for(db.engine, "before_cursor_execute")
        def count(*args):
            counter.statements += 1

    original = crypto.decrypt_value

    def counting_decrypt(*args, **kwargs):
        counter.decrypts += 1
        return original(*args, **kwargs)

    crypto.decrypt_value = counting_decrypt
    client = app.test_client()
    response = client.post("/sign-in", data={"email": "marac.manager@example.org", "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.status_code

    def measure(label, request):
        times = []
        for _ in range(RUNS):
            counter.statements = counter.decrypts = 0
            begin = time.perf_counter()
            response = request()
            times.append(time.perf_counter() - begin)
            assert response.status_code == 200, (label, response.status_code)
        print(f"{label}: median {statistics.median(times) * 1000:.0f} ms, {counter.statements} SQL statements, "
              f"{counter.decrypts} values decrypted")

    measure("case list, 50 of 600 MARAC cases", lambda: client.get(f"/panels/{panel_id}/cases"))
    measure("case list, page 3 of repeats only", lambda: client.get(f"/panels/{panel_id}/cases?repeat=yes&page=3"))
    measure("search by name + date of birth", lambda: client.post(f"/panels/{panel_id}/cases/search", data={
        "name": name, "date_of_birth-day": dob.day, "date_of_birth-month": dob.month, "date_of_birth-year": dob.year}))
    measure("search by postcode", lambda: client.post(f"/panels/{panel_id}/cases/search", data={"postcode": postcode}))
    measure("search by reference", lambda: client.post(f"/panels/{panel_id}/cases/search",
                                                       data={"reference": reference}))
    measure("case page (audited, sharing records written)", lambda: client.get(f"/cases/{case_id}"))
    crypto.decrypt_value = original

    with app.app_context():
        from marac.core.blind_index import blind_index

        tag = blind_index("person_name_dob", name, dob)
        explain = ("EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN ")
        plan = db.session.execute(text(explain + "SELECT person_id FROM person_names WHERE name_dob_index = :t"),
                                  {"t": tag}).all()
        print("plan of the name + date-of-birth lookup:", " | ".join(str(row[-1]) for row in plan))
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
