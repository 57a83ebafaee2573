"""Demo data for development: a London borough's agencies, its three panels and one account per role.

Every account uses DEMO_PASSWORD and does not have to change it, so that a newcomer can try each
role at once. `flask demo seed` refuses to run in production.
"""
from sqlalchemy import select

from marac.agencies.models import Agency
from marac.audit.services import record
from marac.auth.passwords import hash_password
from marac.extensions import db
from marac.keys.services import init_keys
from marac.panels.models import Panel, PanelMember, PanelRole
from marac.users.models import User

DEMO_PASSWORD = "demo-password-2026"

AGENCIES = [
    # name, short name, kind
    ("Metropolitan Police Service", "Met Police", "police"),
    ("Independent Domestic Violence Advocacy Service", "IDVA", "idva"),
    ("Children's Social Care", "CSC", "childrens_social_care"),
    ("Adult Social Care", "ASC", "adult_social_care"),
    ("Community Health Services", "Health", "health"),
    ("Mental Health Trust", "MH Trust", "mental_health"),
    ("Housing Services", "Housing", "housing"),
    ("Probation Service", "Probation", "probation"),
    ("Education Services", "Education", "education"),
    ("Drug and Alcohol Service", "Drug & Alcohol", "substance_misuse"),
    ("Women's Refuge Service", "Refuge", "specialist"),
    ("Youth Justice Service", "YJS", "other"),
    ("Community Safety Team", "Community Safety", "other"),
    ("Council Administration", "Council", "other"),
    ("Fire and Rescue Service", "Fire", "other"),  # sits on no panel
]

PANELS = [
    # kind, name, area, cadence, weekday, agenda lead days, capacity, members (short name, core)
    ("MARAC", "Camden MARAC", "London Borough of Camden", "fortnightly", 1, 8, 25,
     [("Met Police", True), ("IDVA", True), ("CSC", True), ("ASC", True), ("Health", True),
      ("MH Trust", True), ("Housing", True), ("Probation", True), ("Education", False),
      ("Drug & Alcohol", True), ("Refuge", False)]),
    ("MACE", "Camden MACE", "London Borough of Camden", "monthly", 2, 5, 15,
     [("Met Police", True), ("CSC", True), ("Health", True), ("Education", True), ("YJS", True),
      ("Community Safety", False), ("Drug & Alcohol", False)]),
    ("ASB", "Camden ASB Taskforce", "London Borough of Camden", "monthly", 3, 5, 12,
     [("Community Safety", True), ("Met Police", True), ("Housing", True), ("MH Trust", True),
      ("ASC", True), ("Drug & Alcohol", False)]),
]

# email, full name, agency short name, admin, (panel name, role) or None
USERS = [
    ("admin@example.org", "Ada Admin-Demo", "Council", True, None),
    ("marac.manager@example.org", "Morgan Manager-Demo", "Council", False, ("Camden MARAC", "manager")),
    ("marac.chair@example.org", "Charlie Chair-Demo", "Met Police", False, ("Camden MARAC", "chair")),
    ("marac.rep@example.org", "Riley Police-Rep-Demo", "Met Police", False, ("Camden MARAC", "representative")),
    ("marac.steering@example.org", "Sam Steering-Demo", "Council", False, ("Camden MARAC", "steering")),
    ("mace.manager@example.org", "Max Mace-Manager-Demo", "Council", False, ("Camden MACE", "manager")),
    ("mace.chair@example.org", "Casey Mace-Chair-Demo", "CSC", False, ("Camden MACE", "chair")),
    ("mace.rep@example.org", "Robin Education-Rep-Demo", "Education", False, ("Camden MACE", "representative")),
    ("mace.steering@example.org", "Sky Mace-Steering-Demo", "Council", False, ("Camden MACE", "steering")),
    ("asb.manager@example.org", "Avery Asb-Manager-Demo", "Community Safety", False,
     ("Camden ASB Taskforce", "manager")),
    ("asb.chair@example.org", "Cameron Asb-Chair-Demo", "Community Safety", False, ("Camden ASB Taskforce", "chair")),
    ("asb.rep@example.org", "Rowan Housing-Rep-Demo", "Housing", False, ("Camden ASB Taskforce", "representative")),
    ("asb.steering@example.org", "Sasha Asb-Steering-Demo", "Council", False, ("Camden ASB Taskforce", "steering")),
    ("nonmember.rep@example.org", "Nico Fire-Rep-Demo", "Fire", False, None),
]


def seed():
    """Create whatever of the demo data is missing; returns how many records were added."""
    added = 1 if init_keys() else 0
    agencies = {a.short_name: a for a in db.session.execute(select(Agency)).scalars()}
    for name, short, kind in AGENCIES:
        if short not in agencies:
            agencies[short] = Agency(name=name, short_name=short, kind=kind)
            db.session.add(agencies[short])
            added += 1
    db.session.flush()
    panels = {p.name: p for p in db.session.execute(select(Panel)).scalars()}
    for kind, name, area, cadence, weekday, lead, capacity, members in PANELS:
        panel = panels.get(name)
        if panel is None:
            panel = panels[name] = Panel(kind=kind, name=name, area=area, cadence=cadence, weekday=weekday,
                                         agenda_lead_days=lead, capacity=capacity)
            db.session.add(panel)
            added += 1
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
                        password_hash=password_hash, must_change_password=False)
            db.session.add(user)
            added += 1
        db.session.flush()
        if role:
            panel = panels[role[0]]
            if not any(r.user_id == user.id and r.role == role[1] for r in panel.roles):
                panel.roles.append(PanelRole(user_id=user.id, role=role[1]))
                added += 1
    db.session.flush()
    from marac.demo.cases import seed_cases

    from marac.demo.meetings import seed_meetings

    all_users = {u.email: u for u in db.session.execute(select(User)).scalars()}
    added += seed_cases(panels, all_users)
    added += seed_meetings(panels, all_users)
    if added:
        record("demo.seeded", detail={"added": added})
    return added
