"""Demo ASB taskforce work: interventions ladders on its accepted cases, a few response times missed,
and ASB Case Review applications in every state (awaiting acknowledgement, some overdue; awaiting a
decision; threshold not met; awaiting review; reviewed with and without recommendations; appealed),
over this financial year and the last, so that the statistics page has figures to publish."""
import datetime as dt
import random
from collections import Counter

from sqlalchemy import func, select

from marac.asb import services
from marac.agencies.models import AgencyKind
from marac.asb.models import (AppealOutcome, CaseReviewApplication, Decision, InterventionOutcome,
                              Rung, closure_order_latest_end, respondents_of)
from marac.cases.models import Case, CaseStatus
from marac.core.timeutil import today as today_
from marac.extensions import db
from marac.panels.models import PanelKind, Role

LADDERS = [  # escalations a respondent's ladder may follow
    [Rung.WARNING_LETTER, Rung.ABA],
    [Rung.WARNING_LETTER, Rung.CPW, Rung.CPN, Rung.CPN_FIXED_PENALTY],
    [Rung.CPW, Rung.CPN, Rung.CPN_PROSECUTION, Rung.CBO],
    [Rung.WARNING_LETTER, Rung.ABA, Rung.INJUNCTION, Rung.POSSESSION],
    [Rung.CPW, Rung.CLOSURE_ORDER],
]


def seed_asb(panels, users, seed=2028):
    """Add the demo ASB work to the ASB panels that have a manager and none of it yet; returns how many
    records were added."""
    rng = random.Random(seed)
    added = 0
    for panel in panels.values():
        if panel.kind != PanelKind.ASB:
            continue
        manager = next((u for u in users.values() if Role.MANAGER in panel.roles_of(u)), None)
        if manager is None or db.session.execute(
                select(func.count()).select_from(CaseReviewApplication)
                .where(CaseReviewApplication.panel_id == panel.id)).scalar():
            continue
        cases = db.session.execute(select(Case).where(Case.panel_id == panel.id, Case.status.in_(
            (CaseStatus.ACCEPTED, CaseStatus.SUBMITTED))).order_by(Case.referred_on)).scalars().all()
        added += _ladders(rng, panel, manager, [c for c in cases if c.status == CaseStatus.ACCEPTED])
        added += _late_responses(rng, cases)
        added += _case_reviews(rng, panel, manager)
    return added


def _ladders(rng, panel, manager, cases):
    added = 0
    agencies = [m.agency_id for m in panel.members]
    police = next((m.agency_id for m in panel.members if m.agency.kind == AgencyKind.POLICE), agencies[0])
    day = today_()
    for case in rng.sample(cases, min(15, len(cases))):
        for number, _ in enumerate(respondents_of(case), 1):
            on = case.referred_on + dt.timedelta(days=rng.randint(7, 21))
            rungs = rng.choice(LADDERS)[:rng.randint(1, 4)]
            for position, rung in enumerate(rungs):
                if on > day:
                    break
                last = position == len(rungs) - 1
                ends = closure_order_latest_end(on) if rung == Rung.CLOSURE_ORDER else None
                services.record_intervention(manager, case, {
                    "respondent_number": number, "rung": rung, "taken_on": on,
                    "agency_id": police if rung in (Rung.CLOSURE_ORDER, Rung.CBO, Rung.CPN_PROSECUTION)
                    else rng.choice(agencies),
                    "outcome": (rng.choice([InterventionOutcome.IN_FORCE, InterventionOutcome.PENDING,
                                            InterventionOutcome.COMPLIED]) if last else InterventionOutcome.BREACHED),
                    "review_on": on + dt.timedelta(days=rng.choice([28, 42, 56])) if last else None,
                    "ends_on": ends, "note": f"Demo: {rung.label.lower()} step."})
                added += 1
                on += dt.timedelta(days=rng.randint(14, 45))
    return added


def _late_responses(rng, cases):
    """Some screenings made after the response time: the demo's referrals are screened the next day."""
    late = 0
    for case in cases:
        if case.screened_at and case.response_due_on and rng.random() < 0.12:
            case.screened_at = case.screened_at + dt.timedelta(days=rng.randint(5, 12))
            late += 1
    return late


def _complainants(panel):
    """The demo complainants with the most referrals: (name, date of birth, referral dates)."""
    seen = {}
    for case in db.session.execute(select(Case).where(Case.panel_id == panel.id,
                                                      Case.status != CaseStatus.DRAFT)).scalars():
        subject = case.subject
        if subject and subject.full_name and subject.date_of_birth:
            seen.setdefault((subject.full_name, subject.date_of_birth), []).append(case.referred_on)
    counts = Counter({key: len(dates) for key, dates in seen.items()})
    return [(name, dob, sorted(seen[(name, dob)])) for (name, dob), _ in counts.most_common(12)]


def _case_reviews(rng, panel, manager):
    day = today_()
    complainants = _complainants(panel)
    if not complainants:
        return 0
    police = next((m.agency_id for m in panel.members if m.agency.kind == AgencyKind.POLICE), panel.members[0].agency_id)
    housing = next((m.agency_id for m in panel.members if m.agency.kind == AgencyKind.HOUSING), police)
    # How far each application got, from the latest received to the earliest.
    plan = ["received", "received", "acknowledged", "not_met", "awaiting_review", "reviewed_recommendations",
            "reviewed", "appeal_pending", "appeal_upheld", "not_met", "reviewed_recommendations"]
    # Each complainant applies a few days after their latest referral (so their complaints count).
    applicants = sorted(((min(_weekday(dates[-1] + dt.timedelta(days=rng.randint(2, 20))), _weekday(day)), name, dob)
                         for name, dob, dates in complainants), reverse=True)
    added = 0
    for stage, (received, name, dob) in zip(plan, applicants):
        met = stage not in ("not_met", "received", "acknowledged")
        found = services.count_complaints(panel, name, dob, received, 6)
        application = services.apply(manager, panel, {
            "received_on": received, "complainant_name": name, "complainant_dob": dob,
            "complainant_contact": "Demo: by phone, evenings", "applicant": None,
            "summary": "Demo: the complainant says repeated reports brought no effective action.",
            "is_hate": stage == "appeal_upheld",
            # Complaints to the police or a housing provider: enough for the threshold where it is met.
            "other_complaints": max(0, 3 - found) if met else rng.randint(0, max(0, 2 - found))})
        added += 1
        if stage == "received":
            continue
        acknowledged = _weekday(received + dt.timedelta(days=2))
        services.acknowledge(manager, application, acknowledged, None)
        if stage == "acknowledged":
            continue
        decided = _weekday(acknowledged + dt.timedelta(days=5))
        services.decide(manager, application, Decision.MET if met else Decision.NOT_MET,
                        "Demo: three complaints in six months, no effective action yet." if met else
                        "Demo: fewer than three complaints of anti-social behaviour in the six months before the "
                        "application (the others were about a private dispute).", decided, None)
        if stage in ("not_met", "awaiting_review"):
            continue
        reviewed = _weekday(decided + dt.timedelta(days=21))
        services.record_review(manager, application, reviewed, "Demo: the agencies reviewed the case together.",
                               None)
        if stage in ("reviewed_recommendations", "appeal_pending", "appeal_upheld"):
            for owner, text in ((police, "Demo: increase patrols at the address for four weeks."),
                                (housing, "Demo: consider a Community Protection Warning.")):
                services.add_recommendation(manager, application, owner, text, reviewed + dt.timedelta(days=28))
                added += 1
        if stage.startswith("appeal"):
            appealed = reviewed + dt.timedelta(days=7)
            upheld = stage == "appeal_upheld"
            services.record_appeal(manager, application, appealed,
                                   AppealOutcome.UPHELD if upheld else AppealOutcome.PENDING,
                                   appealed + dt.timedelta(days=14) if upheld else None,
                                   "Demo: the applicant asked for the review to be looked at again.", None)
    return added


def _weekday(day):
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day
