"""Demo cases: about 600 MARAC cases over two years (a third of them repeats), 150 MACE and 200 ASB.

Every person is obviously fake (names like "Testina Fakeperson", postcodes in the unused ZZ area).
Cases go through the same services as real referrals, so they are encrypted, indexed and audited.
"""
import datetime as dt
import random

from sqlalchemy import func, select

from marac.actions.models import Action, ActionStatus
from marac.agencies.models import AgencyKind
from marac.cases import questions, services
from marac.cases.models import Case, CaseChange, CaseStatus, ChangeAction, ClosureOutcome, Criterion, ScreeningDecision
from marac.core.timeutil import today as today_
from marac.extensions import db
from marac.meetings import services as meetings
from marac.meetings.models import MeetingStatus
from marac.panels.models import PanelKind, Role
from marac.people.models import EthnicGroup, Gender, LocationKind, Sexuality, YesNoUnknown
from marac.transfers import services as transfers

FIRST = ["Testina", "Examplia", "Demora", "Fictiona", "Placeholda", "Mockette", "Samplina", "Dummia",
         "Pretendia", "Imagina", "Fakella", "Notrea"]
LAST = ["Fakeperson", "Notreal", "Madeup", "Sampleton", "Pretendson", "Dummyford", "Testwell", "Mockley",
        "Fictionby", "Placeford", "Exampleton", "Inventley"]
MALE_FIRST = ["Perry", "Fakeo", "Testor", "Mockus", "Dummio", "Samplo", "Pretendo", "Imagino"]
STREETS = ["Pretend Road", "Imaginary Street", "Fictional Close", "Madeup Avenue", "Example Lane", "Notreal Way"]
COUNTS = {PanelKind.MARAC: 600, PanelKind.MACE: 150, PanelKind.ASB: 200}
AGES = {PanelKind.MARAC: (16, 70), PanelKind.MACE: (10, 24), PanelKind.ASB: (18, 90)}
POLICE_SHARE = 0.6  # of MARAC referrals, besides the police's share of the random choice


def _postcode(rng):
    return f"ZZ{rng.randint(1, 99)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"


def _dob(rng, min_age, max_age, on):
    return on - dt.timedelta(days=rng.randint(min_age * 365, max_age * 365))


def _person(rng, on, first=FIRST, min_age=18, max_age=70):
    return {"first_names": rng.choice(first), "last_name": rng.choice(LAST), "aliases": "",
            "date_of_birth": _dob(rng, min_age, max_age, on).isoformat()}


def _referrer(rng):
    return {"referrer_name": "Demo Referrer", "referrer_role": rng.choice(["Police officer", "IDVA", "Social worker",
                                                                            "Housing officer", "Health visitor"]),
            "referrer_contact": "0207 000 0000"}


def _marac_answers(rng, victim, on):
    yes = rng.choice([14, 15, 16, 17, 18, 20, 9, 11, 12])
    criterion = (Criterion.VISIBLE_HIGH_RISK if yes >= questions.VISIBLE_HIGH_RISK_SCORE
                 else rng.choice([Criterion.PROFESSIONAL_JUDGEMENT, Criterion.POTENTIAL_ESCALATION]))
    keys = [k for k, _ in questions.DASH_QUESTIONS]
    chosen = set(rng.sample(keys, yes))
    return {
        **_referrer(rng), "referred_on": on.isoformat(),
        "victim": {**victim, "address": f"{rng.randint(1, 200)} {rng.choice(STREETS)}, Testtown",
                   "postcode": victim["postcode"], "phone": f"07700 900{rng.randint(100, 999)}",
                   "safe_to_call": rng.choice(list(YesNoUnknown)), "language": "English",
                   "interpreter": rng.random() < 0.1, "gender": Gender.MALE if rng.random() < 0.06 else Gender.FEMALE,
                   "ethnic_group": rng.choice(list(EthnicGroup)),
                   "disability": rng.choice([YesNoUnknown.YES, YesNoUnknown.NO, YesNoUnknown.NO]),
                   "sexuality": rng.choice([Sexuality.HETEROSEXUAL] * 8 + [Sexuality.GAY_LESBIAN, Sexuality.BISEXUAL]),
                   "gp": "Demo Surgery"},
        "victim_aware": YesNoUnknown.YES,
        "victim_consents": rng.choice([YesNoUnknown.YES, YesNoUnknown.YES, YesNoUnknown.NO]),
        "consent_reason": "Risk too high to wait for consent (demo).",
        "perpetrators": [{**_person(rng, on, MALE_FIRST), "relationship": rng.choice(list(questions.Relationship)),
                          "gender": Gender.MALE}],
        "children": [{**_person(rng, on, FIRST, 0, 15), "lives_with": questions.LivesWith.VICTIM} for _ in range(rng.choice([0, 0, 1, 2, 3]))],
        "dash": {k: (YesNoUnknown.YES if k in chosen else YesNoUnknown.NO) for k in keys},
        "criterion": criterion, "judgement_reasons": "Demo: escalating controlling behaviour.",
        "police_incidents": rng.randint(3, 6) if criterion == Criterion.POTENTIAL_ESCALATION else rng.randint(0, 2),
        "recent_incident": "Demo incident description.", "history": "Demo history.",
        "crime_reference": f"DEMO-{rng.randint(10000, 99999)}", "bail_conditions": "", "orders": "",
    }


def _mace_answers(rng, young_person, on, persons, locations):
    return {
        **_referrer(rng), "referred_on": on.isoformat(),
        "young_person": {**young_person, "postcode": young_person["postcode"], "gender": rng.choice([Gender.MALE, Gender.FEMALE]),
                         "ethnic_group": rng.choice(list(EthnicGroup)), "school": "Demo Academy"},
        "exploitation_types": rng.sample(list(questions.ExploitationType), rng.randint(1, 3)),
        "indicators": {k: str(rng.randint(0, 3)) for k, _ in questions.MACE_INDICATORS},
        "persons_of_concern": rng.sample(persons, rng.randint(0, 2)),
        "locations": rng.sample(locations, rng.randint(0, 2)),
        "concerns": "Demo concerns.",
    }


def _asb_answers(rng, complainant, on, locations):
    yes = set(rng.sample([k for k, _ in questions.ASB_QUESTIONS], rng.randint(1, 10)))
    return {
        **_referrer(rng), "referred_on": on.isoformat(),
        "complainant": {**complainant, "postcode": complainant["postcode"], "gender": rng.choice([Gender.MALE, Gender.FEMALE]),
                        "ethnic_group": rng.choice(list(EthnicGroup))},
        "respondents": [_person(rng, on, MALE_FIRST)],
        "locations": rng.sample(locations, 1),
        "categories": rng.sample(list(questions.AsbCategory), rng.randint(1, 3)),
        "vulnerability": {k: (YesNoUnknown.YES if k in yes else YesNoUnknown.NO) for k, _ in questions.ASB_QUESTIONS},
        "needs": rng.sample(list(questions.Need), rng.randint(0, 2)),
        "interventions": rng.sample(list(questions.Intervention), rng.randint(0, 3)),
        "complaints_6_months": rng.randint(1, 8), "description": "Demo behaviour.",
    }


def seed_cases(panels, users, seed=2026):
    """Add demo cases to the panels that have none and a manager and a referrer; returns how many were
    added."""
    rng = random.Random(seed)
    today = today_()
    added = 0
    for panel in panels.values():
        if db.session.execute(select(func.count()).select_from(Case).where(Case.panel_id == panel.id)).scalar():
            continue
        referrers = [u for u in users.values() if panel.can_refer(u) and panel.is_member(u.agency_id)]
        manager = next((u for u in users.values() if Role.MANAGER in panel.roles_of(u)), None)
        if manager is None or not referrers:
            continue  # nobody to refer or to screen: the panel gets no demo cases
        member_agencies = [m.agency_id for m in panel.members]
        # The police refer most MARAC cases (nationally about two thirds): a stream of its own, so that
        # every other random choice of the demo stays as it was.
        police = next((m.agency_id for m in panel.members if m.agency.kind == AgencyKind.POLICE), None)
        route_rng = random.Random(seed + 1)
        count = COUNTS[panel.kind]
        dates = sorted(today - dt.timedelta(days=rng.randint(0, 729)) for _ in range(count))
        people = []  # (subject answers, last referred on)
        persons = [_person(rng, today, MALE_FIRST, 19, 40) for _ in range(15)]
        locations = [{"kind": rng.choice([LocationKind.HOTSPOT, LocationKind.PREMISES, LocationKind.ADDRESS]), "description": f"Demo location {n}",
                      "address": f"{n} {rng.choice(STREETS)}", "postcode": _postcode(rng)} for n in range(1, 25)]
        for on in dates:
            recent = [p for p in people if (on - p[1]).days <= 365]
            if recent and rng.random() < 0.33:
                subject = rng.choice(recent)[0]
                people.append((subject, on))
            else:
                subject = {**_person(rng, on, FIRST, *AGES[panel.kind]), "postcode": _postcode(rng)}
                people.append((subject, on))
            if panel.kind == PanelKind.MARAC:
                answers = _marac_answers(rng, subject, on)
            elif panel.kind == PanelKind.MACE:
                answers = _mace_answers(rng, subject, on, persons, locations)
            else:
                answers = _asb_answers(rng, subject, on, locations)
            referrer = rng.choice(referrers)
            case = services.new_case(referrer, panel)
            case.referring_agency_id = rng.choice(member_agencies)
            if panel.kind == PanelKind.MARAC and police and route_rng.random() < POLICE_SHARE:
                case.referring_agency_id = police
            when = dt.datetime.combine(on, dt.time(10, 0), tzinfo=dt.timezone.utc)
            services.save_answers(referrer, case, answers, submit=True, now=when)
            if (today - on).days > 14:
                accept = rng.random() >= 0.05
                services.screen(manager, case, ScreeningDecision.ACCEPT if accept else ScreeningDecision.SCREEN_OUT,
                                "" if accept else "Demo: does not meet the criteria",
                                confirm_repeat=True, expected_version=case.version)
                case.screened_at = when + dt.timedelta(days=1)
                if accept and (today - on).days > 380 and rng.random() < 0.9:
                    case.status = CaseStatus.CLOSED  # heard before the demo meetings begin, a year ago
                    case.closed_at = when + dt.timedelta(days=60)
                    case.closure_outcome = ClosureOutcome.RISK_REDUCED
            dated_history(case, when)
            added += 1
            if added % 100 == 0:
                db.session.flush()
    return added


def dated_history(case, submitted_at):
    """The case's history at the dates the demo gives it: the services stamp each entry with the time the
    demo runs, so a case referred a year ago would otherwise tell its story in the wrong order. A closure
    the demo sets directly gets its entry."""
    for change in db.session.execute(select(CaseChange).where(CaseChange.case_id == case.id)).scalars():
        if change.action == ChangeAction.SUBMITTED:
            change.at = submitted_at
        elif change.action in (ChangeAction.ACCEPTED, ChangeAction.SCREENED_OUT) and case.screened_at:
            change.at = case.screened_at
    if case.status == CaseStatus.CLOSED and case.closed_at:
        db.session.add(CaseChange(case_id=case.id, at=case.closed_at, action=ChangeAction.CLOSED,
                                  status=CaseStatus.CLOSED, fields=[]))


def seed_case_views(panels, users, cases_per_panel=5):
    """The five latest accepted cases of each demo panel opened by its manager, chair and representative,
    as they would before a meeting, so that each case's disclosure report (and the sharing log) has records
    from more than one agency to show. Only on a panel with no sharing records yet (idempotent)."""
    from marac.sharing.models import SharingRecord

    roles = {kind: tuple(f"{prefix}.{role}@example.org" for role in ("manager", "chair", "rep"))
             for kind, prefix in ((PanelKind.MARAC, "marac"), (PanelKind.MACE, "mace"), (PanelKind.ASB, "asb"))}
    added = 0
    for panel in panels.values():
        viewers = [users[email] for email in roles.get(panel.kind, ()) if email in users]
        shared = db.session.execute(select(func.count()).select_from(SharingRecord).join(Case)
                                    .where(Case.panel_id == panel.id)).scalar_one()
        if shared or not viewers:
            continue
        latest = db.session.execute(select(Case).where(Case.panel_id == panel.id,
                                                       Case.status == CaseStatus.ACCEPTED)
                                    .order_by(Case.referred_on.desc()).limit(cases_per_panel)).scalars().all()
        for case in latest:
            for viewer in viewers:
                if case.can_view(viewer):
                    services.record_view(viewer, case)
                    added += 1
    return added


# Old closed cases past their panel's retention schedule, so that the retention page and the dry run
# have something to show; the first of the MARAC ones is under a legal hold.
OLD_CASES = {PanelKind.MARAC: 3, PanelKind.ASB: 2}
OLD_YEARS = 8


def seed_old_cases(panels, users, seed=2019):
    """Add a few cases referred and closed about eight years ago (past retention) to the MARAC and ASB demo
    panels that have none that old; the first MARAC one gets a legal hold. Returns how many were added."""
    rng = random.Random(seed)
    today = today_()
    added = 0
    for panel in panels.values():
        count = OLD_CASES.get(panel.kind)
        cutoff = today - dt.timedelta(days=365 * (OLD_YEARS - 1))
        if not count or db.session.execute(select(func.count()).select_from(Case).where(
                Case.panel_id == panel.id, Case.referred_on < cutoff)).scalar():
            continue
        referrers = [u for u in users.values() if panel.can_refer(u) and panel.is_member(u.agency_id)]
        manager = next((u for u in users.values() if Role.MANAGER in panel.roles_of(u)), None)
        if manager is None or not referrers:
            continue
        locations = [{"kind": LocationKind.ADDRESS, "description": "Demo location (old case)",
                      "address": f"{n} {rng.choice(STREETS)}", "postcode": _postcode(rng)} for n in range(1, 4)]
        for n in range(count):
            on = today - dt.timedelta(days=365 * OLD_YEARS + 30 * n)
            subject = {**_person(rng, on, FIRST, *AGES[panel.kind]), "postcode": _postcode(rng)}
            answers = (_marac_answers(rng, subject, on) if panel.kind == PanelKind.MARAC
                       else _asb_answers(rng, subject, on, locations))
            referrer = rng.choice(referrers)
            case = services.new_case(referrer, panel)
            when = dt.datetime.combine(on, dt.time(10, 0), tzinfo=dt.timezone.utc)
            services.save_answers(referrer, case, answers, submit=True, now=when)
            services.screen(manager, case, ScreeningDecision.ACCEPT, "", confirm_repeat=True,
                            expected_version=case.version)
            services.close_case(manager, case, ClosureOutcome.RISK_REDUCED, "")
            case.screened_at = when + dt.timedelta(days=1)
            case.closed_at = when + dt.timedelta(days=90)
            if panel.kind == PanelKind.MARAC and n == 0:
                services.place_hold(manager, case, "Demo: civil proceedings about this family are still open")
            added += 1
        db.session.flush()
    return added


def seed_mace(panels, users, seed=2026):
    """The MACE panel's 12-weekly reviews and register links, for a panel with no review yet: each open
    case reviewed on time since acceptance, but every fourth one late with its last review (overdue),
    and a few accepted recently (due soon or not yet); the person and the location of concern named in
    the most cases each get one more case linked by the manager. Returns how many records were added."""
    from marac.mace import services as mace
    from marac.mace.models import ConcernKind, DisruptionTactic, Review

    rng = random.Random(seed + 14)
    day = today_()
    added = 0
    for panel in panels.values():
        manager = next((u for u in users.values() if Role.MANAGER in panel.roles_of(u)), None)
        if panel.kind != PanelKind.MACE or manager is None:
            continue
        if db.session.execute(select(func.count()).select_from(Review).join(Case, Case.id == Review.case_id)
                              .where(Case.panel_id == panel.id)).scalar():
            continue
        open_cases = db.session.execute(select(Case).where(Case.panel_id == panel.id, Case.status == CaseStatus.ACCEPTED)
                                        .order_by(Case.reference)).scalars().all()
        for number, case in enumerate(open_cases):
            dates, last = [], None
            while True:
                due = mace.review_due_on(case, last, panel.review_interval_weeks)
                if due is None or due > day:
                    break
                last = min(day, due + dt.timedelta(days=rng.randint(0, 3)))
                dates.append(last)
            if number % 4 == 0 and dates:
                dates.pop()  # the last review not held: overdue
            born = case.subject.date_of_birth if case.subject else None
            for on in dates:
                stays = born is None or mace.age_on(born, on) < mace.SCOPE_AGE_LIMIT
                mace.record_review(manager, case, on, rng.choice(mace.risk_levels(panel.kind)),
                                   "Demo: fewer missing episodes; still seen with older peers.",
                                   rng.sample(list(DisruptionTactic), rng.randint(1, 3)),
                                   "Demo: disruption visits weekly; return-home interviews after each episode.", stays)
                added += 1
        for kind in (ConcernKind.PERSON, ConcernKind.LOCATION):
            entries = sorted(mace.register_entries(manager, panel, kind) or [], key=lambda e: -len(e.cases))
            if not entries:
                continue
            linked = {lc.case.id for lc in entries[0].cases}
            other = next((c for c in open_cases if c.id not in linked), None)
            if other is not None:
                mace.link_case(manager, panel, entries[0], other.reference,
                               "Demo: seen together by the police disruption team.")
                added += 1
    return added


# --- transfers and one family across panels ----------------------------------------------------

# A family known to all three panels: the MARAC victim's son is on the MACE list, and the MARAC
# perpetrator is an ASB respondent.
FAMILY_VICTIM = {"first_names": "Familia", "last_name": "Crosspanel", "aliases": "", "date_of_birth": "1988-09-14",
                 "postcode": "ZZ7 7FC"}
FAMILY_CHILD = {"first_names": "Junior", "last_name": "Crosspanel", "aliases": "", "date_of_birth": "2011-03-02"}
FAMILY_PERPETRATOR = {"first_names": "Perry", "last_name": "Crosspanel", "aliases": "", "date_of_birth": "1984-06-21"}
TRANSFER_OUT_TO = ("Northtown MARAC (demo)", "Demo Coordinator, marac.coordinator@northtown.example, 0207 000 0101")
TRANSFER_IN_FROM = ("Southvale MARAC (demo)", "SV-2026-0117", "Demo Sender, marac@southvale.example, 0207 000 0102")


def seed_transfers_and_family(panels, users, seed=2027):
    """On the demo MARAC panel, one case transferred out (its packet built) and one received from another
    area (listed first at the next meeting); and the Crosspanel family on MARAC, MACE and ASB. Once:
    nothing is added when the family's MARAC case exists already. Returns how many records were added."""
    marac = next((p for p in panels.values() if p.kind == PanelKind.MARAC), None)
    mace = next((p for p in panels.values() if p.kind == PanelKind.MACE), None)
    asb = next((p for p in panels.values() if p.kind == PanelKind.ASB), None)
    if None in (marac, mace, asb):
        return 0
    if services.search(marac, name="Familia Crosspanel", date_of_birth=dt.date(1988, 9, 14)).total:
        return 0
    managers = {p.id: next((u for u in users.values() if Role.MANAGER in p.roles_of(u)), None)
                for p in (marac, mace, asb)}
    if None in managers.values():
        return 0
    rng = random.Random(seed)
    today = today_()
    on = today - dt.timedelta(days=10)
    added = 0

    def accepted(panel, answers):
        manager = managers[panel.id]
        case = services.new_case(manager, panel)
        services.save_answers(manager, case, answers, submit=True)
        services.screen(manager, case, ScreeningDecision.ACCEPT, "", confirm_repeat=True, expected_version=None)
        return case

    marac_answers = _marac_answers(rng, FAMILY_VICTIM, on)
    marac_answers["perpetrators"] = [{**FAMILY_PERPETRATOR, "relationship": questions.Relationship.EX_PARTNER,
                                      "gender": Gender.MALE}]
    marac_answers["children"] = [{**FAMILY_CHILD, "lives_with": questions.LivesWith.VICTIM}]
    accepted(marac, marac_answers)
    concern = [_person(rng, on, MALE_FIRST, 19, 40) for _ in range(2)]
    hotspots = [{"kind": LocationKind.HOTSPOT, "description": f"Demo hotspot {n}", "address": f"{n} Example Lane",
                 "postcode": _postcode(rng)} for n in (1, 2)]
    accepted(mace, _mace_answers(rng, {**FAMILY_CHILD, "postcode": "ZZ7 7FC"}, on, concern, hotspots))
    asb_answers = _asb_answers(rng, {**_person(rng, on), "postcode": _postcode(rng)}, on,
                               [{"kind": LocationKind.ADDRESS, "address": "3 Fictional Close", "postcode": "ZZ7 7FD"}])
    asb_answers["respondents"] = [dict(FAMILY_PERPETRATOR)]
    accepted(asb, asb_answers)
    added += 3

    # Out: the latest accepted MARAC case heard with actions still open, not on an agenda to come.
    manager = managers[marac.id]
    candidates = db.session.execute(
        select(Case).join(Action, Action.case_id == Case.id)
        .where(Case.panel_id == marac.id, Case.status == CaseStatus.ACCEPTED, Action.status == ActionStatus.OPEN)
        .order_by(Case.referred_on.desc())).scalars().unique().all()
    gone = next((c for c in candidates if not meetings.listed_at(c)), None)
    if gone is not None:
        transfer = transfers.transfer_out(manager, gone, *TRANSFER_OUT_TO, today - dt.timedelta(days=2), None)
        transfers.build_packet(str(transfer.id))  # now, rather than by a job after the command ends
        added += 1

    # In: received from another area, entered from its packet, listed first at the next meeting.
    area, reference, contact = TRANSFER_IN_FROM
    case = transfers.receive_transfer(manager, marac, area, contact, reference, today - dt.timedelta(days=1))
    arrival = {**_person(rng, on, FIRST, 20, 50), "postcode": _postcode(rng)}
    services.save_answers(manager, case, _marac_answers(rng, arrival, today - dt.timedelta(days=1)), submit=True)
    upcoming = next((m for m in meetings.upcoming_and_recent(marac)[0]
                     if m.status == MeetingStatus.SCHEDULED), None)
    if upcoming is not None:
        meetings.agenda_items(upcoming)
        meetings.list_case(manager, upcoming, case)
    added += 2
    db.session.flush()
    return added
