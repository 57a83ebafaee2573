"""Subject access for a person on five cases: the issue asks for the response in under a minute.

    .venv/bin/python benchmarks/subject_access.py
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python benchmarks/subject_access.py

The person is the victim on three MARAC cases, the young person on a MACE case and the complainant on
an ASB case, among 300 other cases; each of her cases was heard at four meetings (risk summary and a
long minute each), has eight actions with three updates each, research shared by ten agencies at each
hearing, and 400 views by agency staff in its sharing log. Prints the time of each step as the DPO
takes it (find the person, confirm the cases, build the response: the job writes, renders, encrypts
and audits it; download the PDF and the JSON), the pages, the redactions and the sizes. Asserts nothing.
"""
import datetime as dt
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("MARAC_ENV", "test")

from config import TestConfig  # noqa: E402
from marac import create_app  # noqa: E402
from marac.actions.models import Action, ActionStatus, ActionUpdate, UpdateKind  # noqa: E402
from marac.agencies.models import AgencyKind  # noqa: E402
from marac.cases import services as cases  # noqa: E402
from marac.cases.models import ScreeningDecision  # noqa: E402
from marac.cases.questions import DASH_QUESTIONS  # noqa: E402
from marac.core import timeutil  # noqa: E402
from marac.extensions import db  # noqa: E402
from marac.meetings.models import AgendaItem, ItemStatus, LawfulBasis, ResearchReturn  # noqa: E402
from marac.panels.models import PanelKind, Role  # noqa: E402
from marac.people.models import YesNoUnknown  # noqa: E402
from marac.sharing.models import Category, SharingRecord  # noqa: E402
from marac.subjects import services as subjects  # noqa: E402
from marac.subjects.models import Requester, SubjectRequest, SubjectResponse  # noqa: E402
from marac.users.models import User  # noqa: E402
from tests import helpers  # noqa: E402
from tests.factories import (AgencyFactory, HeldMeetingFactory, PanelFactory, PanelMemberFactory,  # noqa: E402
                             PanelRoleFactory, UserFactory)

DOB = dt.date(1988, 6, 15)
OTHER_CASES = 300
HEARINGS, ACTIONS, UPDATES, AGENCIES, VIEWS = 4, 8, 3, 10, 400
MINUTE = ("Testina Benchmark reported that Perry Benchabuser came to 4 Hidden Lane again; the IDVA will "
          "review the safety plan with her and the police will check the order. ") * 6


def person(first, last, dob, **more):
    return {"first_names": first, "last_name": last, "aliases": "", "date_of_birth": dob.isoformat(), **more}


def answers(kind, on, subject):
    base = {"referrer_name": "Bench Referrer", "referrer_role": "Officer", "referrer_contact": "0207 000 0000",
            "referred_on": on.isoformat()}
    if kind == PanelKind.MARAC:
        return {**base, "victim": subject, "victim_aware": YesNoUnknown.YES, "victim_consents": YesNoUnknown.YES,
                "perpetrators": [person("Perry", "Benchabuser", dt.date(1985, 1, 2), address="4 Hidden Lane")],
                "children": [person("Kiddo", "Benchmark", dt.date(2019, 5, 6))],
                "dash": {key: YesNoUnknown.YES for key, _ in DASH_QUESTIONS}, "criterion": "visible_high_risk",
                "police_incidents": 2, "recent_incident": MINUTE, "history": MINUTE}
    if kind == PanelKind.MACE:
        return {**base, "young_person": subject, "concerns": MINUTE,
                "persons_of_concern": [person("Shady", "Benchadult", dt.date(1995, 7, 8))]}
    return {**base, "complainant": subject, "description": MINUTE,
            "respondents": [person("Noisy", "Benchrespondent", dt.date(1970, 3, 4))]}


def build(app):
    """Three panels, 300 other cases, and the person's five cases with everything held about them."""
    with app.app_context():
        agencies = [AgencyFactory(kind=list(AgencyKind)[n % len(AgencyKind)], name=f"Bench Agency {n:02d}",
                                  short_name=f"Bench {n:02d}") for n in range(AGENCIES)]
        council = AgencyFactory(kind=AgencyKind.OTHER, name="Bench Council")
        dpo = UserFactory(agency=council, mfa=False, email="dpo@bench.test", is_dpo=True)
        staff = [UserFactory(agency=agency, mfa=False, email=f"staff{n}@bench.test") for n, agency in enumerate(agencies)]
        panels = {}
        for kind in PanelKind:
            panel = panels[kind] = PanelFactory(kind=kind, name=f"Bench {kind}")
            for agency in agencies:
                PanelMemberFactory(panel=panel, agency=agency)
            PanelRoleFactory(panel=panel, user=staff[0], role=Role.MANAGER)
        manager, today = staff[0], timeutil.today()
        db.session.commit()

        def refer(kind, on, subject):
            case = cases.new_case(manager, panels[kind])
            cases.save_answers(manager, case, answers(kind, on, subject), submit=True)
            cases.screen(manager, case, ScreeningDecision.ACCEPT, "", True, None)
            return case

        for n in range(OTHER_CASES):
            kind = list(PanelKind)[n % 3]
            refer(kind, today - dt.timedelta(days=n), person(f"Other{n}", "Benchperson", dt.date(1980, 1, 1)
                                                              + dt.timedelta(days=n)))
        db.session.commit()
        theirs = [refer(kind, today - dt.timedelta(days=30 * n), person(
            "Testina", "Benchmark", DOB, address="1 Bench Road", postcode="ZZ1 1ZZ", phone="07700 900111"))
            for n, kind in enumerate([PanelKind.MARAC, PanelKind.MARAC, PanelKind.MARAC, PanelKind.MACE, PanelKind.ASB])]
        for case in theirs:
            for h in range(HEARINGS):
                meeting = HeldMeetingFactory(panel=panels[case.panel.kind], meets_on=today - dt.timedelta(days=14 * (h + 1)))
                item = AgendaItem(meeting_id=meeting.id, case_id=case.id, position=1, status=ItemStatus.HEARD)
                item.risk_summary, item.minute = "High risk from Perry Benchabuser", MINUTE
                db.session.add(item)
                db.session.flush()
                for agency, user in zip(agencies, staff):
                    research = ResearchReturn(agenda_item_id=item.id, agency_id=agency.id, is_shared=True,
                                              updated_by_id=user.id, updated_at=timeutil.utcnow(),
                                              lawful_basis=LawfulBasis.PUBLIC_TASK)
                    research.to_share = f"{agency.name}: two contacts with Testina; Perry called twice."
                    db.session.add(research)
                for a in range(ACTIONS // HEARINGS):
                    action = Action(case_id=case.id, agenda_item_id=item.id, owner_agency_id=agencies[a].id,
                                    due_on=today + dt.timedelta(days=a), status=ActionStatus.OPEN)
                    action.description = "Safety plan with Testina; keep Perry Benchabuser away."
                    action.named_person = staff[a].full_name
                    for u in range(UPDATES):
                        update = ActionUpdate(user_id=staff[a].id, at=timeutil.utcnow(), kind=UpdateKind.PROGRESS,
                                              status=ActionStatus.OPEN)
                        update.note = f"Progress {u}: spoke with Testina."
                        action.updates.append(update)
                    db.session.add(action)
            db.session.add_all(SharingRecord(case_id=case.id, category=list(Category)[v % len(Category)],
                                             agency_id=staff[v % AGENCIES].agency_id, user_id=staff[v % AGENCIES].id,
                                             shared_at=timeutil.utcnow() - dt.timedelta(days=v % 60),
                                             purpose="case page viewed", lawful_basis=case.panel.lawful_basis)
                               for v in range(VIEWS))
        db.session.commit()
        request = subjects.record_request(dpo, today, Requester.SUBJECT, True, "Testina Benchmark", DOB, None)
        db.session.commit()
        return dict(dpo=dpo.id, request=request.id)


def timed(step):
    begin = time.perf_counter()
    value = step()
    db.session.commit()
    return time.perf_counter() - begin, value


def main():
    url = helpers.scratch_database_url("benchsar", tempfile.mkdtemp())
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url, "MFA_REQUIRED": False})
    helpers.migrate_fresh(app)
    ids = build(app)
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"{database}: a person on 5 cases (3 MARAC, 1 MACE, 1 ASB) among {OTHER_CASES} others; per case "
          f"{HEARINGS} hearings, {ACTIONS} actions x {UPDATES} updates, {AGENCIES} research returns a hearing, "
          f"{VIEWS} views")
    with app.test_request_context():
        dpo = db.session.get(User, ids["dpo"])
        request = db.session.get(SubjectRequest, ids["request"])
        find, found = timed(lambda: subjects.find_matches(dpo, request))
        print(f"find the person by name and date of birth: {find * 1000:.0f} ms ({len(found)} cases)")
        confirm, _ = timed(lambda: subjects.confirm_cases(
            dpo, request, [subjects.match_key(case, party) for case, party in found], None))
        print(f"confirm the cases: {confirm * 1000:.0f} ms")
        built_in, response = timed(lambda: subjects.build_response(dpo, request))
        print(f"build the response (write, render, encrypt, audit): {built_in:.2f} s, {response.status}")
        response = db.session.get(SubjectResponse, response.id)
        total = find + confirm + built_in
        print(f"  {response.pages} pages, {response.redactions} redactions marked, PDF {len(response.pdf) // 1024} KB, "
              f"JSON {len(response.json_document) // 1024} KB")
        pdf_time, _ = timed(lambda: subjects.download(dpo, response, "pdf"))
        json_time, _ = timed(lambda: subjects.download(dpo, response, "json"))
        print(f"download the PDF: {pdf_time * 1000:.0f} ms; the JSON: {json_time * 1000:.0f} ms")
        print(f"find + confirm + build: {total:.2f} s (the issue asks for under 60 s)")


if __name__ == "__main__":
    main()
