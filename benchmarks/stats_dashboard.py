"""The steering group's statistics page at volume: five years of a large MARAC panel (130 fortnightly
meetings, 20 agencies, 5,000 cases heard with their victims, perpetrators and children, 20,000
actions, 30,000 research returns).

    .venv/bin/python benchmarks/stats_dashboard.py
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/mydb .venv/bin/python benchmarks/stats_dashboard.py

Prints, for the page of the last 12 months and of the whole five years (and, for comparison, of
one quarter), the median server time over RUNS requests by a steering group member, and the number
of SQL statements each request issues: a count that is the same for a quarter, a year and five years
shows that no figure is read a row or a meeting at a time. Also the time of the exports that do more
work (the SafeLives return of a year, with its per-meeting protection). The rows are written with
bulk inserts (the figures read plain coded columns only, so the encrypted fields are left empty).
The machine's load shows in the wall-clock times: the CPU time of this process (the application,
and on SQLite the database too) is printed beside them, and the load average at the end. Asserts
nothing.
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

from sqlalchemy import event, insert  # noqa: E402

from config import TestConfig  # noqa: E402
from marac import create_app  # noqa: E402
from marac.actions.models import Action, ActionStatus  # noqa: E402
from marac.agencies.models import AgencyKind  # noqa: E402
from marac.cases.models import Case, CaseParty, CaseStatus, Criterion, PartyRole, RiskLevel  # noqa: E402
from marac.core import timeutil  # noqa: E402
from marac.extensions import db  # noqa: E402
from marac.meetings.models import (AgendaItem, Attendance, AttendanceStatus, Attendee, ItemStatus,  # noqa: E402
                                   Meeting, MeetingStatus, ResearchReturn)
from marac.panels.models import Role  # noqa: E402
from marac.people.models import EthnicGroup, Gender, Person, Sexuality, YesNoUnknown  # noqa: E402
from tests import helpers  # noqa: E402
from tests.factories import AgencyFactory, PanelFactory, PanelMemberFactory, PanelRoleFactory, UserFactory  # noqa: E402

RUNS = 7
MEETINGS = 130
AGENCIES = 20
CASES = 5_000
ACTIONS = 20_000
RETURNS_PER_CASE = 6
KINDS = [AgencyKind.POLICE, AgencyKind.IDVA, AgencyKind.CHILDRENS_SOCIAL_CARE, AgencyKind.ADULT_SOCIAL_CARE,
         AgencyKind.HEALTH, AgencyKind.MENTAL_HEALTH, AgencyKind.HOUSING, AgencyKind.PROBATION,
         AgencyKind.EDUCATION, AgencyKind.SUBSTANCE_MISUSE, AgencyKind.SPECIALIST]


def utc(day, hour):
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.timezone.utc)


def bulk(model, rows, size=2_000):
    for start in range(0, len(rows), size):
        db.session.execute(insert(model), rows[start:start + size])


def build(app):
    """Five years of the panel's meetings; returns the panel id and the steering member's email."""
    rng = random.Random(11)
    with app.app_context():
        agencies = [AgencyFactory(kind=KINDS[n % len(KINDS)], name=f"Benchmark Agency {n:02d}") for n in range(AGENCIES)]
        council = AgencyFactory(kind=AgencyKind.OTHER, name="Benchmark Council")
        panel = PanelFactory(name="Benchmark MARAC", capacity=60, women_16_plus=150_000)
        for n, agency in enumerate(agencies):
            PanelMemberFactory(panel=panel, agency=agency, is_core=n < 16)
        steering = UserFactory(agency=council, mfa=False, email="steering@bench.test")
        manager = UserFactory(agency=council, mfa=False, email="manager@bench.test")
        PanelRoleFactory(panel=panel, user=steering, role=Role.STEERING)
        PanelRoleFactory(panel=panel, user=manager, role=Role.MANAGER)
        panel_id, manager_id = panel.id, manager.id
        agency_ids = [a.id for a in agencies]
        police = agency_ids[0]
        today = timeutil.today()
        first = today - dt.timedelta(days=14 * MEETINGS)
        now = timeutil.utcnow()
        meetings, attendances, attendees = [], [], []
        for n in range(MEETINGS):
            day = first + dt.timedelta(days=14 * n)
            meeting_id = uuid.uuid4()
            meetings.append(dict(id=meeting_id, panel_id=panel_id, meets_on=day, starts_at=dt.time(10),
                                 status=MeetingStatus.HELD, agenda_published_at=utc(day - dt.timedelta(days=9), 9),
                                 opened_at=utc(day, 10), closed_at=utc(day, 15),
                                 minutes_finalised_at=utc(day + dt.timedelta(days=rng.choice([2, 3, 6])), 16),
                                 version=1, created_at=now))
            for m, agency_id in enumerate(agency_ids):
                roll = rng.random()
                status = (AttendanceStatus.PRESENT if roll < 0.85 else AttendanceStatus.DEPUTY if roll < 0.9
                          else rng.choice([AttendanceStatus.APOLOGIES_INFO, AttendanceStatus.APOLOGIES,
                                           AttendanceStatus.ABSENT]))
                attendances.append(dict(id=uuid.uuid4(), meeting_id=meeting_id, agency_id=agency_id, status=status,
                                        is_core=m < 16))
                if status in (AttendanceStatus.PRESENT, AttendanceStatus.DEPUTY):
                    attendees.append(dict(id=uuid.uuid4(), meeting_id=meeting_id, agency_id=agency_id,
                                          name=f"Attendee {m:02d}", role="Representative", is_observer=False,
                                          confidentiality_agreed_at=utc(day, 10), created_at=now))
        bulk(Meeting, meetings)
        bulk(Attendance, attendances)
        bulk(Attendee, attendees)
        people, cases, parties, items, returns = [], [], [], [], []
        for n in range(CASES):
            meeting = meetings[n * MEETINGS // CASES]
            heard_on = meeting["meets_on"]
            case_id, victim = uuid.uuid4(), uuid.uuid4()
            cases.append(dict(id=case_id, panel_id=panel_id, reference=f"BENCH-{n:05d}", status=CaseStatus.CLOSED,
                              referrer_user_id=manager_id,
                              referring_agency_id=police if rng.random() < 0.64 else rng.choice(agency_ids),
                              referred_on=heard_on - dt.timedelta(days=rng.randint(7, 35)),
                              criterion=Criterion.VISIBLE_HIGH_RISK, risk_level=RiskLevel.HIGH, risk_score=15,
                              is_repeat=rng.random() < 0.3, codes={}, version=1, created_at=now))
            people.append(dict(id=victim, gender=Gender.MALE if rng.random() < 0.06 else Gender.FEMALE,
                               ethnic_group=rng.choice(list(EthnicGroup)),
                               disability=rng.choice([YesNoUnknown.YES, YesNoUnknown.NO, YesNoUnknown.NO]),
                               sexuality=rng.choice([Sexuality.HETEROSEXUAL] * 30 + [Sexuality.BISEXUAL]),
                               age_band=rng.choice(["16-17"] + ["25-34"] * 40), created_at=now))
            parties.append(dict(id=uuid.uuid4(), case_id=case_id, person_id=victim, role=PartyRole.VICTIM, position=0))
            perpetrator = uuid.uuid4()
            people.append(dict(id=perpetrator, gender=Gender.MALE, age_band=rng.choice(["16-17"] + ["35-44"] * 300),
                               created_at=now))
            parties.append(dict(id=uuid.uuid4(), case_id=case_id, person_id=perpetrator, role=PartyRole.PERPETRATOR,
                                position=1))
            for c in range(rng.choice([0, 0, 1, 2])):
                child = uuid.uuid4()
                people.append(dict(id=child, age_band="0-15", created_at=now))
                parties.append(dict(id=uuid.uuid4(), case_id=case_id, person_id=child, role=PartyRole.CHILD,
                                    position=2 + c))
            item_id = uuid.uuid4()
            items.append(dict(id=item_id, meeting_id=meeting["id"], case_id=case_id, position=n % 60 + 1,
                              status=ItemStatus.HEARD, heard_at=utc(heard_on, 11), version=1, created_at=now))
            for agency_id in rng.sample(agency_ids, RETURNS_PER_CASE):
                late = rng.random() < 0.15
                at = utc(heard_on if late else heard_on - dt.timedelta(days=3), 9)
                returns.append(dict(id=uuid.uuid4(), agenda_item_id=item_id, agency_id=agency_id, nothing_held=True,
                                    is_shared=True, updated_by_id=manager_id, updated_at=at, created_at=at, version=1))
        bulk(Person, people)
        bulk(Case, cases)
        bulk(CaseParty, parties)
        bulk(AgendaItem, items)
        bulk(ResearchReturn, returns)
        actions = []
        for n in range(ACTIONS):
            item = items[n * CASES // ACTIONS]
            heard_on = item["heard_at"].date()
            due = heard_on + dt.timedelta(days=28)
            status = rng.choice([ActionStatus.DONE] * 6 + [ActionStatus.NOT_POSSIBLE, ActionStatus.NOT_DONE,
                                                           ActionStatus.OPEN])
            closed = utc(due + dt.timedelta(days=rng.randint(-20, 5)), 15) if status != ActionStatus.OPEN else None
            actions.append(dict(id=uuid.uuid4(), case_id=item["case_id"], agenda_item_id=item["id"],
                                owner_agency_id=rng.choice(agency_ids), due_on=due, status=status, closed_at=closed,
                                version=1, created_at=now))
        bulk(Action, actions)
        db.session.commit()
        return panel_id, "steering@bench.test", first, today


def main():
    url = helpers.scratch_database_url("benchstats", tempfile.mkdtemp())
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url, "MFA_REQUIRED": False,
                                            "WTF_CSRF_ENABLED": False})
    helpers.migrate_fresh(app)
    statements = []
    with app.app_context():
        print(f"database: {db.engine.dialect.name}")

        @event.listens_for(db.engine, "before_cursor_execute")
        def count(conn, cursor, statement, *args):
            statements.append(statement)

    begin = time.perf_counter()
    panel_id, email, first, today = build(app)
    print(f"seeded {MEETINGS} meetings, {AGENCIES} agencies, {CASES:,} cases heard, {ACTIONS:,} actions, "
          f"{CASES * RETURNS_PER_CASE:,} research returns in {time.perf_counter() - begin:.0f} s")
    client = app.test_client()
    assert client.post("/sign-in", data={"email": email, "password": helpers.PASSWORD}).status_code == 302
    start = first.isoformat().split("-")
    end = (today - dt.timedelta(days=1)).isoformat().split("-")
    five_years = (f"?period=range&start-day={start[2]}&start-month={start[1]}&start-year={start[0]}"
                  f"&end-day={end[2]}&end-month={end[1]}&end-year={end[0]}")
    base = f"/panels/{panel_id}/statistics"

    def measure(label, path, runs=RUNS):
        times, cpu, counts = [], [], set()
        for _ in range(runs):
            statements.clear()
            began, began_cpu = time.perf_counter(), time.process_time()
            response = client.get(path)
            times.append(time.perf_counter() - began)
            cpu.append(time.process_time() - began_cpu)
            counts.add(len(statements))
            assert response.status_code == 200, (label, response.status_code)
        print(f"{label}: median {statistics.median(times) * 1000:.0f} ms "
              f"(this process's CPU {statistics.median(cpu) * 1000:.0f} ms), "
              f"{'/'.join(map(str, sorted(counts)))} SQL statements")

    measure("page, last complete quarter", base)
    measure("page, last 12 months", base + "?period=12_months")
    measure("page, five years (130 meetings)", base + five_years)
    measure("SafeLives return (CSV), last 12 months", base + "/safelives-return.csv?period=12_months", runs=3)
    measure("SafeLives return (CSV), five years", base + "/safelives-return.csv" + five_years, runs=1)
    measure("every table (XLSX), last 12 months", base + "/all-tables.xlsx?period=12_months", runs=3)
    measure("steering group report (PDF), last 12 months", base + "/report.pdf?period=12_months", runs=3)
    print("load average (1, 5, 15 minutes): " + ", ".join(f"{n:.1f}" for n in os.getloadavg()))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
