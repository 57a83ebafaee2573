"""The ASB taskforce's pages with the demo volumes (200 ASB cases, the demo ladders and Case Reviews).

    .venv/bin/python benchmarks/asb.py
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python benchmarks/asb.py

Prints the median time and the number of SQL statements of the ASB case page (with its ladder), the
case list filtered on missed response times, the Case Review list and an application's page, the
statistics page with the published figures, and of counting a complainant's complaints (the
threshold check) by blind index.
"""
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("MARAC_ENV", "test")

from sqlalchemy import event, select  # noqa: E402

from config import TestConfig  # noqa: E402
from marac import create_app  # noqa: E402
from marac.asb import services  # noqa: E402
from marac.asb.models import CaseReviewApplication, Intervention  # noqa: E402
from marac.core.timeutil import today  # noqa: E402
from marac.demo.services import DEMO_PASSWORD, seed  # noqa: E402
from marac.extensions import db  # noqa: E402
from marac.panels.models import Panel, PanelKind  # noqa: E402
from tests.helpers import migrate_fresh, scratch_database_url  # noqa: E402

RUNS = 15


def main():
    url = scratch_database_url("benchasb", tempfile.mkdtemp())
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url, "MFA_REQUIRED": False,
                                            "WTF_CSRF_ENABLED": False})
    migrate_fresh(app)
    statements = [0]
    with app.app_context():
        seed()
        db.session.commit()
        print(f"database: {db.engine.dialect.name}")
        panel = db.session.execute(select(Panel).where(Panel.kind == PanelKind.ASB)).scalar_one()
        step = db.session.execute(select(Intervention).limit(1)).scalar_one()
        application = db.session.execute(select(CaseReviewApplication).limit(1)).scalar_one()
        panel_id, case_id, application_id = panel.id, step.case_id, application.id
        name, dob, received = application.complainant_name, application.complainant_dob, application.received_on

        @event.listens_for(db.engine, "before_cursor_execute")
        def count(*args):
            statements[0] += 1

        times = []
        for _ in range(RUNS):
            statements[0] = 0
            begin = time.perf_counter()
            services.count_complaints(panel, name, dob, received, 6)
            times.append(time.perf_counter() - begin)
        print(f"threshold count (blind index, one query): median {statistics.median(times) * 1000:.1f} ms, "
              f"{statements[0]} SQL statements")
        db.session.remove()

    client = app.test_client()
    assert client.post("/sign-in", data={"email": "asb.manager@example.org",
                                         "password": DEMO_PASSWORD}).status_code == 302

    def measure(label, path):
        times = []
        for _ in range(RUNS):
            statements[0] = 0
            begin = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - begin)
            assert response.status_code == 200, (label, response.status_code)
        print(f"{label}: median {statistics.median(times) * 1000:.0f} ms, {statements[0]} SQL statements")

    measure("ASB case page with its ladder", f"/cases/{case_id}")
    measure("case list, missed response times only", f"/panels/{panel_id}/cases?response=yes")
    measure("Case Review applications", f"/panels/{panel_id}/case-reviews")
    measure("a Case Review application", f"/case-reviews/{application_id}")
    year = today().year - 1
    measure("statistics page with the published figures", f"/panels/{panel_id}/statistics?review_year={year}")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
