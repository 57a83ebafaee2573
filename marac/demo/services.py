"""Demo data for development: a London borough's agencies, its three panels and one account per role.

Every account uses DEMO_PASSWORD and does not have to change it, so that a newcomer can try each
role at once. `flask demo seed` refuses to run in production.
"""
import datetime as dt

from sqlalchemy import select

from marac.agencies.models import Agency, AgencyKind
from marac.audit.services import record
from marac.auth.passwords import hash_password
from marac.extensions import db
from marac.keys.services import init_keys
from marac.notifications.services import without_emails
from marac.panels.models import Cadence, Panel, PanelKind, PanelMember, PanelRole, Role
from marac.cases.models import Case, CaseStatus, PartyRole
from marac.core.timeutil import today
from marac.subjects import services as subjects
from marac.subjects.models import Requester, SubjectRequest
from marac.users.models import User

DEMO_PASSWORD = "demo-password-2026"

AGENCIES = [
    # name, short name, kind
    ("Metropolitan Police Service", "Met Police", AgencyKind.POLICE),
    ("Independent Domestic Violence Advocacy Service", "IDVA", AgencyKind.IDVA),
    ("Children's Social Care", "CSC", AgencyKind.CHILDRENS_SOCIAL_CARE),
    ("Adult Social Care", "ASC", AgencyKind.ADULT_SOCIAL_CARE),
    ("Community Health Services", "Health", AgencyKind.HEALTH),
    ("Mental Health Trust", "MH Trust", AgencyKind.MENTAL_HEALTH),
    ("Housing Services", "Housing", AgencyKind.HOUSING),
    ("Probation Service", "Probation", AgencyKind.PROBATION),
    ("Education Services", "Education", AgencyKind.EDUCATION),
    ("Drug and Alcohol Service", "Drug & Alcohol", AgencyKind.SUBSTANCE_MISUSE),
    ("Women's Refuge Service", "Refuge", AgencyKind.SPECIALIST),
    ("Youth Justice Service", "YJS", AgencyKind.OTHER),
    ("Community Safety Team", "Community Safety", AgencyKind.OTHER),
    ("Council Administration", "Council", AgencyKind.OTHER),
    ("Fire and Rescue Service", "Fire", AgencyKind.OTHER),  # sits on no panel
]

PANELS = [
    # kind, name, area, cadence, weekday, agenda lead days, capacity, members (short name, core)
    (PanelKind.MARAC, "Camden MARAC", "London Borough of Camden", Cadence.FORTNIGHTLY, 1, 8, 25,
     [("Met Police", True), ("IDVA", True), ("CSC", True), ("ASC", True), ("Health", True),
      ("MH Trust", True), ("Housing", True), ("Probation", True), ("Education", False),
      ("Drug & Alcohol", True), ("Refuge", False)]),
    (PanelKind.MACE, "Camden MACE", "London Borough of Camden", Cadence.MONTHLY, 2, 5, 15,
     [("Met Police", True), ("CSC", True), ("Health", True), ("Education", True), ("YJS", True),
      ("Community Safety", False), ("Drug & Alcohol", False)]),
    (PanelKind.ASB, "Camden ASB Taskforce", "London Borough of Camden", Cadence.MONTHLY, 3, 5, 12,
     [("Community Safety", True), ("Met Police", True), ("Housing", True), ("MH Trust", True),
      ("ASC", True), ("Drug & Alcohol", False)]),
]

# email, full name, agency short name, admin, (panel name, role) or None
# The MARAC panel's statistics settings: made-up figures of the right size for a London borough.
MARAC_STATISTICS = {"women_16_plus": 92_000, "attendance_threshold": 80, "local_minoritised_share": 39.8,
                    "local_lgbt_share": 5.1, "local_disabled_share": 13.2, "local_male_share": 48.6,
                    "local_aged_16_17_share": 2.3}

USERS = [
    ("admin@example.org", "Ada Admin-Demo", "Council", True, None),
    # A second administrator, so that the demo can show one approving what the other asked for.
    ("admin2@example.org", "Abe Admin-Demo", "Council", True, None),
    ("marac.manager@example.org", "Morgan Manager-Demo", "Council", False, ("Camden MARAC", Role.MANAGER)),
    ("marac.chair@example.org", "Charlie Chair-Demo", "Met Police", False, ("Camden MARAC", Role.CHAIR)),
    ("marac.rep@example.org", "Riley Police-Rep-Demo", "Met Police", False, ("Camden MARAC", Role.REPRESENTATIVE)),
    ("marac.steering@example.org", "Sam Steering-Demo", "Council", False, ("Camden MARAC", Role.STEERING)),
    ("mace.manager@example.org", "Max Mace-Manager-Demo", "Council", False, ("Camden MACE", Role.MANAGER)),
    ("mace.chair@example.org", "Casey Mace-Chair-Demo", "CSC", False, ("Camden MACE", Role.CHAIR)),
    ("mace.rep@example.org", "Robin Education-Rep-Demo", "Education", False, ("Camden MACE", Role.REPRESENTATIVE)),
    ("mace.steering@example.org", "Sky Mace-Steering-Demo", "Council", False, ("Camden MACE", Role.STEERING)),
    ("asb.manager@example.org", "Avery Asb-Manager-Demo", "Community Safety", False,
     ("Camden ASB Taskforce", Role.MANAGER)),
    ("asb.chair@example.org", "Cameron Asb-Chair-Demo", "Community Safety", False, ("Camden ASB Taskforce", Role.CHAIR)),
    ("asb.rep@example.org", "Rowan Housing-Rep-Demo", "Housing", False, ("Camden ASB Taskforce", Role.REPRESENTATIVE)),
    ("asb.steering@example.org", "Sasha Asb-Steering-Demo", "Council", False, ("Camden ASB Taskforce", Role.STEERING)),
    ("nonmember.rep@example.org", "Nico Fire-Rep-Demo", "Fire", False, None),
    # The council's data protection officer: no panel role; subject access requests across every panel and
    # every panel's disclosure reports.
    ("dpo@example.org", "Dana Dpo-Demo", "Council", False, None),
    # A police officer on all three panels: sees the Crosspanel family across them (the demo's one family).
    ("crosspanel.rep@example.org", "Jordan Crosspanel-Demo", "Met Police", False, ("Camden MARAC", Role.REPRESENTATIVE)),
    ("crosspanel.rep@example.org", "Jordan Crosspanel-Demo", "Met Police", False, ("Camden MACE", Role.REPRESENTATIVE)),
    ("crosspanel.rep@example.org", "Jordan Crosspanel-Demo", "Met Police", False,
     ("Camden ASB Taskforce", Role.REPRESENTATIVE)),
]
# The demo accounts that are data protection officers (User.is_dpo).
DPO_EMAILS = {"dpo@example.org"}


def _demo_agencies():
    """{demo short name: agency}: each demo agency found by its short name or its name (ignoring case),
    so that one an administrator has renamed is not added a second time; made when missing."""
    existing = db.session.execute(select(Agency)).scalars().all()
    by_key = {key.strip().lower(): a for a in existing for key in (a.short_name, a.name)}
    agencies, added = {}, 0
    for name, short, kind in AGENCIES:
        agency = by_key.get(short.lower()) or by_key.get(name.lower())
        if agency is None:
            agency = Agency(name=name, short_name=short, kind=kind)
            db.session.add(agency)
            added += 1
        agencies[short] = agency
    return agencies, added


def seed():
    """Create whatever of the demo data is missing; returns how many records were added. Only the demo
    panels get demo cases and meetings: panels, agencies and accounts an administrator added are left
    as they are (a panel without a manager included)."""
    added = 1 if init_keys() else 0
    agencies, new_agencies = _demo_agencies()
    added += new_agencies
    db.session.flush()
    existing = {p.name: p for p in db.session.execute(select(Panel)).scalars()}
    panels = {}
    for kind, name, area, cadence, weekday, lead, capacity, members in PANELS:
        panel = panels[name] = existing.get(name)
        if panel is None:
            panel = panels[name] = Panel(kind=kind, name=name, area=area, cadence=cadence, weekday=weekday,
                                         agenda_lead_days=lead, capacity=capacity)
            db.session.add(panel)
            added += 1
        if kind == PanelKind.MARAC and panel.women_16_plus is None:
            for name, value in MARAC_STATISTICS.items():
                setattr(panel, name, value)
        present = {m.agency_id for m in panel.members}
        for short, core in members:
            if agencies[short].id not in present:
                panel.members.append(PanelMember(agency_id=agencies[short].id, is_core=core))
                added += 1
    db.session.flush()
    users = {u.email: u for u in db.session.execute(select(User)).scalars()}
    password_hash = None
    for email, full_name, short, is_admin, role in USERS:
        user = users.get(email)
        if user is None:
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            user = User(email=email, full_name=full_name, agency_id=agencies[short].id, is_admin=is_admin,
                        is_dpo=email in DPO_EMAILS, password_hash=password_hash, must_change_password=False)
            db.session.add(user)
            users[email] = user  # an account with roles on several panels is listed once per role
            added += 1
        db.session.flush()
        if role:
            panel = panels[role[0]]
            if not any(r.user_id == user.id and r.role == role[1] for r in panel.roles):
                panel.roles.append(PanelRole(user_id=user.id, role=role[1]))
                added += 1
    db.session.flush()
    from marac.demo.asb import seed_asb
    from marac.demo.cases import seed_case_views, seed_cases, seed_mace, seed_old_cases, seed_transfers_and_family
    from marac.demo.meetings import seed_meetings

    all_users = {u.email: u for u in db.session.execute(select(User)).scalars()}
    with without_emails():  # past meetings: nobody is told of them now
        added += seed_cases(panels, all_users)
        added += seed_meetings(panels, all_users)
        added += seed_transfers_and_family(panels, all_users)
        added += seed_asb(panels, all_users)
        added += seed_mace(panels, all_users)
        added += seed_old_cases(panels, all_users)
        added += seed_case_views(panels, all_users)
        added += seed_subject_requests(panels, all_users)
    if added:
        record("demo.seeded", detail={"added": added})
    return added


def seed_subject_requests(panels, users):
    """Two subject access requests in the DPO's log, once (none is added while any exists): a MARAC
    victim's own, received 12 days ago, her cases found and confirmed (build the response from its
    page); and one made for a MACE young person by someone on their behalf, 40 days ago and overdue."""
    dpo = users.get("dpo@example.org")
    if dpo is None or not dpo.is_dpo or db.session.execute(select(SubjectRequest.id).limit(1)).first():
        return 0

    def subject_of(panel):
        case = db.session.execute(select(Case).where(Case.panel_id == panel.id, Case.status == CaseStatus.ACCEPTED)
                                  .order_by(Case.referred_on, Case.reference).limit(1)).scalar_one_or_none()
        return case.subject if case is not None else None

    added, day = 0, today()
    victim = subject_of(panels["Camden MARAC"])
    if victim is not None:
        request = subjects.record_request(dpo, day - dt.timedelta(days=12), Requester.SUBJECT, True, victim.full_name,
                                          victim.date_of_birth, "Demo: by letter to the council, with a copy of "
                                          "her passport.")
        found = subjects.find_matches(dpo, request)
        subjects.confirm_cases(dpo, request, [subjects.match_key(case, party) for case, party in found
                                              if party.role == PartyRole.VICTIM], None)
        added += 1
    young = subject_of(panels["Camden MACE"])
    if young is not None:
        subjects.record_request(dpo, day - dt.timedelta(days=40), Requester.ON_BEHALF, False, young.full_name,
                                young.date_of_birth, "Demo: from a solicitor for the young person; their "
                                "signed authority has not arrived yet.")
        added += 1
    return added
