"""Every list page, the searches, the case page, both actions lists, the referrer's own referrals, the
agenda builder, the administrator's retention page and both home pages against a database already
seeded at scale (`flask demo seed --cases N`): the server time of each (p50 and p95 of RUNS requests
through the app, rendering included) and its SQL statement count.

    # a database seeded with the development keys in MARAC_INSTANCE_DIR
    MARAC_ENV=development MARAC_INSTANCE_DIR=/work/scale/instance \
      DATABASE_URL=sqlite:////work/scale/marac-100k.sqlite .venv/bin/python benchmarks/scale_pages.py
    MARAC_ENV=development MARAC_INSTANCE_DIR=/work/scale/instance \
      DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/scale_100k .venv/bin/python benchmarks/scale_pages.py

The pages are read as the demo's MARAC manager, police representative and administrator (sign-in
without a second factor: the development configuration), with CSRF off for the searches' POSTs. Nothing is written
but what the pages write themselves (audit events and sharing records of each view).
"""
import os
import statistics
import sys
import time

import pyotp
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("MARAC_ENV", "development")

from sqlalchemy import event, func, select  # noqa: E402

from config import config_from_environment  # noqa: E402
from marac import create_app  # noqa: E402
from marac.cases.models import VISIBLE_TO_PANEL, Case  # noqa: E402
from marac.demo.services import DEMO_PASSWORD  # noqa: E402
from marac.extensions import db  # noqa: E402
from marac.meetings.models import Meeting, MeetingStatus  # noqa: E402
from marac.panels.models import Panel, PanelKind  # noqa: E402
from marac.users.models import User  # noqa: E402

RUNS = int(os.environ.get("RUNS", 20))
# SLOWEST=1: print each page's slowest statement too (its time in the last request, and its start).
SLOWEST = os.environ.get("SLOWEST") == "1"


def main():
    app = create_app(config_from_environment(), overrides={"MFA_REQUIRED": False, "WTF_CSRF_ENABLED": False,
                                                           "SIGN_IN_LIMIT_PER_ADDRESS": "1000 per minute"})
    statements = [0]
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))
        slowest = []

        @event.listens_for(db.engine, "before_cursor_execute")
        def started(conn, cursor, statement, *args):
            conn.info["started"] = time.perf_counter()

        @event.listens_for(db.engine, "after_cursor_execute")
        def ended(conn, cursor, statement, *args):
            slowest.append(((time.perf_counter() - conn.info["started"]) * 1000, " ".join(statement.split())))
        panel = db.session.execute(select(Panel).where(Panel.kind == PanelKind.MARAC)).scalar_one()
        listed = select(Case).where(Case.panel_id == panel.id, Case.status.in_(VISIBLE_TO_PANEL))
        total = db.session.execute(select(func.count()).select_from(listed.subquery())).scalar_one()
        middle = db.session.execute(listed.with_only_columns(Case.id).order_by(Case.referred_on.desc(), Case.id)
                                    .offset(total // 2).limit(1)).scalar_one()
        case = db.session.get(Case, middle)
        subject = case.subject
        name, dob, postcode, reference = subject.full_name, subject.date_of_birth, subject.postcode, case.reference
        agency_id = case.referring_agency_id
        panel_id = panel.id
        meeting_id = db.session.execute(select(Meeting.id).where(Meeting.panel_id == panel_id,
                                                                 Meeting.status == MeetingStatus.SCHEDULED)
                                        .order_by(Meeting.meets_on).limit(1)).scalar()
        db.session.remove()
    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}, "
          f"{total:,} MARAC cases listed; {RUNS} requests a page")

    def client_for(email):
        client = app.test_client()
        response = client.post("/sign-in", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, (email, response.status_code)
        if response.headers["Location"].endswith("/sign-in/code"):  # an account enrolled (by load.py, say)
            with app.app_context():
                secret = db.session.execute(select(User).where(User.email == email)).scalar_one().totp_secret
            response = client.post("/sign-in/code", data={"code": pyotp.TOTP(secret).now()})
            assert response.status_code == 302, (email, "code", response.status_code)
        return client

    manager, rep = client_for("marac.manager@example.org"), client_for("marac.rep@example.org")
    admin = client_for("admin@example.org")
    rows = []

    def measure(label, request):
        times, counts = [], []
        request()  # once unmeasured: the template compiled, the plan cached (a server's steady state)
        for _ in range(RUNS):
            statements[0] = 0
            slowest.clear()
            begin = time.perf_counter()
            response = request()
            times.append((time.perf_counter() - begin) * 1000)
            counts.append(statements[0])
            assert response.status_code == 200, (label, response.status_code)
        times.sort()
        p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
        rows.append((label, statistics.median(times), p95, max(counts)))
        print(f"{label:<46} p50 {statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms  {max(counts):3d} statements",
              flush=True)
        if SLOWEST and slowest:
            took, sql = max(slowest)
            print(f"    slowest statement {took:.1f} ms: {sql[:400]}")

    cases = f"/panels/{panel_id}/cases"
    search = f"/panels/{panel_id}/cases/search"
    measure("case list, first page", lambda: manager.get(cases))
    measure("case list, middle (after= a case halfway)", lambda: manager.get(f"{cases}?after={middle}"))
    measure("case list, last page", lambda: manager.get(f"{cases}?last=1"))
    measure("case list, oldest first", lambda: manager.get(f"{cases}?sort=referred_asc"))
    measure("case list, by reference", lambda: manager.get(f"{cases}?sort=reference"))
    measure("case list, by risk", lambda: manager.get(f"{cases}?sort=risk"))
    measure("case list, by risk, middle", lambda: manager.get(f"{cases}?sort=risk&after={middle}"))
    measure("case list, by risk, last page", lambda: manager.get(f"{cases}?sort=risk&last=1"))
    measure("case list, closed only", lambda: manager.get(f"{cases}?status=closed"))
    measure("case list, one referring agency", lambda: manager.get(f"{cases}?agency_id={agency_id}"))
    measure("case list, high risk, repeats", lambda: manager.get(f"{cases}?risk_level=high&repeat=yes"))
    measure("case list, a month", lambda: manager.get(
        f"{cases}?date_from-day=1&date_from-month=3&date_from-year=2025&date_to-day=31&date_to-month=3"
        "&date_to-year=2025"))
    measure("case list, representative", lambda: rep.get(cases))
    measure("search by name + date of birth", lambda: manager.post(search, data={
        "name": name, "date_of_birth-day": dob.day, "date_of_birth-month": dob.month,
        "date_of_birth-year": dob.year}))
    measure("search by postcode", lambda: manager.post(search, data={"postcode": postcode}))
    measure("search by reference", lambda: manager.post(search, data={"reference": reference}))
    measure("search by sound of name + year of birth", lambda: manager.post(search, data={
        "sounds_like": name, "birth_year": dob.year}))
    measure("case page", lambda: manager.get(f"/cases/{middle}"))
    measure("manager's actions (all)", lambda: manager.get(f"/panels/{panel_id}/actions?status=all"))
    measure("manager's actions (open)", lambda: manager.get(f"/panels/{panel_id}/actions"))
    measure("manager's actions (all), last page", lambda: manager.get(f"/panels/{panel_id}/actions?status=all&last=1"))
    measure("agency's actions (representative, all)", lambda: rep.get("/actions?status=all"))
    measure("your referrals (representative)", lambda: rep.get("/referrals/mine"))
    measure("your referrals, last page", lambda: rep.get("/referrals/mine?last=1"))
    if meeting_id is not None:
        measure("agenda builder (next meeting)", lambda: manager.get(f"/meetings/{meeting_id}/agenda"))
    measure("retention (administrator)", lambda: admin.get("/admin/retention"))
    measure("home page, manager", lambda: manager.get("/"))
    measure("home page, representative", lambda: rep.get("/"))
    worst = max(rows, key=lambda r: r[2])
    print(f"slowest p95: {worst[0]} {worst[2]:.1f} ms")


if __name__ == "__main__":
    main()
