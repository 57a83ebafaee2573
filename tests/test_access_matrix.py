"""Every route, for every kind of user: deny by default, and a route missing here fails the test."""
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import inspect

from tests.helpers import asb_world_of, csrf_from, sign_in

KINDS = ("anonymous", "admin", "manager", "chair", "representative", "steering", "nonmember")
SIGN_IN = 302  # anonymous users are sent to the sign-in page


def everyone(status_for_signed_in, anonymous=SIGN_IN):
    return {kind: (anonymous if kind == "anonymous" else status_for_signed_in) for kind in KINDS}


def admin_only():
    return {kind: {"anonymous": SIGN_IN, "admin": 200}.get(kind, 403) for kind in KINDS}


CASE_READERS = {"anonymous": SIGN_IN, "admin": 403, "manager": 200, "chair": 200, "representative": 200,
                "steering": 403, "nonmember": 403}
RUNNERS = {kind: {"anonymous": SIGN_IN, "manager": 200, "chair": 200}.get(kind, 403) for kind in KINDS}
MANAGER_ONLY = {kind: {"anonymous": SIGN_IN, "manager": 200}.get(kind, 403) for kind in KINDS}
RECORDERS = {kind: {"anonymous": SIGN_IN, "manager": 200, "representative": 200}.get(kind, 403) for kind in KINDS}

# A POSTed step redirects (302) whether it is taken or refused.
MANAGER_STEP = {kind: {"anonymous": SIGN_IN, "manager": 302}.get(kind, 403) for kind in KINDS}
RESEARCHER_STEP = {kind: {"anonymous": SIGN_IN, "chair": 302, "representative": 302}.get(kind, 403) for kind in KINDS}
RUNNER_STEP = {kind: {"anonymous": SIGN_IN, "manager": 302, "chair": 302}.get(kind, 403) for kind in KINDS}


def attendee_of(world):
    """Someone on the register of the world's meeting (made on first use)."""
    from marac.extensions import db
    from marac.meetings.models import Attendee

    if not hasattr(world, "attendee"):
        world.attendee = Attendee(meeting_id=world.meeting.id, name="Test Attendee")
        db.session.add(world.attendee)
        db.session.commit()
    # Its id from the identity map's key, which survives the sessions that end between requests.
    return SimpleNamespace(id=inspect(world.attendee).identity[0])


def agenda_build_of(world):
    """The id of the world's agenda packs' build, built (inline) on first use by the manager."""
    from marac.extensions import db
    from marac.packs.models import PackKind
    from marac.packs.services import build_packs

    if not hasattr(world, "agenda_build"):
        world.agenda_build = build_packs(world.users["manager"], world.meeting, PackKind.AGENDA).id
        db.session.commit()
    return world.agenda_build


def transfer_of(world):
    """The id of a transfer out by the world's manager of a new accepted case (its packet built inline),
    made on first use."""
    from marac.cases.models import CaseStatus
    from marac.core.timeutil import today
    from marac.extensions import db
    from marac.transfers.services import transfer_out
    from tests.factories import CaseFactory

    if not hasattr(world, "transfer"):
        case = CaseFactory(panel=world.panel, referrer=world.users["representative"], status=CaseStatus.ACCEPTED)
        world.transfer = transfer_out(world.users["manager"], case, "Invented MARAC", "Invented coordinator",
                                      today(), None).id
        db.session.commit()
    return world.transfer


def approval_of(world):
    """A request by the world's admin, waiting for another administrator's approval (made on first use)."""
    from marac.extensions import db
    from marac.users.models import ApprovalKind
    from marac.users.services import request_approval

    if not hasattr(world, "approval"):
        world.approval = request_approval(world.users["admin"], ApprovalKind.MFA_RESET, world.users["manager"]).id
        db.session.commit()
    return world.approval


def subject_request_of(world):
    """A subject access request recorded by the world's manager, the accepted case confirmed as the
    subject's and a response built (inline) over it (made on first use)."""
    import datetime as dt

    from marac.cases.models import PartyRole
    from marac.core.timeutil import today
    from marac.extensions import db
    from marac.subjects import services as subjects
    from marac.subjects.models import SubjectCase

    if not hasattr(world, "subject_request"):
        manager = world.users["manager"]
        request = subjects.record_request(manager, today(), "subject", True, "Testina Fakeperson",
                                          dt.date(1990, 1, 1), None)
        request.cases.append(SubjectCase(case_id=world.accepted.id, role=PartyRole.VICTIM, position=0,
                                         confirmed_by_id=manager.id))
        db.session.flush()
        world.subject_response = subjects.build_response(manager, request).id
        world.subject_request = request.id
        db.session.commit()
    return world.subject_request


def subject_response_of(world):
    """The response built for the world's subject access request."""
    subject_request_of(world)
    return world.subject_response


def final_meeting_of(world):
    """A held meeting of the world's panel with final minutes, where the police (the chair's agency) and the
    IDVA service (the representative's) were present and the world's accepted case was heard (made on first
    use)."""
    import datetime as dt

    from marac.cases.models import CaseStatus
    from marac.core.timeutil import utcnow
    from marac.extensions import db
    from marac.meetings.models import Attendance, AttendanceStatus, ItemStatus, MeetingStatus
    from tests.factories import CaseFactory, MeetingFactory

    if not hasattr(world, "final_meeting"):
        panel, manager, representative = (db.session.merge(o) for o in (world.panel, world.users["manager"],
                                                                        world.users["representative"]))
        heard = CaseFactory(panel=panel, referrer=representative, status=CaseStatus.ACCEPTED)
        meeting = MeetingFactory(panel=panel, manager=manager, cases=[heard], published=True,
                                 meets_on=dt.date.today() + dt.timedelta(days=40))
        # held a fortnight ago (set directly: the services move no meeting into the past)
        meeting.meets_on = dt.date.today() - dt.timedelta(days=14)
        meeting.status, meeting.minutes_finalised_at = MeetingStatus.HELD, utcnow()
        meeting.items[0].status = ItemStatus.HEARD
        for agency in (world.agencies.police, world.agencies.idva):
            db.session.add(Attendance(meeting_id=meeting.id, agency_id=agency.id, status=AttendanceStatus.PRESENT))
        db.session.commit()
        world.final_meeting = meeting.id
    return world.final_meeting


def person_of(world):
    """The id of a fake victim on the world's accepted case (made on first use), for a person's
    disclosure report."""
    from marac.cases.models import CaseParty, PartyRole
    from marac.extensions import db
    from marac.people.services import build_person

    if not hasattr(world, "person"):
        party = CaseParty(case_id=world.accepted.id, role=PartyRole.VICTIM, person=build_person(
            {"first_names": "Testina", "last_name": "Fakeperson", "date_of_birth": "1990-01-01"}))
        db.session.add(party)
        db.session.commit()
        world.person = party.person_id
    return world.person


def closed_case_of(world):
    """An accepted case of the world's panel, closed by its manager (made on first use)."""
    from marac.cases.models import CaseStatus, ClosureOutcome
    from marac.cases.services import close_case
    from marac.extensions import db
    from tests.factories import CaseFactory

    if not hasattr(world, "closed_case"):
        case = CaseFactory(panel=world.panel, referrer=world.users["representative"], status=CaseStatus.ACCEPTED)
        close_case(world.users["manager"], case, ClosureOutcome.RISK_REDUCED, "")
        db.session.commit()
        world.closed_case = case.id
    return world.closed_case


def hold_of(world):
    """A legal hold in force on the world's accepted case, placed by its manager (made on first use)."""
    from marac.cases.models import Case
    from marac.cases.services import place_hold
    from marac.extensions import db
    from marac.users.models import User

    if not hasattr(world, "hold"):
        manager = db.session.get(User, world.users["manager"].id)
        world.hold = place_hold(manager, db.session.get(Case, world.accepted.id), "Invented: proceedings").id
        db.session.commit()
    return world.hold
def mace_of(world):
    """A MACE panel of the world's agencies with the world's users in their roles, and an accepted
    child's case naming a person and a location of concern (made on first use): (panel, case, the
    person's register entry id, the location's)."""
    from marac.extensions import db
    from marac.cases.models import PartyRole
    from marac.panels.models import PanelKind, Role
    from tests.helpers import another_panel
    from tests.mace_cases import mace_case

    if not hasattr(world, "mace"):
        panel = another_panel(world, PanelKind.MACE, roles=tuple(Role))
        case = mace_case(world.users["representative"], world.users["manager"], panel)
        person = next(p.person for p in case.parties if p.role == PartyRole.PERSON_OF_CONCERN)
        db.session.commit()
        world.mace = (panel.id, case.id, person.names[0].id, case.locations[0].location_id)
    return world.mace


# Packs: the manager and the chair get the full pack, a representative their member agency's.
PACK_RECIPIENTS = {kind: {"anonymous": SIGN_IN, "manager": 200, "chair": 200, "representative": 200}.get(kind, 403)
                   for kind in KINDS}

# The steering group's statistics: its members, the manager and the chair (aggregates only).
STATS_READERS = {kind: {"anonymous": SIGN_IN, "manager": 200, "chair": 200, "steering": 200}.get(kind, 403)
                 for kind in KINDS}

PANEL_ROLE_HOLDERS = {"anonymous": SIGN_IN, "admin": 200, "manager": 200, "chair": 200, "representative": 200,
                      "steering": 200, "nonmember": 403}

# endpoint -> (method, url builder, expected status per kind of user)
MATRIX = {
    "static": ("GET", lambda w: "/static/css/app.css", everyone(200, anonymous=200)),
    # Health checks for load balancers: public, without a session (tests/test_health.py).
    "health.live": ("GET", lambda w: "/healthz", everyone(200, anonymous=200)),
    "health.ready": ("GET", lambda w: "/readyz", everyone(200, anonymous=200)),
    "home.index": ("GET", lambda w: "/", everyone(200)),
    "auth.sign_in": ("GET", lambda w: "/sign-in", everyone(302, anonymous=200)),
    "auth.code": ("GET", lambda w: "/sign-in/code", everyone(302)),
    "auth.enrol": ("GET", lambda w: "/sign-in/set-up-authenticator", everyone(302)),
    "auth.account": ("GET", lambda w: "/account", everyone(200)),
    "auth.account_enrol": ("GET", lambda w: "/account/authenticator", everyone(302)),  # all have MFA here
    "auth.change_password": ("GET", lambda w: "/account/password", everyone(200)),
    "auth.end_session": ("POST", lambda w: f"/account/sessions/{uuid.uuid4()}/end", everyone(404)),
    "notifications.preferences": ("GET", lambda w: "/account/emails", everyone(200)),
    "agencies.index": ("GET", lambda w: "/admin/agencies/", admin_only()),
    "agencies.new": ("GET", lambda w: "/admin/agencies/new", admin_only()),
    "agencies.edit": ("GET", lambda w: f"/admin/agencies/{w.agencies.police.id}/edit", admin_only()),
    "users.index": ("GET", lambda w: "/admin/users/", admin_only()),
    "users.new": ("GET", lambda w: "/admin/users/new", admin_only()),
    "users.detail": ("GET", lambda w: f"/admin/users/{w.users['chair'].id}", admin_only()),
    "users.edit": ("GET", lambda w: f"/admin/users/{w.users['chair'].id}/edit", admin_only()),
    "users.deactivate": ("GET", lambda w: f"/admin/users/{w.users['chair'].id}/deactivate", admin_only()),
    "users.reactivate": ("GET", lambda w: f"/admin/users/{w.users['chair'].id}/reactivate", admin_only()),
    "users.reset_password": ("GET", lambda w: f"/admin/users/{w.users['chair'].id}/reset-password", admin_only()),
    "users.reset_mfa": ("GET", lambda w: f"/admin/users/{w.users['chair'].id}/reset-mfa", admin_only()),
    "panels.overview": ("GET", lambda w: f"/panels/{w.panel.id}", PANEL_ROLE_HOLDERS),
    "panels.index": ("GET", lambda w: "/admin/panels/", admin_only()),
    "panels.new": ("GET", lambda w: "/admin/panels/new", admin_only()),
    "panels.edit": ("GET", lambda w: f"/admin/panels/{w.panel.id}/edit", admin_only()),
    "panels.add_member": ("GET", lambda w: f"/admin/panels/{w.panel.id}/members/new", admin_only()),
    "panels.remove_member": ("GET", lambda w: f"/admin/panels/{w.panel.id}/members/{w.members[0].id}/remove",
                             admin_only()),
    "panels.add_role": ("GET", lambda w: f"/admin/panels/{w.panel.id}/roles/new", admin_only()),
    "panels.remove_role": ("GET", lambda w: f"/admin/panels/{w.panel.id}/roles/{w.roles['chair'].id}/remove",
                           admin_only()),
    "panels.approvals": ("GET", lambda w: "/admin/approvals/", admin_only()),
    "panels.approve": ("GET", lambda w: f"/admin/approvals/{approval_of(w)}/approve", admin_only()),
    "panels.reject": ("GET", lambda w: f"/admin/approvals/{approval_of(w)}/reject", admin_only()),
    # Any practitioner of the area may refer, whether or not their agency sits on the panel (the admin's
    # and the steering member's agency, the council, does not; nor does the non-member's).
    "cases.refer": ("GET", lambda w: f"/panels/{w.panel.id}/referrals/new", everyone(200)),
    # The representative made the world's referral, still awaiting screening.
    "cases.edit": ("GET", lambda w: f"/cases/{w.case.id}/edit",
                   {"anonymous": SIGN_IN, "admin": 403, "manager": 200, "chair": 403, "representative": 200,
                    "steering": 403, "nonmember": 403}),
    "cases.mine": ("GET", lambda w: "/referrals/mine", everyone(200)),
    "cases.index": ("GET", lambda w: f"/panels/{w.panel.id}/cases", CASE_READERS),
    "cases.search": ("POST", lambda w: f"/panels/{w.panel.id}/cases/search", CASE_READERS),
    "cases.detail": ("GET", lambda w: f"/cases/{w.case.id}", CASE_READERS),
    "cases.screen": ("GET", lambda w: f"/cases/{w.case.id}/screen", MANAGER_ONLY),
    # The listed case is accepted: its manager may close it (the step itself waits until it is heard).
    "cases.close": ("GET", lambda w: f"/cases/{w.item.case_id}/close", MANAGER_ONLY),
    "cases.reopen": ("GET", lambda w: f"/cases/{closed_case_of(w)}/reopen", MANAGER_ONLY),
    "cases.place_hold": ("GET", lambda w: f"/cases/{w.accepted.id}/hold", MANAGER_ONLY),
    "cases.lift_hold": ("GET", lambda w: f"/holds/{hold_of(w)}/lift", MANAGER_ONLY),
    "cases.holds": ("GET", lambda w: f"/panels/{w.panel.id}/holds", MANAGER_ONLY),
    "retention.index": ("GET", lambda w: "/admin/retention", admin_only()),
    "retention.schedule": ("GET", lambda w: f"/admin/retention/panels/{w.panel.id}", admin_only()),
    # MACE: case readers see the reviews due and the registers; the manager and the chair record reviews and
    # link or unlink cases; the manager sets the review interval.
    "mace.reviews": ("GET", lambda w: f"/panels/{mace_of(w)[0]}/reviews", CASE_READERS),
    "mace.interval": ("GET", lambda w: f"/panels/{mace_of(w)[0]}/reviews/interval", MANAGER_ONLY),
    "mace.record_review": ("GET", lambda w: f"/cases/{mace_of(w)[1]}/reviews/new", RUNNERS),
    "mace.register": ("GET", lambda w: f"/panels/{mace_of(w)[0]}/persons", CASE_READERS),
    "mace.entry": ("GET", lambda w: f"/panels/{mace_of(w)[0]}/locations/{mace_of(w)[3]}", CASE_READERS),
    "mace.unlink": ("GET", lambda w: f"/panels/{mace_of(w)[0]}/persons/{mace_of(w)[2]}/cases/{mace_of(w)[1]}/unlink",
                    RUNNERS),
    "sharing.rules": ("GET", lambda w: f"/panels/{w.panel.id}/sharing-rules", MANAGER_ONLY),
    "cases.sharing_log": ("GET", lambda w: f"/cases/{w.case.id}/sharing", MANAGER_ONLY),
    # The disclosure report: the panel's manager (and a data protection officer, tests/test_disclosure_report.py).
    "disclosures.case_report": ("GET", lambda w: f"/cases/{w.accepted.id}/disclosures", MANAGER_ONLY),
    "disclosures.case_export": ("GET", lambda w: f"/cases/{w.accepted.id}/disclosures.csv", MANAGER_ONLY),
    "disclosures.index": ("GET", lambda w: "/disclosures", MANAGER_ONLY),
    "disclosures.find_person": ("POST", lambda w: "/disclosures/people", MANAGER_ONLY),
    "disclosures.person_report": ("GET", lambda w: f"/disclosures/people/report?person={person_of(w)}",
                                  MANAGER_ONLY),
    "disclosures.person_export": ("GET", lambda w: f"/disclosures/people/report.csv?person={person_of(w)}",
                                  MANAGER_ONLY),
    "meetings.index": ("GET", lambda w: f"/panels/{w.panel.id}/meetings", CASE_READERS),
    "meetings.schedule": ("GET", lambda w: f"/panels/{w.panel.id}/meetings/schedule", MANAGER_ONLY),
    "meetings.new": ("GET", lambda w: f"/panels/{w.panel.id}/meetings/new", MANAGER_ONLY),
    # The world's meeting has a published agenda, so representatives of member agencies see it.
    "meetings.detail": ("GET", lambda w: f"/meetings/{w.meeting.id}", CASE_READERS),
    "meetings.edit": ("GET", lambda w: f"/meetings/{w.meeting.id}/edit", MANAGER_ONLY),
    "meetings.cancel": ("GET", lambda w: f"/meetings/{w.meeting.id}/cancel", MANAGER_ONLY),
    "meetings.agenda": ("GET", lambda w: f"/meetings/{w.meeting.id}/agenda", MANAGER_ONLY),
    "meetings.research_grid": ("GET", lambda w: f"/meetings/{w.meeting.id}/research", MANAGER_ONLY),
    # Research is recorded by people of member agencies (the chair is police, a member).
    "meetings.research": ("GET", lambda w: f"/agenda-items/{w.item.id}/research", CASE_READERS),
    "meetings.register": ("GET", lambda w: f"/meetings/{w.meeting.id}/register", RUNNERS),
    "meetings.hearing": ("GET", lambda w: f"/agenda-items/{w.item.id}/hearing", RUNNERS),
    "meetings.finalise": ("GET", lambda w: f"/meetings/{w.meeting.id}/finalise", MANAGER_ONLY),
    "meetings.amend": ("GET", lambda w: f"/agenda-items/{w.item.id}/amend", MANAGER_ONLY),
    "actions.mine": ("GET", lambda w: "/actions", everyone(200)),
    "actions.panel": ("GET", lambda w: f"/panels/{w.panel.id}/actions", MANAGER_ONLY),
    "actions.chase_several": ("POST", lambda w: f"/panels/{w.panel.id}/actions/chase", MANAGER_ONLY),
    # The world's action is owned by the IDVA service, the representative's agency.
    "actions.detail": ("GET", lambda w: f"/actions/{w.action.id}",
                       {"anonymous": SIGN_IN, "admin": 403, "manager": 200, "chair": 403, "representative": 200,
                        "steering": 403, "nonmember": 403}),
    # The steps of the meeting pages, POSTed with an empty form: a refused step (or a form with errors)
    # still shows who may take it. In this order, so that each meets the meeting in a known state.
    "meetings.list_cases": ("POST", lambda w: f"/meetings/{w.meeting.id}/cases/list", MANAGER_STEP),
    "meetings.publish": ("POST", lambda w: f"/meetings/{w.meeting.id}/publish", MANAGER_STEP),
    "meetings.move_up": ("POST", lambda w: f"/agenda-items/{w.item.id}/up", MANAGER_STEP),
    "meetings.move_down": ("POST", lambda w: f"/agenda-items/{w.item.id}/down", MANAGER_STEP),
    "meetings.carry_over": ("POST", lambda w: f"/meetings/{w.meeting.id}/carry-over", MANAGER_STEP),
    "meetings.share_research": ("POST", lambda w: f"/agenda-items/{w.item.id}/research/share",
                                RESEARCHER_STEP),
    "meetings.open_meeting": ("POST", lambda w: f"/meetings/{w.meeting.id}/open", RUNNER_STEP),
    "meetings.add_attendee": ("POST", lambda w: f"/meetings/{w.meeting.id}/attendees", RUNNERS),
    "meetings.record_attendance": ("POST", lambda w: f"/meetings/{w.meeting.id}/attendance", RUNNER_STEP),
    "meetings.agree_confidentiality": ("POST", lambda w: f"/attendees/{attendee_of(w).id}/agree", RUNNER_STEP),
    # The world's meeting is a fortnight away and cannot be opened before its day: the hearing's step
    # is refused, back to the hearing page.
    "meetings.add_action": ("POST", lambda w: f"/agenda-items/{w.item.id}/actions", RUNNER_STEP),
    "meetings.close": ("GET", lambda w: f"/meetings/{w.meeting.id}/close", RUNNERS),
    "meetings.agree_all": ("POST", lambda w: f"/meetings/{w.meeting.id}/agree-all", RUNNER_STEP),
    # Nobody ticked: the register comes back with the error.
    "meetings.add_expected": ("POST", lambda w: f"/meetings/{w.meeting.id}/expected", RUNNERS),
    "meetings.correct_action": ("GET", lambda w: f"/hearing-actions/{w.action.id}/correct", RUNNERS),
    "meetings.remove_action": ("GET", lambda w: f"/hearing-actions/{w.action.id}/remove", RUNNERS),
    "meetings.correct_attendee": ("GET", lambda w: f"/attendees/{attendee_of(w).id}/correct", RUNNERS),
    "meetings.remove_attendee": ("GET", lambda w: f"/attendees/{attendee_of(w).id}/remove", RUNNERS),
    "meetings.unlist": ("POST", lambda w: f"/agenda-items/{w.item.id}/remove", MANAGER_STEP),
    "actions.chase": ("POST", lambda w: f"/actions/{w.action.id}/chase", MANAGER_ONLY),
    "packs.build_status": ("GET", lambda w: f"/pack-builds/{agenda_build_of(w)}", MANAGER_ONLY),
    "packs.download": ("GET", lambda w: agenda_build_of(w) and f"/meetings/{w.meeting.id}/packs/agenda", PACK_RECIPIENTS),
    "packs.circulation": ("GET", lambda w: f"/meetings/{w.meeting.id}/packs/circulation", MANAGER_ONLY),
    # The final minutes: the world's meeting is held and final by then, the IDVA (representative) and the
    # police (chair's agency) present; the steering member and others see nothing.
    "packs.minutes": ("GET", lambda w: f"/meetings/{final_meeting_of(w)}/minutes", PACK_RECIPIENTS),
    "packs.build": ("POST", lambda w: f"/meetings/{w.meeting.id}/packs/build", MANAGER_STEP),
    # Transfers are the MARAC panel manager's; where a case went is theirs alone.
    "transfers.transfer_out": ("GET", lambda w: f"/cases/{w.accepted.id}/transfer", MANAGER_ONLY),
    "transfers.receive": ("GET", lambda w: f"/panels/{w.panel.id}/transfers/new", MANAGER_ONLY),
    "transfers.detail": ("GET", lambda w: f"/transfers/{transfer_of(w)}", MANAGER_ONLY),
    "transfers.download": ("GET", lambda w: f"/transfers/{transfer_of(w)}/packet", MANAGER_ONLY),
    "transfers.rebuild": ("POST", lambda w: f"/transfers/{transfer_of(w)}/packet/build", MANAGER_STEP),
    "stats.dashboard": ("GET", lambda w: f"/panels/{w.panel.id}/statistics", STATS_READERS),
    "stats.export_table": ("GET", lambda w: f"/panels/{w.panel.id}/statistics/tables/summary.csv", STATS_READERS),
    "stats.export_workbook": ("GET", lambda w: f"/panels/{w.panel.id}/statistics/all-tables.xlsx", STATS_READERS),
    "stats.export_return": ("GET", lambda w: f"/panels/{w.panel.id}/statistics/safelives-return.csv", STATS_READERS),
    "stats.report": ("GET", lambda w: f"/panels/{w.panel.id}/statistics/report.pdf", STATS_READERS),
    "stats.settings": ("GET", lambda w: f"/panels/{w.panel.id}/statistics/settings", MANAGER_ONLY),
    # The ASB taskforce's work, on the world's ASB panel (tests.helpers.asb_world_of): the ladder is
    # recorded by the manager and representatives of member agencies (the chair, police, records none);
    # the step below is the IDVA's, the representative's agency.
    "asb.new_intervention": ("GET", lambda w: f"/cases/{asb_world_of(w).case_id}/interventions/new", RECORDERS),
    "asb.edit_intervention": ("GET", lambda w: f"/interventions/{asb_world_of(w).step_id}/edit", RECORDERS),
    "asb.reviews": ("GET", lambda w: f"/panels/{asb_world_of(w).panel_id}/case-reviews", CASE_READERS),
    "asb.apply": ("GET", lambda w: f"/panels/{asb_world_of(w).panel_id}/case-reviews/new", RECORDERS),
    "asb.review": ("GET", lambda w: f"/case-reviews/{asb_world_of(w).application_id}", CASE_READERS),
    "asb.settings": ("GET", lambda w: f"/panels/{asb_world_of(w).panel_id}/case-reviews/settings", MANAGER_ONLY),
    # The manager's steps, POSTed empty: the page again with the form's errors.
    "asb.acknowledge": ("POST", lambda w: f"/case-reviews/{asb_world_of(w).application_id}/acknowledge", MANAGER_ONLY),
    "asb.decide": ("POST", lambda w: f"/case-reviews/{asb_world_of(w).application_id}/decision", MANAGER_ONLY),
    "asb.record_review": ("POST", lambda w: f"/case-reviews/{asb_world_of(w).application_id}/review", MANAGER_ONLY),
    "asb.add_recommendation": ("POST", lambda w: f"/case-reviews/{asb_world_of(w).application_id}/recommendations",
                               MANAGER_ONLY),
    "asb.appeal": ("POST", lambda w: f"/case-reviews/{asb_world_of(w).application_id}/appeal", MANAGER_ONLY),
    "stats.case_review_figures": ("GET", lambda w: f"/panels/{asb_world_of(w).panel_id}/statistics/case-reviews.csv",
                                  STATS_READERS),
    # Subject access: the data protection officer (no such user in this world) and panel managers.
    "subjects.index": ("GET", lambda w: "/subject-requests/", MANAGER_ONLY),
    "subjects.new": ("GET", lambda w: "/subject-requests/new", MANAGER_ONLY),
    "subjects.detail": ("GET", lambda w: f"/subject-requests/{subject_request_of(w)}", MANAGER_ONLY),
    "subjects.matches": ("GET", lambda w: f"/subject-requests/{subject_request_of(w)}/matches", MANAGER_ONLY),
    "subjects.rectify": ("GET", lambda w: f"/subject-requests/{subject_request_of(w)}/rectify", MANAGER_ONLY),
    "subjects.response": ("GET", lambda w: f"/subject-responses/{subject_response_of(w)}", MANAGER_ONLY),
    "subjects.download": ("GET", lambda w: f"/subject-responses/{subject_response_of(w)}/pdf", MANAGER_ONLY),
    "subjects.set_status": ("POST", lambda w: f"/subject-requests/{subject_request_of(w)}/status", MANAGER_ONLY),
    "subjects.extend": ("POST", lambda w: f"/subject-requests/{subject_request_of(w)}/extend", MANAGER_ONLY),
    "subjects.build": ("POST", lambda w: f"/subject-requests/{subject_request_of(w)}/responses", MANAGER_STEP),
    "auditor.index": ("GET", lambda w: "/admin/audit/", admin_only()),
    "auditor.export": ("GET", lambda w: "/admin/audit/export.csv", admin_only()),
    # Last, because it ends the session.
    "auth.sign_out": ("POST", lambda w: "/sign-out", everyone(302)),
}


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = endpoints - set(MATRIX)
    assert not missing, f"routes without an access-matrix entry: {sorted(missing)}"
    stale = set(MATRIX) - endpoints
    assert not stale, f"matrix entries for routes that no longer exist: {sorted(stale)}"


def test_every_view_declares_an_access_rule(app):
    from marac.core.permissions import rule_of

    with app.app_context():
        undeclared = [name for name, view in app.view_functions.items() if rule_of(view) is None]
    assert not undeclared, f"views without @access(...): {undeclared}"


def test_object_ids_in_urls_are_uuids(app):
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if name.endswith("_id"):
                assert type(converter).__name__ == "UUIDConverter", f"{rule.rule}: {name} is not a UUID"


@pytest.mark.parametrize("kind", KINDS)
def test_access_matrix(app, client, world, kind):
    if kind != "anonymous":
        sign_in(client, world.users[kind])
    token = csrf_from(client, "/account" if kind != "anonymous" else "/sign-in")
    failures = []
    for endpoint, (method, url_for, expected) in MATRIX.items():
        # POSTs carry a valid CSRF token, so that what is tested is the access rule.
        data = {"csrf_token": token} if method == "POST" else None
        response = client.open(url_for(world), method=method, data=data)
        if response.status_code != expected[kind]:
            failures.append(f"{endpoint} {method} {url_for(world)}: {response.status_code}, expected {expected[kind]}")
    assert not failures, "\n".join(failures)


def test_unknown_ids_are_404_for_an_admin(client, world):
    sign_in(client, world.users["admin"])
    for url in (f"/admin/users/{uuid.uuid4()}", f"/admin/agencies/{uuid.uuid4()}/edit", f"/panels/{uuid.uuid4()}",
                f"/admin/panels/{world.panel.id}/roles/{uuid.uuid4()}/remove"):
        assert client.get(url).status_code == 404, url


def test_a_view_without_a_rule_is_refused(app):
    """Deny by default: a route added without @access answers 403 even to an administrator."""
    from flask import Flask

    from config import TestConfig
    from marac import create_app

    probe = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    probe.add_url_rule("/undeclared", "undeclared", lambda: "secret")
    assert isinstance(probe, Flask)
    response = probe.test_client().get("/undeclared")
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)
