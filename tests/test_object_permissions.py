"""Object permissions defer to their parent: for every model with a parent, every permission
(`can_*`) and every role, no child is more visible or more updatable than its parent (action -> case ->
panel, agenda item -> meeting and case, research return -> agenda item, ...). A model added without
saying what its parent is fails here; so does a model the world below makes no row of. The pages
follow: a page of a child object opens only for those who may open its parent's page."""
import datetime as dt
import inspect as pyinspect

import pytest
from sqlalchemy import select

from marac.actions import services as actions
from marac.actions.models import Action, ActionStatus, ActionUpdate, UpdateKind
from marac.asb import services as asb
from marac.asb.models import (CaseReviewApplication, CaseReviewSettings, Decision, Intervention, InterventionOutcome,
                              Recommendation, Rung)
from marac.agencies.models import Agency, AgencyKind
from marac.audit.models import AuditChainHead, AuditEvent, AuditEventRef
from marac.auth.models import UserSession
from marac.cases import services as cases
from marac.cases.models import (Case, CaseChange, CaseLocation, CaseParty, Criterion, LegalHold, ReferenceCounter,
                                RiskLevel,
                                ScreeningDecision)
from marac.cases.questions import DASH_QUESTIONS
from marac.core.forms import SpentFormToken
from marac.core.timeutil import today
from marac.extensions import db
from marac.keys.models import DataKey
from marac.mace import services as mace
from marac.mace.models import ConcernKind, ConcernLink, DisruptionTactic, Review
from marac.meetings import services as meetings
from marac.meetings.models import (AgendaItem, Attendance, Attendee, ItemStatus, LawfulBasis, Meeting,
                                   MinuteAmendment, ResearchReturn)
from marac.notifications.models import EmailOptOut, SentReminder
from marac.packs import services as packs
from marac.packs.models import PackBuild, PackIssue, PackKind, PackRender
from marac.panels.models import Panel, PanelKind, PanelMember, PanelRole, Role
from marac.retention.models import RetentionSchedule
from marac.retention.services import update_schedule
from marac.people.models import Location, Person, PersonName, YesNoUnknown
from marac.sharing.models import DEFAULT_RULES, SharingRecord, SharingRule
from marac.sharing.services import set_rules
from marac.subjects import services as subject_access
from marac.subjects.models import Rectification, Requester, SubjectCase, SubjectRequest, SubjectResponse
from marac.transfers import services as transfers
from marac.transfers.models import CaseTransfer
from marac.users.models import ApprovalRequest, User
from tests.factories import AgencyFactory, PanelFactory, PanelMemberFactory, PanelRoleFactory, UserFactory, open_on_its_day
from tests.helpers import pdf_text, post_form, sign_in
from tests.mace_cases import mace_case

# Each model with a parent, and the relationships that lead to its parents (the nearest first).
PARENTS = {
    PanelMember: ("panel",),
    PanelRole: ("panel",),
    SharingRule: ("panel",),
    Case: ("panel",),
    CaseParty: ("case",),
    CaseLocation: ("case",),
    CaseChange: ("case",),
    SharingRecord: ("case",),
    Meeting: ("panel",),
    AgendaItem: ("meeting", "case"),
    Attendance: ("meeting",),
    Attendee: ("meeting",),
    ResearchReturn: ("item",),
    MinuteAmendment: ("item",),
    Action: ("case", "item"),
    ActionUpdate: ("action",),
    PackBuild: ("meeting",),
    PackRender: ("meeting",),
    PackIssue: ("render",),
    Intervention: ("case",),
    CaseReviewSettings: ("panel",),
    CaseReviewApplication: ("panel",),
    Recommendation: ("application",),
    LegalHold: ("case",),
    RetentionSchedule: ("panel",),
    SubjectCase: ("request",),
    SubjectResponse: ("request",),
    Rectification: ("request",),
    Review: ("case",),
    ConcernLink: ("case",),
    CaseTransfer: ("case",),
}
# Models without a parent, and why.
ROOTS = {
    Panel: "the top of every panel's tree: Panel.can_view is where the others start",
    Agency: "the directory of organisations, managed by administrators",
    User: "accounts, managed by administrators; a user's own pages are theirs",
    UserSession: "a signed-in session, read only by the sign-in machinery and its owner",
    DataKey: "keys, wrapped by the KEK, never shown",
    AuditEvent: "the trail, read by administrators through the auditor's pages",
    AuditChainHead: "the trail's head, never shown",
    AuditEventRef: "an index of the objects each event names, read through the disclosure report",
    ReferenceCounter: "a counter behind case references, never shown",
    Person: "shown only through its CaseParty, which defers to the case",
    PersonName: "a name of a Person, shown only through its CaseParty",
    Location: "shown only through its CaseLocation, which defers to the case",
    ApprovalRequest: "an administrator's request awaiting a second administrator, on the administrators' page",
    SpentFormToken: "a spent one-time form token (a random id and when), never shown",
    SubjectRequest: ("a subject access request, about a person across panels: the DPO's, and a panel manager's "
                     "who recorded it or manages the panel of a case confirmed for it"),
    EmailOptOut: "an optional kind of email a user turned off, shown only to that user on their account page",
    SentReminder: "a note that a scheduled reminder went to a user (kind, meeting or agency, period), never shown",
}

RESEARCH_TEXT = "Invented: police call-outs for the object-permission world"
UNSHARED_TEXT = "Invented: the IDVA's unshared notes"


def permissions(cls):
    """The names of the class's permission methods: can_<something>(self, user)."""
    return sorted(name for name, member in pyinspect.getmembers(cls, pyinspect.isfunction)
                  if name.startswith("can_") and list(pyinspect.signature(member).parameters) == ["self", "user"])


def marac_answers(first, last, dob, address, on):
    """A complete MARAC referral in the form's answer shape, with a location so that it links one."""
    return {
        "referrer_name": "Rita Referrer-Test", "referrer_role": "Officer", "referrer_contact": "0207 000 0000",
        "referred_on": on.isoformat(),
        "victim": {"first_names": first, "last_name": last, "aliases": "", "date_of_birth": dob.isoformat(),
                   "address": address, "postcode": "ZZ9 9ZZ", "phone": "07700 900555", "gp": "Fakeside Surgery"},
        "victim_aware": YesNoUnknown.YES, "victim_consents": YesNoUnknown.YES,
        "perpetrators": [{"first_names": "Perry", "last_name": "Fakeabuser", "aliases": "",
                          "date_of_birth": "1980-02-03"}],
        "children": [{"first_names": "Kiddo", "last_name": last, "date_of_birth": "2019-05-06"}],
        "locations": [{"description": "Invented: the flat", "address": address, "postcode": "ZZ9 9ZZ"}],
        "dash": {key: YesNoUnknown.YES for key, _ in DASH_QUESTIONS},
        "criterion": Criterion.VISIBLE_HIGH_RISK, "police_incidents": 2,
        "recent_incident": "Invented incident for the object-permission world.",
    }


def refer(user, panel, first, on):
    """A referral submitted through the service, as the referral form does."""
    case = cases.new_case(user, panel)
    cases.save_answers(user, case, marac_answers(first, "Fakeperm", dt.date(1990, 1, 2), f"{first}'s flat", on),
                       submit=True)
    return case


def build_roles_world():
    """A MARAC panel with police, IDVA and housing as members, a user in each role the rules know (and
    a referrer without a role, and one with), and a row of every model: a draft, a referral awaiting
    screening, a case heard at a held meeting with finalised (and amended) minutes, research shared
    and not, an action with an update, the register, a pack built and handed out, sharing rules and
    sharing records, a second case listed at a meeting whose agenda is not published and under a legal
    hold, and the panel's retention schedule."""
    police, idva = AgencyFactory(kind=AgencyKind.POLICE), AgencyFactory(kind=AgencyKind.IDVA)
    housing = AgencyFactory(kind=AgencyKind.HOUSING)
    council, outsider = AgencyFactory(kind=AgencyKind.OTHER), AgencyFactory(kind=AgencyKind.OTHER)
    panel = PanelFactory()
    for agency in (police, idva, housing):
        PanelMemberFactory(panel=panel, agency=agency)
    users = {
        "no role": UserFactory(agency=police),
        "representative": UserFactory(agency=idva),
        "representative of a non-member": UserFactory(agency=outsider),
        "chair": UserFactory(agency=police),
        "manager": UserFactory(agency=council),
        # Of the agency that owns the action below: the steering group sees statistics, not cases.
        "steering": UserFactory(agency=idva),
        "administrator": UserFactory(agency=council, is_admin=True),
        "referrer": UserFactory(agency=police),
        "referrer with a role": UserFactory(agency=housing),
    }
    for name, role in (("representative", Role.REPRESENTATIVE), ("representative of a non-member", Role.REPRESENTATIVE),
                       ("chair", Role.CHAIR), ("manager", Role.MANAGER), ("steering", Role.STEERING),
                       ("referrer with a role", Role.REPRESENTATIVE)):
        PanelRoleFactory(panel=panel, user=users[name], role=role)
    manager, chair, rep = users["manager"], users["chair"], users["representative"]
    day = today()
    set_rules(manager, panel, DEFAULT_RULES)

    draft = cases.new_case(users["referrer"], panel)
    cases.save_answers(users["referrer"], draft, {"victim": {"first_names": "Draftina"}}, submit=False)
    awaiting = refer(users["referrer"], panel, "Waitina", day)
    heard = refer(users["referrer"], panel, "Heardina", day - dt.timedelta(days=20))
    later = refer(users["referrer with a role"], panel, "Laterina", day)
    for case in (heard, later):
        cases.screen(manager, case, ScreeningDecision.ACCEPT, "", True, None)
    for who in (manager, rep, users["referrer"], users["referrer with a role"]):
        cases.record_view(who, heard)

    held = meetings.add_meeting(manager, panel, day - dt.timedelta(days=7), dt.time(10), anyway=True)
    item = meetings.list_case(manager, held, heard)
    meetings.publish(manager, held)
    meetings.save_return(rep, item, {"nothing_held": False, "relevant": UNSHARED_TEXT, "to_share": UNSHARED_TEXT,
                                     "withheld": None, "withheld_reason": None,
                                     "lawful_basis": LawfulBasis.PUBLIC_TASK})
    meetings.save_return(chair, item, {"nothing_held": False, "relevant": RESEARCH_TEXT, "to_share": RESEARCH_TEXT,
                                       "withheld": "Invented: withheld", "withheld_reason": "Invented: why",
                                       "lawful_basis": LawfulBasis.PUBLIC_TASK})
    meetings.share_return(chair, item)
    open_on_its_day(manager, held)
    attendee = meetings.add_attendee(manager, held, "Named for the IDVA", "", idva.id, False)
    meetings.agree_confidentiality(manager, held, attendee)
    action = actions.add_action(manager, item, idva.id, "Invented: safety plan", day + dt.timedelta(days=21), None)
    meetings.record_hearing(manager, item, "Invented: risk summary", "Invented: minute", ItemStatus.HEARD, None)
    actions.update_action(rep, action, UpdateKind.PROGRESS, "Invented: progress", None)
    meetings.close_meeting(manager, held)
    meetings.finalise_minutes(manager, held)
    meetings.amend_minute(manager, item, "Invented: amended minute", "Invented: reason", None)
    build = packs.build_packs(manager, held, PackKind.AGENDA)
    packs.issue_pack(rep, packs.pack_for(rep, held, PackKind.AGENDA))

    unpublished = meetings.add_meeting(manager, panel, day + dt.timedelta(days=14), dt.time(10), anyway=True)
    meetings.list_case(manager, unpublished, later)
    asb_rows = _asb_rows(users, (police, idva, housing))
    cases.place_hold(manager, later, "Invented: proceedings pending")
    update_schedule(users["administrator"], panel, 7)
    access_request = subject_access.record_request(manager, day, Requester.SUBJECT, True, "Heardina Fakeperm",
                                                   dt.date(1990, 1, 2), None)
    subject_access.confirm_cases(manager, access_request, [subject_access.match_key(case, party) for case, party
                                                           in subject_access.find_matches(manager, access_request)],
                                 None)
    subject_access.build_response(manager, access_request)
    subject_access.rectify(manager, access_request, {"phone": "07700 900556"}, "Invented: phone corrected", None)

    # A MACE panel of the same agencies and people: a child's case with a review, and a register link.
    mace_panel = PanelFactory(kind=PanelKind.MACE)
    for agency in (police, idva, housing):
        PanelMemberFactory(panel=mace_panel, agency=agency)
    for role in panel.roles:
        PanelRoleFactory(panel=mace_panel, user=role.user, role=role.role)
    child = mace_case(users["referrer"], manager, mace_panel, day - dt.timedelta(days=30))
    other = mace_case(users["referrer"], manager, mace_panel, day - dt.timedelta(days=20), persons=())
    mace.record_review(manager, child, day, RiskLevel.MEDIUM, "Invented: what changed", [DisruptionTactic.CAWN],
                       "Invented: plan", True)
    entry = mace.register_entries(manager, mace_panel, ConcernKind.PERSON)[0]
    mace.link_case(manager, mace_panel, entry, other.reference, "Invented: seen together")
    # A case sent to another area (its packet built inline), and one received from another area.
    gone = refer(users["referrer"], panel, "Gonina", day)
    cases.screen(manager, gone, ScreeningDecision.ACCEPT, "", True, None)
    transfer = transfers.transfer_out(manager, gone, "Invented: Northtown MARAC", "Invented: coordinator", day, None)
    arrived = transfers.receive_transfer(manager, panel, "Invented: Southvale MARAC", "", "SV-1", day)
    cases.save_answers(manager, arrived, marac_answers("Arrivina", "Fakeperm", dt.date(1991, 1, 2), "A flat", day),
                       submit=True)
    db.session.commit()
    return dict(panel=panel, users=users, draft=draft, awaiting=awaiting, heard=heard, later=later, held=held,
                item=item, action=action, build=build, unpublished=unpublished, transfer=transfer, arrived=arrived,
                **asb_rows)


def _asb_rows(users, agencies):
    """An ASB taskforce beside the MARAC panel, with the same agencies and the same people in the same
    roles: an accepted case with a step of its ladder by the IDVA (taken by the representative), its
    Case Review settings, and an application reviewed with a recommendation."""
    from tests.helpers import asb_case

    police, idva, housing = agencies
    panel = PanelFactory(kind=PanelKind.ASB)
    for agency in agencies:
        PanelMemberFactory(panel=panel, agency=agency)
    for name, role in (("representative", Role.REPRESENTATIVE), ("representative of a non-member", Role.REPRESENTATIVE),
                       ("chair", Role.CHAIR), ("manager", Role.MANAGER), ("steering", Role.STEERING),
                       ("referrer with a role", Role.REPRESENTATIVE)):
        PanelRoleFactory(panel=panel, user=users[name], role=role)
    manager, day = users["manager"], today()
    case = asb_case(users["referrer"], panel, manager)
    step = asb.record_intervention(users["representative"], case, {
        "respondent_number": 1, "rung": Rung.WARNING_LETTER, "taken_on": day, "agency_id": idva.id,
        "outcome": InterventionOutcome.IN_FORCE, "review_on": None, "ends_on": None, "note": "Invented note"})
    asb.update_settings(manager, panel, {"threshold": 3, "hate_threshold": 1, "window_months": 6,
                                         "acknowledge_days": 5, "decision_days": 10, "review_days": 20})
    application = asb.apply(users["representative"], panel, {
        "received_on": day, "complainant_name": "Compa Fakeneighbour", "complainant_dob": dt.date(1950, 3, 4),
        "complainant_contact": None, "applicant": None, "summary": None, "is_hate": True, "other_complaints": 0})
    asb.acknowledge(manager, application, day, None)
    asb.decide(manager, application, Decision.MET, "Invented reason", day, None)
    asb.record_review(manager, application, day, None, None)
    asb.add_recommendation(manager, application, housing.id, "Invented recommendation", None)
    return dict(asb_panel=panel, asb_case=case, asb_step=step, asb_application=application)


@pytest.fixture
def roles_world(app):
    return build_roles_world()


def test_every_model_says_what_its_parent_is(app):
    models = {mapper.class_ for mapper in db.Model.registry.mappers}
    undeclared = sorted(cls.__name__ for cls in models - set(PARENTS) - set(ROOTS))
    assert not undeclared, f"say what the parent of these models is (PARENTS or ROOTS): {undeclared}"
    assert not set(PARENTS) & set(ROOTS)
    for cls, parents in PARENTS.items():
        assert "can_view" in permissions(cls), f"{cls.__name__} has no can_view"
        for name in parents:
            assert hasattr(cls, name), f"{cls.__name__}.{name} is not a relationship"


def test_no_child_is_more_visible_or_updatable_than_its_parent(roles_world):
    users = roles_world["users"]
    failures, seen = [], {}
    for cls, parent_names in PARENTS.items():
        rows = db.session.execute(select(cls)).unique().scalars().all()
        assert rows, f"the world has no {cls.__name__}: add one to build_roles_world"
        for obj in rows:
            parents = [getattr(obj, name) for name in parent_names]
            for role, user in users.items():
                for permission in permissions(cls):
                    if not getattr(obj, permission)(user):
                        continue
                    seen.setdefault(cls.__name__, set()).add(role)
                    if permission != "can_view" and not obj.can_view(user):
                        failures.append(f"{cls.__name__}.{permission} but not can_view for {role}")
                    for name, parent in zip(parent_names, parents):
                        if not parent.can_view(user):
                            failures.append(f"{cls.__name__}.{permission} for {role}, but not {name}.can_view")
    assert not failures, "\n".join(sorted(set(failures)))
    # Not true for want of anyone: every kind of object is seen by someone, and hidden from someone.
    assert set(seen) == {cls.__name__ for cls in PARENTS}, set(cls.__name__ for cls in PARENTS) - set(seen)
    assert all(len(roles) < len(users) for roles in seen.values()), seen


def test_outside_the_panel_one_may_only_know_of_it_and_refer(roles_world):
    """The root every permission starts from: a practitioner of an agency not on the panel, without a
    role on it, may know of an active panel and refer to it (any practitioner refers), and do nothing
    else with it; once the panel is inactive, not even that. Everyone in the world above may know of it."""
    panel, users = roles_world["panel"], roles_world["users"]
    outsider = UserFactory(agency=AgencyFactory(kind=AgencyKind.OTHER))
    allowed = {p for p in permissions(Panel) if getattr(panel, p)(outsider)}
    assert allowed == {"can_view", "can_refer"}
    assert all(panel.can_view(user) for user in users.values())
    panel.is_active = False
    assert not any(getattr(panel, permission)(outsider) for permission in permissions(Panel))


def test_what_each_role_may_do_with_the_action(roles_world):
    """The rule the probe broke: a steering member of the owner agency neither sees nor updates the
    action, as the case is hidden from them; the owner's representative and the manager update it."""
    action, users = roles_world["action"], roles_world["users"]
    may_update = {role for role, user in users.items() if action.can_update(user)}
    may_view = {role for role, user in users.items() if action.can_view(user)}
    assert may_update == {"representative", "manager"}
    assert may_view == {"representative", "manager", "chair", "referrer with a role"}
    assert not action.case.can_view(users["steering"]) and not action.can_view(users["steering"])


# --- the pages -------------------------------------------------------------------------------

def test_steering_member_of_the_owner_agency_cannot_open_or_update_the_action(app, client, roles_world):
    action, steering = roles_world["action"], roles_world["users"]["steering"]
    sign_in(client, steering)
    assert client.get(f"/cases/{action.case_id}").status_code == 403
    page = client.get(f"/actions/{action.id}")
    assert page.status_code == 403 and "safety plan" not in page.get_data(as_text=True)
    posted = post_form(client, f"/actions/{action.id}", {"update-kind": UpdateKind.COMPLETED, "update-note": "x",
                                                        "update-version": str(action.version)}, token_from="/account")
    assert posted.status_code == 403
    chased = post_form(client, f"/actions/{action.id}/chase", {"chase-note": "x", "chase-version": str(action.version)},
                       token_from="/account")
    assert chased.status_code == 403
    assert db.session.get(Action, action.id).status == ActionStatus.OPEN and len(db.session.get(Action, action.id).updates) == 2
    assert "safety plan" not in client.get("/actions").get_data(as_text=True)


def test_a_child_page_opens_only_for_those_who_may_open_its_parents_page(app, roles_world):
    w = roles_world
    case, meeting, item, submitted = w["heard"], w["held"], w["item"], w["awaiting"]
    pages = {  # a page of a child object: the pages of its parents
        f"/actions/{w['action'].id}": [f"/cases/{case.id}"],
        f"/agenda-items/{item.id}/research": [f"/meetings/{meeting.id}", f"/cases/{case.id}"],
        f"/agenda-items/{item.id}/hearing": [f"/meetings/{meeting.id}", f"/cases/{case.id}"],
        f"/agenda-items/{item.id}/amend": [f"/meetings/{meeting.id}", f"/cases/{case.id}"],
        f"/meetings/{meeting.id}/research": [f"/meetings/{meeting.id}"],
        f"/meetings/{meeting.id}/register": [f"/meetings/{meeting.id}"],
        f"/meetings/{meeting.id}/packs/agenda": [f"/meetings/{meeting.id}"],
        f"/meetings/{meeting.id}/packs/circulation": [f"/meetings/{meeting.id}"],
        f"/pack-builds/{w['build'].id}": [f"/meetings/{meeting.id}"],
        f"/meetings/{meeting.id}": [f"/panels/{w['panel'].id}"],
        f"/cases/{case.id}/sharing": [f"/cases/{case.id}"],
        f"/cases/{submitted.id}/edit": [f"/cases/{submitted.id}"],
        f"/cases/{submitted.id}/screen": [f"/cases/{submitted.id}"],
        f"/interventions/{w['asb_step'].id}/edit": [f"/cases/{w['asb_case'].id}"],
        f"/cases/{w['asb_case'].id}/interventions/new": [f"/cases/{w['asb_case'].id}"],
        f"/case-reviews/{w['asb_application'].id}": [f"/panels/{w['asb_panel'].id}/case-reviews"],
        f"/cases/{w['later'].id}/transfer": [f"/cases/{w['later'].id}"],
        f"/transfers/{w['transfer'].id}": [f"/cases/{w['transfer'].case_id}"],
        f"/transfers/{w['transfer'].id}/packet": [f"/cases/{w['transfer'].case_id}"],
    }
    failures, opened = [], set()
    for role, user in w["users"].items():
        client = app.test_client()
        sign_in(client, user)
        status = {}
        for url in {u for child, parents in pages.items() for u in [child, *parents]}:
            status[url] = client.get(url).status_code
        for child, parents in pages.items():
            if status[child] == 200:
                opened.add(child)
                failures += [f"{role}: {child} opens, {parent} is {status[parent]}"
                             for parent in parents if status[parent] != 200]
    assert not failures, "\n".join(failures)
    assert opened == set(pages), set(pages) - opened


def test_research_never_reaches_a_pack(roles_world):
    render = db.session.execute(select(PackRender)).scalars().first()
    text = pdf_text(render.pdf)
    assert RESEARCH_TEXT not in text and UNSHARED_TEXT not in text


def test_who_reads_research_and_what_it_withholds(roles_world):
    """Unshared research is its agency's alone, the manager's neither; shared, everyone who sees the
    listed case reads it; what it withholds, and why, only its agency and the manager."""
    users, item = roles_world["users"], roles_world["item"]
    unshared = next(r for r in item.returns if not r.is_shared)
    shared = next(r for r in item.returns if r.is_shared)
    readers = {role for role, user in users.items() if unshared.can_view(user)}
    assert readers == {"representative"}
    assert {role for role, user in users.items() if shared.can_view(user)} == {
        role for role, user in users.items() if item.can_view(user)} == {
        "representative", "chair", "manager", "referrer with a role"}
    assert {role for role, user in users.items() if shared.can_view_withheld(user)} == {"chair", "manager"}
    # Who may change it (the service refuses a change once the meeting is held, whoever asks).
    assert {role for role, user in users.items() if unshared.can_update(user)} == {"representative"}
    assert meetings.visible_returns(item, users["manager"]) == [shared]
