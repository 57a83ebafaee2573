"""Administrators manage agencies, users, panels, members and roles; every change is validated and audited."""
import pytest
from sqlalchemy import select

from marac.agencies.models import Agency, AgencyKind
from marac.audit.models import AuditEvent
from marac.core.timeutil import today
from marac.extensions import db
from marac.panels.models import Cadence, Panel, PanelKind, PanelMember, PanelRole, Role
from marac.users.models import ApprovalKind, ApprovalRequest, ApprovalStatus, User
from tests.factories import AgencyFactory, PanelFactory, PanelMemberFactory, UserFactory
from tests.helpers import (PASSWORD, audit_events, fresh, page_text, post_form, row_count, sign_in, signed_in, soup,
                           text_by_id)


@pytest.fixture
def admin_client(client, world):
    sign_in(client, world.users["admin"])
    return client


def test_add_agency_and_audit(admin_client, world):
    response = post_form(admin_client, "/admin/agencies/new",
                         {"name": "Probation Service North", "short_name": "Probation N", "kind": AgencyKind.PROBATION})
    assert response.status_code == 302
    agency = db.session.execute(select(Agency).where(Agency.short_name == "Probation N")).scalar_one()
    assert agency.kind == AgencyKind.PROBATION
    [event] = audit_events("agency.created")
    assert event.object_id == str(agency.id) and event.actor_user_id == world.users["admin"].id


def test_agency_validation_keeps_what_was_typed(admin_client, world):
    response = post_form(admin_client, "/admin/agencies/new",
                         {"name": world.agencies.police.name, "short_name": "", "kind": ""})
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in text
    assert "Another agency already has this name" in text
    assert "Enter a short name" in text and "Choose the kind of agency" in text
    assert f'value="{world.agencies.police.name}"' in text
    assert text.count("govuk-error-message") == 3


def test_edit_agency_records_changed_fields(admin_client, world):
    agency = world.agencies.idva
    response = post_form(admin_client, f"/admin/agencies/{agency.id}/edit",
                         {"name": "Advocacy Service", "short_name": agency.short_name, "kind": AgencyKind.IDVA,
                          "is_active": "y"})
    assert response.status_code == 302
    [event] = audit_events("agency.updated")
    assert event.detail == {"fields": ["name"]}


def test_create_user_shows_one_time_password_once_and_forces_change(app, admin_client, world, clock):
    response = post_form(admin_client, "/admin/users/new", {
        "full_name": "Test Newstarter", "email": "New.Starter@Example.org", "job_title": "IDVA",
        "agency_id": str(world.agencies.idva.id)})
    assert response.status_code == 200
    password = text_by_id(response, "one-time-password")
    user = db.session.execute(select(User).where(User.email == "new.starter@example.org")).scalar_one()
    assert user.must_change_password and password not in user.password_hash
    assert audit_events("user.created")
    # The new user signs in with it and must choose a password (MFA enrolment first: none yet).
    newcomer = app.test_client()
    first = post_form(newcomer, "/sign-in", {"email": "new.starter@example.org", "password": password})
    assert first.headers["Location"].endswith("/sign-in/set-up-authenticator")


def test_user_validation(admin_client, world):
    response = post_form(admin_client, "/admin/users/new", {
        "full_name": "", "email": "not-an-email", "agency_id": ""})
    text = response.get_data(as_text=True)
    assert "Enter the user's full name" in page_text(response)
    assert "Enter an email address in the correct format" in text
    assert 'value="not-an-email"' in text
    duplicate = post_form(admin_client, "/admin/users/new", {
        "full_name": "Someone Else", "email": world.users["chair"].email.upper(),
        "agency_id": str(world.agencies.idva.id)})
    assert "Another user already has this email address" in duplicate.get_data(as_text=True)


def test_control_characters_in_a_user_are_refused_with_a_message(admin_client, world):
    response = post_form(admin_client, "/admin/users/new", {
        "full_name": "Nul\x00Name", "email": "nul\x00@example.org", "job_title": "Tab\tbed",
        "agency_id": str(world.agencies.idva.id)})
    text = page_text(response)
    assert response.status_code == 200
    assert "Full name must not contain control characters" in text and "Job title must not contain control" in text
    assert "Enter an email address in the correct format" in text
    assert row_count(User, User.full_name.like("Nul%")) == 0


def test_deactivate_asks_for_confirmation_first(admin_client, world):
    target = world.users["chair"]
    page = admin_client.get(f"/admin/users/{target.id}/deactivate")
    assert "Deactivate this user?" in page.get_data(as_text=True)
    assert db.session.get(User, target.id).is_active  # a GET changes nothing
    post_form(admin_client, f"/admin/users/{target.id}/deactivate")
    assert not db.session.get(User, target.id).is_active
    assert audit_events("user.deactivated")
    post_form(admin_client, f"/admin/users/{target.id}/reactivate")
    assert db.session.get(User, target.id).is_active


def test_admin_cannot_deactivate_themselves(admin_client, world):
    me = world.users["admin"]
    response = post_form(admin_client, f"/admin/users/{me.id}/deactivate")
    assert "You cannot deactivate your own account" in response.get_data(as_text=True)
    assert db.session.get(User, me.id).is_active


def test_reset_password_and_mfa(app, admin_client, world):
    target = world.users["chair"]
    response = post_form(admin_client, f"/admin/users/{target.id}/reset-password")
    password = text_by_id(response, "one-time-password")
    assert db.session.get(User, target.id).must_change_password
    post_form(admin_client, f"/admin/users/{target.id}/reset-mfa")
    assert not db.session.get(User, target.id).has_mfa
    other = app.test_client()
    response = post_form(other, "/sign-in", {"email": target.email, "password": password})
    assert response.headers["Location"].endswith("/sign-in/set-up-authenticator")


def test_create_panel_with_validation(admin_client):
    bad = post_form(admin_client, "/admin/panels/new", {
        "kind": PanelKind.MARAC, "name": "North MARAC", "area": "", "cadence": Cadence.FORTNIGHTLY, "weekday": "1",
        "agenda_lead_days": "0", "capacity": "abc"})
    text = bad.get_data(as_text=True)
    assert "Enter the area the panel covers" in text and "Working days must be between 1 and 20" in text
    assert 'value="North MARAC"' in text
    assert db.session.execute(select(Panel).where(Panel.name == "North MARAC")).first() is None
    good = post_form(admin_client, "/admin/panels/new", {
        "kind": PanelKind.MARAC, "name": "North MARAC", "area": "Northborough", "cadence": Cadence.FORTNIGHTLY,
        "weekday": "1", "agenda_lead_days": "8", "capacity": "25"})
    assert good.status_code == 302
    panel = db.session.execute(select(Panel).where(Panel.name == "North MARAC")).scalar_one()
    assert (panel.weekday, panel.capacity, panel.agenda_lead_days) == (1, 25, 8)
    assert audit_events("panel.created")


def test_members_and_roles(admin_client, world):
    panel = world.panel
    housing = world.agencies.outsider
    # A representative must belong to a member agency.
    outsider = world.users["nonmember"]
    refused = post_form(admin_client, f"/admin/panels/{panel.id}/roles/new",
                        {"user_id": str(outsider.id), "role": Role.REPRESENTATIVE})
    assert "must belong to a member agency" in refused.get_data(as_text=True)
    assert post_form(admin_client, f"/admin/panels/{panel.id}/members/new",
                     {"agency_id": str(housing.id), "is_core": "y"}).status_code == 302
    assert post_form(admin_client, f"/admin/panels/{panel.id}/roles/new",
                     {"user_id": str(outsider.id), "role": Role.REPRESENTATIVE}).status_code == 302
    assert {e.action for e in db.session.execute(select(AuditEvent)).scalars()} >= {
        "panel.member_added", "panel.role_added"}
    # The agency cannot be removed while its representative holds a role.
    member = db.session.execute(select(PanelMember).where(
        PanelMember.panel_id == panel.id, PanelMember.agency_id == housing.id)).scalar_one()
    blocked = post_form(admin_client, f"/admin/panels/{panel.id}/members/{member.id}/remove")
    assert "Remove their roles first" in blocked.get_data(as_text=True)
    role = db.session.execute(select(PanelRole).where(PanelRole.user_id == outsider.id)).scalar_one()
    assert post_form(admin_client, f"/admin/panels/{panel.id}/roles/{role.id}/remove").status_code == 302
    assert post_form(admin_client, f"/admin/panels/{panel.id}/members/{member.id}/remove").status_code == 302
    assert db.session.get(PanelMember, member.id) is None


def test_home_lists_panels_with_roles_and_only_allowed_links(client, world):
    sign_in(client, world.users["chair"])
    text = client.get("/").get_data(as_text=True)
    assert world.panel.name in text and "Chair" in text
    assert "/admin/" not in text
    client2 = signed_in(client.application, UserFactory())
    assert "You do not hold a role on any panel yet" in client2.get("/").get_data(as_text=True)


def test_panel_overview_hides_management_links_from_role_holders(client, world):
    sign_in(client, world.users["manager"])
    text = client.get(f"/panels/{world.panel.id}").get_data(as_text=True)
    assert world.agencies.police.name in text
    assert "/admin/panels/" not in text


def test_audit_page_filters_and_export_is_audited(admin_client, world):
    post_form(admin_client, "/admin/agencies/new", {"name": "Audit Probe Agency", "short_name": "APA",
                                                     "kind": AgencyKind.OTHER})
    page = admin_client.get("/admin/audit/?action=agency.").get_data(as_text=True)
    assert "<code>agency.created</code>" in page and "<code>auth.sign_in</code>" not in page
    bad = admin_client.get("/admin/audit/?date_from-day=45&date_from-month=13&date_from-year=2026")
    assert "There is a problem" in bad.get_data(as_text=True) and "From must be a real date" in bad.get_data(as_text=True)
    backwards = admin_client.get("/admin/audit/?date_from-day=2&date_from-month=1&date_from-year=2026"
                                 "&date_to-day=1&date_to-month=1&date_to-year=2026").get_data(as_text=True)
    assert "The end date must be the same as or after the start date" in backwards
    export = admin_client.get("/admin/audit/export.csv?action=agency.created")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert "OFFICIAL-SENSITIVE" in export.headers["Content-Disposition"]
    rows = export.get_data(as_text=True).strip().splitlines()
    assert rows[0].startswith("seq,") and len(rows) == 2
    assert audit_events("audit.exported")


def test_demo_seed_is_idempotent(app):
    """Seeding again adds nothing, also after an administrator has added a panel with no manager (which
    made `make run` fail) and renamed a demo agency; their panel gets no demo cases or meetings."""
    from marac.actions.models import Action
    from marac.cases.models import Case
    from marac.demo.services import seed
    from marac.meetings.models import Attendee, Meeting

    first = seed()
    assert first > 0
    assert seed() == 0
    admin = db.session.execute(select(User).where(User.email == "admin@example.org")).scalar_one()
    assert admin.is_admin and not admin.must_change_password
    assert PASSWORD not in admin.password_hash
    from marac.subjects.models import SubjectRequest

    dpo = db.session.execute(select(User).where(User.email == "dpo@example.org")).scalar_one()
    assert dpo.is_dpo and not dpo.is_admin and not dpo.panel_roles
    requests = db.session.execute(select(SubjectRequest).order_by(SubjectRequest.received_on)).scalars().all()
    assert len(requests) == 2 and requests[0].is_overdue(today()) and not requests[1].is_overdue(today())
    assert requests[1].cases and not requests[0].cases

    police = db.session.execute(select(Agency).where(Agency.short_name == "Met Police")).scalar_one()
    theirs = PanelFactory(name="Harbour Road Pilot MARAC")  # no manager, no roles at all
    PanelMemberFactory(panel=theirs, agency=police)
    PanelMemberFactory(panel=theirs, agency=AgencyFactory(name="Harbour Road Outreach", short_name="HR Outreach"))
    police.short_name = "MPS"
    db.session.commit()
    models = (Agency, Panel, PanelMember, PanelRole, User, Case, Meeting, Attendee, Action)
    before = {model.__name__: row_count(model) for model in models}

    assert seed() == 0
    assert {model.__name__: row_count(model) for model in models} == before
    assert row_count(Case, Case.panel_id == theirs.id) == row_count(Meeting, Meeting.panel_id == theirs.id) == 0
    assert fresh(Agency, police.id).short_name == "MPS"


# --- acts that wait for a second administrator ----------------------------------------------------

def second_admin(world):
    """Another active administrator, of the world's council."""
    return UserFactory(agency=world.agencies.council, is_admin=True)


def pending_requests():
    return db.session.execute(select(ApprovalRequest).where(
        ApprovalRequest.status == ApprovalStatus.PENDING)).scalars().all()


def test_giving_oneself_a_panel_role_waits_for_another_administrator(app, admin_client, world):
    me, panel = world.users["admin"], world.panel
    assert admin_client.get(f"/panels/{panel.id}/cases").status_code == 403
    response = post_form(admin_client, f"/admin/panels/{panel.id}/roles/new",
                         {"user_id": str(me.id), "role": Role.MANAGER})
    assert response.status_code == 302
    assert "needs another administrator's approval" in page_text(admin_client.get(response.headers["Location"]))
    assert row_count(PanelRole, PanelRole.user_id == me.id) == 0
    assert admin_client.get(f"/panels/{panel.id}/cases").status_code == 403
    [approval] = pending_requests()
    [requested] = audit_events("approval.requested", approval.id)
    assert requested.actor_user_id == me.id and requested.detail["kind"] == ApprovalKind.PANEL_ROLE

    # The requester cannot approve it: the page says so and a POST is refused.
    page = admin_client.get(f"/admin/approvals/{approval.id}/approve")
    assert "another administrator must approve" in page_text(page) and not soup(page).select("main form button")
    refused = post_form(admin_client, f"/admin/approvals/{approval.id}/approve", token_from="/admin/approvals/")
    assert "another administrator must approve" in page_text(refused)
    assert row_count(PanelRole, PanelRole.user_id == me.id) == 0 and not audit_events("approval.approved")

    # Another administrator sees it waiting and approves it: then, and only then, the role is given.
    other = signed_in(app, second_admin(world))
    listed = other.get("/admin/approvals/")
    assert f"Give {me.full_name} (the requester) the role Panel manager on {panel.name}" in page_text(listed)
    assert post_form(other, f"/admin/approvals/{approval.id}/approve").status_code == 302
    assert row_count(PanelRole, PanelRole.user_id == me.id, PanelRole.role == Role.MANAGER) == 1
    assert admin_client.get(f"/panels/{panel.id}/cases").status_code == 200
    [approved] = audit_events("approval.approved", approval.id)
    [added] = [e for e in audit_events("panel.role_added", panel.id) if e.detail.get("approval_id")]
    assert approved.actor_user_id != me.id
    assert added.actor_user_id == me.id and added.detail["approval_id"] == str(approval.id)
    # Decided once: a second approval is refused.
    again = post_form(other, f"/admin/approvals/{approval.id}/approve", token_from="/admin/approvals/")
    assert "already been approved or rejected" in page_text(again)


def test_a_rejected_request_changes_nothing(app, admin_client, world):
    me = world.users["admin"]
    post_form(admin_client, f"/admin/panels/{world.panel.id}/roles/new", {"user_id": str(me.id), "role": Role.CHAIR})
    [approval] = pending_requests()
    other = signed_in(app, second_admin(world))
    assert "Reject this request?" in page_text(other.get(f"/admin/approvals/{approval.id}/reject"))
    assert post_form(other, f"/admin/approvals/{approval.id}/reject").status_code == 302
    assert row_count(PanelRole, PanelRole.user_id == me.id) == 0
    assert fresh(ApprovalRequest, approval.id).status == ApprovalStatus.REJECTED
    assert audit_events("approval.rejected", approval.id)
    assert "Rejected by" in page_text(other.get("/admin/approvals/"))


def test_a_request_that_can_no_longer_be_done_is_not_approved(app, admin_client, world):
    me = world.users["admin"]
    post_form(admin_client, f"/admin/panels/{world.panel.id}/roles/new", {"user_id": str(me.id), "role": Role.CHAIR})
    [approval] = pending_requests()
    other = signed_in(app, second_admin(world))
    post_form(other, f"/admin/panels/{world.panel.id}/roles/new", {"user_id": str(me.id), "role": Role.CHAIR})
    refused = post_form(other, f"/admin/approvals/{approval.id}/approve")
    assert "This can no longer be done: this user already holds that role" in page_text(refused)
    assert fresh(ApprovalRequest, approval.id).is_pending and not audit_events("approval.approved")
    assert row_count(PanelRole, PanelRole.user_id == me.id, PanelRole.role == Role.CHAIR) == 1


def test_giving_someone_else_a_role_is_immediate(admin_client, world):
    outsider = UserFactory(agency=world.agencies.police)
    assert post_form(admin_client, f"/admin/panels/{world.panel.id}/roles/new",
                     {"user_id": str(outsider.id), "role": Role.REPRESENTATIVE}).status_code == 302
    assert row_count(PanelRole, PanelRole.user_id == outsider.id) == 1 and not pending_requests()


@pytest.mark.parametrize("target", ["another administrator", "a panel manager", "themselves"])
def test_resetting_a_privileged_authenticator_waits_for_another_administrator(app, admin_client, world, target):
    me = world.users["admin"]
    victim = {"another administrator": lambda: second_admin(world), "a panel manager": lambda: world.users["manager"],
              "themselves": lambda: me}[target]()
    page = admin_client.get(f"/admin/users/{victim.id}/reset-mfa")
    assert "another administrator must approve this" in page_text(page)
    assert post_form(admin_client, f"/admin/users/{victim.id}/reset-mfa").status_code == 302
    assert fresh(User, victim.id).has_mfa
    [approval] = pending_requests()
    assert approval.kind == ApprovalKind.MFA_RESET and audit_events("approval.requested", approval.id)
    assert not audit_events("user.mfa_reset")
    # A duplicate is refused while the first waits.
    again = post_form(admin_client, f"/admin/users/{victim.id}/reset-mfa")
    assert "already waiting" in page_text(again) and len(pending_requests()) == 1

    approver = signed_in(app, UserFactory(agency=world.agencies.council, is_admin=True))
    assert post_form(approver, f"/admin/approvals/{approval.id}/approve").status_code == 302
    assert not fresh(User, victim.id).has_mfa
    [reset] = audit_events("user.mfa_reset", victim.id)
    assert reset.actor_user_id == me.id and reset.detail["approval_id"] == str(approval.id)
    assert audit_events("approval.approved", approval.id)


def test_resetting_a_managers_password_waits_and_the_approver_gets_the_one_time_password(app, admin_client, world):
    manager = world.users["manager"]
    post_form(admin_client, f"/admin/users/{manager.id}/reset-password")
    assert not fresh(User, manager.id).must_change_password
    [approval] = pending_requests()
    approver = signed_in(app, second_admin(world))
    response = post_form(approver, f"/admin/approvals/{approval.id}/approve")
    password = text_by_id(response, "one-time-password")
    assert fresh(User, manager.id).must_change_password
    assert post_form(app.test_client(), "/sign-in", {"email": manager.email, "password": PASSWORD}).status_code == 200
    assert post_form(app.test_client(), "/sign-in", {"email": manager.email, "password": password}).status_code == 302
    assert audit_events("user.password_reset", manager.id)[0].detail["approval_id"] == str(approval.id)


def test_resetting_an_ordinary_users_authenticator_is_immediate(admin_client, world):
    chair = world.users["chair"]
    page = admin_client.get(f"/admin/users/{chair.id}/reset-mfa")
    assert soup(page).find(id="needs-approval") is None
    post_form(admin_client, f"/admin/users/{chair.id}/reset-mfa")
    assert not fresh(User, chair.id).has_mfa
    assert audit_events("user.mfa_reset", chair.id) and not pending_requests()


def test_the_only_administrator_is_told_a_second_is_needed(admin_client, world):
    response = post_form(admin_client, f"/admin/users/{world.users['manager'].id}/reset-mfa")
    follow = admin_client.get(response.headers["Location"])
    assert "a second administrator is needed" in page_text(follow)
    page = admin_client.get("/admin/approvals/")
    assert "A second administrator is needed" in text_by_id(page, "second-admin-needed")
    assert "Waiting for another administrator" in page_text(page)
    second_admin(world)
    assert soup(admin_client.get("/admin/approvals/")).find(id="second-admin-needed") is None


def test_administrator_access_waits_for_another_administrator(app, admin_client, world):
    """Or one administrator could make an account of their own an administrator and approve their own
    requests with it."""
    response = post_form(admin_client, "/admin/users/new", {
        "full_name": "Second Self", "email": "second.self@example.org", "agency_id": str(world.agencies.council.id),
        "is_admin": "y"})
    assert "waits for another administrator's approval" in text_by_id(response, "admin-waiting")
    user = db.session.execute(select(User).where(User.email == "second.self@example.org")).scalar_one()
    assert not user.is_admin
    chair = world.users["chair"]
    post_form(admin_client, f"/admin/users/{chair.id}/edit", {
        "full_name": chair.full_name, "email": chair.email, "agency_id": str(chair.agency_id), "is_admin": "y"})
    assert not fresh(User, chair.id).is_admin
    waiting = pending_requests()
    assert {(a.kind, a.target_user_id) for a in waiting} == {(ApprovalKind.ADMIN_GRANT, user.id),
                                                             (ApprovalKind.ADMIN_GRANT, chair.id)}
    approver = signed_in(app, second_admin(world))
    new_admin_request = next(a for a in waiting if a.target_user_id == user.id)
    assert "Give Second Self administrator access" in page_text(approver.get("/admin/approvals/"))
    post_form(approver, f"/admin/approvals/{new_admin_request.id}/approve")
    assert fresh(User, user.id).is_admin and not fresh(User, chair.id).is_admin
    assert audit_events("user.updated", user.id)[-1].detail["approval_id"] == str(new_admin_request.id)

