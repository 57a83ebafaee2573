"""Meeting packs at volume: a 25-case agenda of a 20-agency panel.

    .venv/bin/python benchmarks/packs.py
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python benchmarks/packs.py

Prints the time to build every agenda pack of the meeting (the full pack and one render per redaction
profile, through the service and the job, stored encrypted), with the renders in one process and side
by side in PACKS_RENDER_PROCESSES processes; the naive time (one full render per recipient agency, as
a coordinator would make them) and the ratio; pages and ms per page; the time to stamp and issue one
agency's copy; one full pack through render_pdf against WeasyPrint alone on the same HTML; and the
peak memory (resident set of this process and of its render processes). Asserts nothing.
"""
import datetime as dt
import os
import resource
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("MARAC_ENV", "test")

from config import TestConfig  # noqa: E402
from marac import create_app  # noqa: E402
from marac.agencies.models import AgencyKind  # noqa: E402
from marac.cases.models import CaseParty, CaseStatus, PartyRole  # noqa: E402
from marac.core import timeutil  # noqa: E402
from marac.core.pdf import render_pdf  # noqa: E402
from marac.extensions import db  # noqa: E402
from marac.meetings import services as meetings  # noqa: E402
from marac.meetings.models import Meeting  # noqa: E402
from marac.packs import content  # noqa: E402
from marac.packs import services as packs  # noqa: E402
from marac.packs.models import PackKind, PackRender  # noqa: E402
from marac.panels.models import Role  # noqa: E402
from marac.people.models import Person  # noqa: E402
from marac.users.models import User  # noqa: E402
from tests import helpers  # noqa: E402
from tests.factories import (AgencyFactory, CaseFactory, PanelFactory, PanelMemberFactory,  # noqa: E402
                             PanelRoleFactory, UserFactory)

AGENCIES = 20
CASES = 25


def build(app):
    """The panel (agencies of every kind, so the rules make several profiles), 25 accepted cases with
    a named, housed subject each, listed at a published meeting. Returns the ids."""
    with app.app_context():
        kinds = list(AgencyKind)
        agencies = [AgencyFactory(kind=kinds[n % len(kinds)], name=f"Benchmark Agency {n:02d}",
                                  short_name=f"Bench {n:02d}") for n in range(AGENCIES)]
        council = AgencyFactory(kind=AgencyKind.OTHER, name="Benchmark Council")
        panel = PanelFactory(name="Benchmark MARAC", capacity=CASES)
        for agency in agencies:
            PanelMemberFactory(panel=panel, agency=agency)
        manager = UserFactory(agency=council, mfa=False, email="manager@bench.test")
        reps = [UserFactory(agency=agency, mfa=False, email=f"rep{n}@bench.test") for n, agency in enumerate(agencies)]
        PanelRoleFactory(panel=panel, user=manager, role=Role.MANAGER)
        for rep in reps:
            PanelRoleFactory(panel=panel, user=rep, role=Role.REPRESENTATIVE)
        today = timeutil.today()
        cases = [CaseFactory(panel=panel, referrer=reps[0], status=CaseStatus.ACCEPTED,
                             referred_on=today - dt.timedelta(days=n)) for n in range(CASES)]
        for n, case in enumerate(cases):
            person = Person(first_names="Benchmark", last_name=f"Person{n:02d}", date_of_birth=dt.date(1990, 1, 1),
                            address=f"{n + 1} Benchmark Street")
            db.session.add(person)
            db.session.add(CaseParty(case_id=case.id, person=person, role=PartyRole.VICTIM))
        db.session.commit()
        meeting = meetings.add_meeting(manager, panel, today + dt.timedelta(days=14), dt.time(10), anyway=True)
        for case in cases:
            meetings.list_case(manager, meeting, case)
        meetings.publish(manager, meeting)
        db.session.commit()
        return dict(meeting=meeting.id, manager=manager.id, reps=[r.id for r in reps])


def peak_mb():
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return own / 1024, children / 1024


def time_build(app, ids, processes):
    app.config["PACKS_RENDER_PROCESSES"] = processes
    with app.app_context():
        manager = db.session.get(User, ids["manager"])
        meeting = db.session.get(Meeting, ids["meeting"])
        begin = time.perf_counter()
        build = packs.build_packs(manager, meeting, PackKind.AGENDA)
        db.session.commit()
        elapsed = time.perf_counter() - begin
        renders = db.session.execute(db.select(PackRender).where(PackRender.build_id == build.id)).scalars().all()
        return elapsed, len(renders), sum(r.pages for r in renders), build.status


def time_naive(app, ids):
    """One full render per recipient agency: what building per agency without profiles costs."""
    with app.app_context():
        meeting = db.session.get(Meeting, ids["meeting"])
        html = content.agenda_html(meeting, content.FULL, "Benchmark Agency")
        title = content.pack_title(meeting, PackKind.AGENDA)
        begin = time.perf_counter()
        pages = 0
        for _ in range(AGENCIES):
            pages += packs.page_count(render_pdf(html, title=title))
        return time.perf_counter() - begin, pages, html, title


def time_issue(app, ids):
    with app.app_context():
        rep = db.session.get(User, ids["reps"][1])
        meeting = db.session.get(Meeting, ids["meeting"])
        render = packs.pack_for(rep, meeting, PackKind.AGENDA)
        begin = time.perf_counter()
        packs.issue_pack(rep, render)
        db.session.commit()
        return time.perf_counter() - begin, render.pages


def time_single(html, title):
    """One full pack: WeasyPrint alone on the same HTML with the same stylesheet, fetcher and PDF variant,
    against render_pdf (which also rebuilds the metadata); the best of three each, after a warm-up."""
    from weasyprint import HTML

    from marac.core.pdf import AssetFetcher

    def alone():
        HTML(string=html, base_url="asset:", url_fetcher=AssetFetcher()).write_pdf(pdf_variant="pdf/ua-1")

    def ours():
        render_pdf(html, title=title)

    ours()  # fonts and stylesheets loaded once per process
    timings = {}
    for name, run in (("alone", alone), ("ours", ours)):
        best = None
        for _ in range(3):
            begin = time.perf_counter()
            run()
            took = time.perf_counter() - begin
            best = took if best is None else min(best, took)
        timings[name] = best
    return timings["alone"], timings["ours"]


def main():
    url = helpers.scratch_database_url("benchpacks", tempfile.mkdtemp())
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url, "MFA_REQUIRED": False})
    helpers.migrate_fresh(app)
    ids = build(app)
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    processes = max(2, min(os.cpu_count() or 1, 4))
    print(f"{database}: {AGENCIES} agencies, {CASES} cases, {os.cpu_count()} CPUs")
    one, renders, pages, status = time_build(app, ids, 1)
    print(f"build all agenda packs, 1 process: {one:.2f} s ({renders} renders for {AGENCIES} agencies and the "
          f"full pack, {pages} pages, {one * 1000 / pages:.0f} ms/page, {status})")
    many, renders, pages, status = time_build(app, ids, processes)
    print(f"build all agenda packs, {processes} processes: {many:.2f} s ({pages} pages, "
          f"{many * 1000 / pages:.0f} ms/page, {status})")
    naive, naive_pages, html, title = time_naive(app, ids)
    print(f"naive, one full render per agency: {naive:.2f} s ({naive_pages} pages, "
          f"{naive * 1000 / naive_pages:.0f} ms/page); naive / build = {naive / min(one, many):.1f}x")
    issue, issue_pages = time_issue(app, ids)
    print(f"stamp and issue one agency's copy: {issue * 1000:.0f} ms ({issue_pages} pages)")
    alone, ours = time_single(html, title)
    print(f"one full pack: WeasyPrint alone {alone:.2f} s, render_pdf {ours:.2f} s ({ours / alone:.2f}x)")
    own, children = peak_mb()
    print(f"peak resident memory: {own:.0f} MB this process, {children:.0f} MB the largest render process")


if __name__ == "__main__":
    main()
