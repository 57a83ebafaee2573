"""How long an audited page holds the audit chain's head, with the demo volumes. Prints figures; asserts nothing.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test_audit .venv/bin/python benchmarks/audit_page_hold.py

Every page that shows personal data records its read (audit.services.record_read), and appending
an event locks the chain's one head row until the request's transaction ends: the time it is held
bounds how many such pages all hosts together can serve per second (one over it). For the case list,
a search and the case page (signed in as the demo's MARAC manager), this prints the median request
time and the median time the head was held (from its SELECT ... FOR UPDATE to the end of the commit),
first as record() worked before the head was locked at the commit ("early": the benchmark appends
each event as soon as it is recorded), then as it works now ("late").

Then the other lock that queues requests across hosts: a referral's reference (cases.services.
next_reference) locks its counter row from the moment the number is taken to the commit. It submits
RUNS MARAC referrals through the services, as the referral form's last step does, and prints the
median time from that lock to the end of the commit.
"""
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("MARAC_ENV", "test")

from sqlalchemy import event, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import marac.audit.services as audit  # noqa: E402
from config import TestConfig  # noqa: E402
from marac import create_app  # noqa: E402
from marac.cases import services as cases  # noqa: E402
from marac.cases.models import Case, CaseStatus, PartyRole  # noqa: E402
from marac.demo.cases import _marac_answers, _person, _postcode  # noqa: E402
from marac.demo.services import DEMO_PASSWORD, seed  # noqa: E402
from marac.extensions import db  # noqa: E402
from marac.panels.models import Panel, PanelKind  # noqa: E402
from marac.users.models import User  # noqa: E402
from tests.helpers import migrate_fresh, scratch_database_url  # noqa: E402

RUNS = 25


def main():
    url = scratch_database_url("benchhold", tempfile.mkdtemp())
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url, "MFA_REQUIRED": False,
                                            "WTF_CSRF_ENABLED": False})
    migrate_fresh(app)
    clock = {}
    with app.app_context():
        seed()
        db.session.commit()
        print(f"database: {db.engine.dialect.name}")
        panel = db.session.execute(select(Panel).where(Panel.kind == PanelKind.MARAC)).scalar_one()
        case = db.session.execute(select(Case).where(Case.panel_id == panel.id, Case.status == CaseStatus.ACCEPTED)
                                  .limit(1)).scalar_one()
        subject = next(p.person for p in case.parties if p.role == PartyRole.VICTIM)
        name, dob, panel_id, case_id = subject.full_name, subject.date_of_birth, panel.id, case.id

        @event.listens_for(db.engine, "after_cursor_execute")
        def locked(conn, cursor, statement, *args):
            if clock.get("table", "audit_chain_head") in statement and "FOR UPDATE" in statement:
                clock.setdefault("locked", time.perf_counter())

    @event.listens_for(Session, "after_commit")
    def committed(session):
        if "locked" in clock:
            clock.setdefault("held", []).append(time.perf_counter() - clock.pop("locked"))

    client = app.test_client()
    response = client.post("/sign-in", data={"email": "marac.manager@example.org", "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.status_code
    pages = [
        ("case list, 50 of 600", lambda: client.get(f"/panels/{panel_id}/cases")),
        ("search by name + date of birth", lambda: client.post(f"/panels/{panel_id}/cases/search", data={
            "name": name, "date_of_birth-day": dob.day, "date_of_birth-month": dob.month,
            "date_of_birth-year": dob.year})),
        ("case page", lambda: client.get(f"/cases/{case_id}")),
    ]
    original = audit.record

    def record_and_append(*args, **kwargs):
        recorded = original(*args, **kwargs)
        audit.append_pending()
        return recorded

    print(f"{'page':32} {'head locked':12} {'request':>8} {'held':>7} {'ceiling (pages/s, all hosts)':>29}")
    for label, request in pages:
        for mode in ("early", "late"):
            audit.record = record_and_append if mode == "early" else original
            times, clock["held"] = [], []
            for _ in range(RUNS):
                begin = time.perf_counter()
                response = request()
                times.append(time.perf_counter() - begin)
                assert response.status_code == 200, (label, response.status_code)
            held = statistics.median(clock["held"]) if clock["held"] else float("nan")
            print(f"{label:32} {mode:12} {statistics.median(times) * 1e3:6.1f}ms {held * 1e3:5.1f}ms "
                  f"{1 / held:29.0f}")
    audit.record = original
    with app.app_context():
        submit_referrals(clock)
        print(f"verify: OK, {audit.verify()[0]} events")
        db.session.remove()
        db.engine.dispose()


def submit_referrals(clock):
    """Submit RUNS referrals (services, one commit each); print the median time the counter was held."""
    manager = db.session.execute(select(User).where(User.email == "marac.manager@example.org")).scalar_one()
    panel = db.session.execute(select(Panel).where(Panel.kind == PanelKind.MARAC)).scalar_one()
    rng, today = random.Random(13), dt.date.today()
    clock["table"], clock["held"], times = "reference_counters", [], []
    for _ in range(RUNS):
        answers = _marac_answers(rng, {**_person(rng, today), "postcode": _postcode(rng)}, today)
        begin = time.perf_counter()
        case = cases.new_case(manager, panel)
        cases.save_answers(manager, case, answers, submit=True)
        db.session.commit()
        times.append(time.perf_counter() - begin)
    held = statistics.median(clock["held"])
    print(f"referral submitted (services, commit): {statistics.median(times) * 1e3:.1f}ms; reference counter held "
          f"{held * 1e3:.1f}ms: at most {1 / held:.0f} submissions/s of one kind, all hosts")


if __name__ == "__main__":
    main()
