"""Meeting pages at volume: a 20-agency panel, 25 accepted cases, and 5,000 open actions for one agency.

    .venv/bin/python benchmarks/meetings.py
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python benchmarks/meetings.py

Prints, for building an agenda (listing 25 cases) and publishing it through the services, and for
each page, the median time and the number of SQL statements. A page's statement count that does
not grow with its rows (25 cases, 20 agencies, 50 actions a page of 5,000) shows that no page issues
a query per row; a meeting with 5 cases is measured too, for comparison (a difference of one or two
statements between meetings comes from their state: one in progress reads its register, one still
scheduled lists the cases waiting). Two figures such as 8/9 are the fewest and the most over the
runs; the extra statement is named (the session's last-seen time, written at most once a minute).
Asserts nothing.
"""
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("MARAC_ENV", "test")

from sqlalchemy import event  # noqa: E402

from config import TestConfig  # noqa: E402
from marac import create_app  # noqa: E402
from marac.actions.models import Action, ActionStatus  # noqa: E402
from marac.agencies.models import AgencyKind  # noqa: E402
from marac.cases.models import CaseParty, CaseStatus, PartyRole  # noqa: E402
from marac.core import timeutil  # noqa: E402
from marac.extensions import db  # noqa: E402
from marac.meetings import services  # noqa: E402
from marac.meetings.models import Meeting  # noqa: E402
from marac.panels.models import Role  # noqa: E402
from marac.people.models import Person  # noqa: E402
from tests import helpers  # noqa: E402
from tests.factories import (AgencyFactory, CaseFactory, PanelFactory, PanelMemberFactory,  # noqa: E402
                             PanelRoleFactory, UserFactory)

RUNS = 15
AGENCIES = 20
CASES = 25
ACTIONS = 5_000
OTHER_ACTIONS = 1_000  # owned by other agencies of the panel, so the agency's list is a real filter
BATCH = 500


class Counter:
    statements = 0
    texts = []


def build(app):
    """The panel, its people, 25 accepted cases per run and the meetings; returns the ids the pages need."""
    with app.app_context():
        agencies = [AgencyFactory(kind=AgencyKind.IDVA if n == 0 else AgencyKind.OTHER,
                                  name=f"Benchmark Agency {n:02d}")
                    for n in range(AGENCIES)]
        council = AgencyFactory(kind=AgencyKind.OTHER, name="Benchmark Council")
        panel = PanelFactory(name="Benchmark MARAC", capacity=CASES)
        for agency in agencies:
            PanelMemberFactory(panel=panel, agency=agency)
        manager = UserFactory(agency=council, mfa=False, email="manager@bench.test")
        rep = UserFactory(agency=agencies[0], mfa=False, email="rep@bench.test")
        PanelRoleFactory(panel=panel, user=manager, role=Role.MANAGER)
        PanelRoleFactory(panel=panel, user=rep, role=Role.REPRESENTATIVE)
        today = timeutil.today()
        # A case is listed at one meeting still to be held at a time, so every run lists 25 cases of its own
        # (and one more set for the small meeting).
        batches = [[CaseFactory(panel=panel, referrer=rep, status=CaseStatus.ACCEPTED,
                                referred_on=today - dt.timedelta(days=n)) for n in range(CASES)]
                   for _ in range(RUNS + 1)]
        for batch in batches:
            for n, case in enumerate(batch):  # a subject for each, as the meeting page names them
                person = Person(first_names="Benchmark", last_name=f"Person{n:02d}",
                                date_of_birth=dt.date(1990, 1, 1))
                db.session.add(person)
                db.session.add(CaseParty(case_id=case.id, person=person, role=PartyRole.VICTIM))
        db.session.commit()
        return dict(panel=panel.id, manager=manager.id, rep=rep.id, agencies=[a.id for a in agencies],
                    cases=[[c.id for c in batch] for batch in batches])


def time_agenda(app, ids, counter):
    """List the 25 cases on a new meeting and publish it through the services, RUNS times."""
    from marac.cases.models import Case
    from marac.panels.models import Panel
    from marac.users.models import User

    listing, publishing = [], []
    list_statements = publish_statements = 0
    meeting_ids = []
    with app.app_context():
        manager = db.session.get(User, ids["manager"])
        panel = db.session.get(Panel, ids["panel"])
        for run in range(RUNS):
            meeting = services.add_meeting(manager, panel, timeutil.today() + dt.timedelta(days=7 * (run + 1)),
                                           dt.time(10), anyway=True)
            db.session.commit()
            db.session.expire_all()
            meeting = db.session.get(Meeting, meeting.id)
            cases = db.session.execute(db.select(Case).where(Case.id.in_(ids["cases"][run]))
                                       .order_by(Case.referred_on)).scalars().all()
            counter.statements = 0
            begin = time.perf_counter()
            for case in cases:
                services.list_case(manager, meeting, case)
            db.session.commit()
            listing.append(time.perf_counter() - begin)
            list_statements = counter.statements
            counter.statements = 0
            begin = time.perf_counter()
            services.publish(manager, meeting)
            db.session.commit()
            publishing.append(time.perf_counter() - begin)
            publish_statements = counter.statements
            meeting_ids.append(meeting.id)
        print(f"build an agenda (list {CASES} cases, services): median {statistics.median(listing) * 1000:.0f} ms, "
              f"{list_statements} SQL statements ({list_statements / CASES:.1f} a case: each listing is "
              f"checked, written and audited)")
        print(f"publish the agenda (services): median {statistics.median(publishing) * 1000:.1f} ms, "
              f"{publish_statements} SQL statements")
        # The first meeting is run: opened, with people named for 15 of the 20 agencies, 12 agreed.
        meeting = db.session.get(Meeting, meeting_ids[0])
        services.open_meeting(manager, meeting)
        for n, agency_id in enumerate(ids["agencies"][:15]):
            attendee = services.add_attendee(manager, meeting, f"Attendee {n:02d}", "Representative", agency_id,
                                             False)
            if n < 12:
                services.agree_confidentiality(manager, meeting, attendee)
        db.session.commit()
        # A published meeting with 5 cases: its pages should issue as many statements as with 25.
        small = services.add_meeting(manager, panel, timeutil.today() + dt.timedelta(days=7 * (RUNS + 1)),
                                     dt.time(10), anyway=True)
        for case_id in ids["cases"][RUNS][:5]:
            case = db.session.get(Case, case_id)
            services.list_case(manager, small, case)
        services.publish(manager, small)
        db.session.commit()
        return meeting_ids[0], meeting.items[0].id, small.id


def add_actions(app, ids, item_ids):
    """5,000 open actions for the first agency and 1,000 for others, in batches through the ORM,
    each description encrypted (bound to its row)."""
    from marac.meetings.models import AgendaItem

    rng = random.Random(7)
    today = timeutil.today()
    with app.app_context():
        items = [(item.id, item.case_id) for item in (db.session.get(AgendaItem, i) for i in item_ids)]
        owners = [ids["agencies"][0]] * ACTIONS + [rng.choice(ids["agencies"][1:]) for _ in range(OTHER_ACTIONS)]
        begin = time.perf_counter()
        for start in range(0, len(owners), BATCH):
            batch = []
            for owner in owners[start:start + BATCH]:
                item_id, case_id = rng.choice(items)
                action = Action(id=uuid.uuid4(), case_id=case_id, agenda_item_id=item_id, owner_agency_id=owner,
                                due_on=today + dt.timedelta(days=rng.randint(-60, 90)), status=ActionStatus.OPEN)
                action.description = f"Benchmark action {start:05d}: share the safety plan and report back"
                batch.append(action)
            db.session.add_all(batch)
            db.session.commit()
            db.session.expunge_all()
        print(f"create {len(owners):,} encrypted actions in batches of {BATCH}: "
              f"{time.perf_counter() - begin:.1f} s")


def main():
    url = helpers.scratch_database_url("benchmeetings", tempfile.mkdtemp())
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url, "MFA_REQUIRED": False,
                                            "WTF_CSRF_ENABLED": False})
    helpers.migrate_fresh(app)
    counter = Counter()
    with app.app_context():
        print(f"database: {db.engine.dialect.name}")

        @event.listens_for(db.engine, "before_cursor_execute")
        def count(conn, cursor, statement, *args):
            counter.statements += 1
            counter.texts.append(" ".join(statement.split())[:60])

    ids = build(app)
    meeting_id, item_id, small_id = time_agenda(app, ids, counter)
    with app.app_context():
        item_ids = [i.id for i in db.session.get(Meeting, meeting_id).items]
    add_actions(app, ids, item_ids)

    manager = app.test_client()
    assert manager.post("/sign-in", data={"email": "manager@bench.test",
                                          "password": helpers.PASSWORD}).status_code == 302
    rep = app.test_client()
    assert rep.post("/sign-in", data={"email": "rep@bench.test", "password": helpers.PASSWORD}).status_code == 302

    def measure(label, request):
        times, runs = [], []
        for _ in range(RUNS):
            counter.statements, counter.texts = 0, []
            begin = time.perf_counter()
            response = request()
            times.append(time.perf_counter() - begin)
            runs.append(list(counter.texts))
            assert response.status_code == 200, (label, response.status_code)
        counts = sorted({len(texts) for texts in runs})
        line = f"{label}: median {statistics.median(times) * 1000:.0f} ms, {'/'.join(map(str, counts))} SQL statements"
        if len(counts) > 1:  # name what the occasional extra statements are
            fewest = min(runs, key=len)
            extra = {t for texts in runs for t in texts if t not in fewest}
            line += f" (sometimes also: {'; '.join(sorted(extra))})"
        print(line)

    measure(f"meetings index, {RUNS + 1} meetings", lambda: manager.get(f"/panels/{ids['panel']}/meetings"))
    measure(f"register page, {AGENCIES} agencies, 15 named", lambda: manager.get(f"/meetings/{meeting_id}/register"))
    for label, meeting, cases in (("", meeting_id, CASES), (" (for comparison)", small_id, 5)):
        measure(f"meeting page, {cases} cases (manager){label}", lambda: manager.get(f"/meetings/{meeting}"))
        measure(f"meeting page, {cases} cases (representative){label}", lambda: rep.get(f"/meetings/{meeting}"))
        measure(f"agenda page, {cases} listed{label}", lambda: manager.get(f"/meetings/{meeting}/agenda"))
        measure(f"research grid, {cases} cases x {AGENCIES} agencies{label}",
                lambda: manager.get(f"/meetings/{meeting}/research"))
    measure("hearing page", lambda: manager.get(f"/agenda-items/{item_id}/hearing"))
    measure(f"agency's actions (/actions), page 1 of {ACTIONS:,} open", lambda: rep.get("/actions"))
    measure(f"agency's actions (/actions), page 100 of {ACTIONS:,} open", lambda: rep.get("/actions?page=100"))
    measure(f"panel's actions (manager, RAG), page 1 of {ACTIONS + OTHER_ACTIONS:,}",
            lambda: manager.get(f"/panels/{ids['panel']}/actions"))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
