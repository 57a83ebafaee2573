"""Closing a case with an outcome and reopening it; the data protection officer's account flag."""
import pytest

from marac.cases.models import Case, CaseChange, CaseStatus, ChangeAction, ClosureOutcome
from marac.meetings.services import waiting_cases
from marac.panels.models import PanelKind, Role
from marac.users.models import ApprovalKind, ApprovalRequest, User
from tests.factories import CaseFactory, PanelFactory, PanelMemberFactory, PanelRoleFactory, UserFactory
from tests.helpers import audit_events, fresh, page_text, post_form, signed_in, version_in


def step(client, url, data):
    """POST a closing or reopening form as the browser would after opening it (with the version it showed)."""
    page = client.get(url)
    version = version_in(page.get_data(as_text=True)) if page.status_code == 200 else "1"
    return post_form(client, url, {"version": version, **data}, token_from=url if page.status_code == 200 else "/")


@pytest.fixture
def accepted(world):
    """An accepted case of the world's panel, waiting for a meeting."""
    return CaseFactory(panel=world.panel, referrer=world.users["representative"], status=CaseStatus.ACCEPTED)


@pytest.fixture
def manager(app, world):
    return signed_in(app, world.users["manager"])


def test_the_manager_closes_a_case_which_leaves_the_waiting_list(manager, world, accepted):
    assert accepted in waiting_cases(world.panel)
    page = manager.get(f"/cases/{accepted.id}")
    assert "Close the case" in page_text(page)
    confirm = manager.get(f"/cases/{accepted.id}/close")
    assert "A closed case leaves the waiting list" in page_text(confirm)
    response = step(manager, f"/cases/{accepted.id}/close", {"outcome": ClosureOutcome.RISK_REDUCED})
    assert response.status_code == 302, page_text(response)
    case = fresh(Case, accepted.id)
    assert case.status == CaseStatus.CLOSED and case.closed_at and case.closure_outcome == ClosureOutcome.RISK_REDUCED
    assert case not in waiting_cases(world.panel)
    [event] = audit_events("case.closed", accepted.id)
    assert event.detail == {"outcome": ClosureOutcome.RISK_REDUCED}
    shown = page_text(manager.get(f"/cases/{accepted.id}"))
    assert "Risk reduced" in shown and "Reopen the case" in shown and "Close the case" not in shown


def test_other_needs_a_reason_and_nothing_typed_is_lost(manager, accepted):
    response = step(manager, f"/cases/{accepted.id}/close", {"outcome": ClosureOutcome.OTHER, "reason": "  "})
    assert response.status_code == 200 and "Give the reason for closing the case" in page_text(response)
    assert fresh(Case, accepted.id).status == CaseStatus.ACCEPTED
    nothing = step(manager, f"/cases/{accepted.id}/close", {})
    assert "Choose why the case is closing" in page_text(nothing)


def test_turning_18_closes_only_a_mace_case(app, world, manager, accepted):
    refused = step(manager, f"/cases/{accepted.id}/close", {"outcome": ClosureOutcome.AGED_OUT})
    assert refused.status_code == 200 and fresh(Case, accepted.id).status == CaseStatus.ACCEPTED
    mace = PanelFactory(kind=PanelKind.MACE)
    PanelMemberFactory(panel=mace, agency=world.agencies.police)
    mace_manager = UserFactory(agency=world.agencies.council)
    PanelRoleFactory(panel=mace, user=mace_manager, role=Role.MANAGER)
    child = CaseFactory(panel=mace, referrer=world.users["chair"], status=CaseStatus.ACCEPTED)
    client = signed_in(app, mace_manager)
    assert "Turned 18" in page_text(client.get(f"/cases/{child.id}/close"))
    assert step(client, f"/cases/{child.id}/close", {"outcome": ClosureOutcome.AGED_OUT}).status_code == 302
    assert fresh(Case, child.id).status == CaseStatus.CLOSED


def test_a_case_listed_for_a_meeting_still_to_be_held_cannot_close(manager, world):
    response = step(manager, f"/cases/{world.accepted.id}/close", {"outcome": ClosureOutcome.RISK_REDUCED})
    assert "is listed for the meeting on" in page_text(response)
    assert fresh(Case, world.accepted.id).status == CaseStatus.ACCEPTED


def test_reopening_needs_a_reason_kept_encrypted_in_the_history(manager, world, accepted):
    step(manager, f"/cases/{accepted.id}/close", {"outcome": ClosureOutcome.OTHER,
                                                       "reason": "Invented closing reason"})
    refused = step(manager, f"/cases/{accepted.id}/reopen", {"reason": ""})
    assert "Give the reason for reopening the case" in page_text(refused)
    assert step(manager, f"/cases/{accepted.id}/reopen", {"reason": "Invented new incident"}).status_code == 302
    case = fresh(Case, accepted.id)
    assert case.status == CaseStatus.ACCEPTED and case.closed_at is None and case.closure_outcome is None
    assert case in waiting_cases(world.panel)
    reopened = [c for c in CaseChange.query.filter_by(case_id=case.id) if c.action == ChangeAction.REOPENED]
    assert reopened[0].note == "Invented new incident"
    assert reopened[0].old_values["closure_reason"] == "Invented closing reason"
    assert b"Invented new incident" not in (reopened[0]._enc_note or b"")
    assert audit_events("case.reopened", accepted.id)
    assert "Invented new incident" in page_text(manager.get(f"/cases/{accepted.id}"))


@pytest.mark.parametrize("kind", ["chair", "representative", "steering", "admin", "nonmember"])
def test_only_the_manager_closes_or_reopens(app, world, accepted, kind):
    client = signed_in(app, world.users[kind])
    assert step(client, f"/cases/{accepted.id}/close", {"outcome": ClosureOutcome.RISK_REDUCED}).status_code == 403
    assert fresh(Case, accepted.id).status == CaseStatus.ACCEPTED
    assert "Close the case" not in page_text(client.get(f"/cases/{accepted.id}"))


def test_making_someone_the_dpo_waits_for_a_second_administrator(app, world):
    admin = signed_in(app, world.users["admin"])
    target = world.users["steering"]
    response = post_form(admin, f"/admin/users/{target.id}/edit", {
        "full_name": target.full_name, "email": target.email, "agency_id": str(target.agency_id), "is_dpo": "y"})
    assert response.status_code == 302
    assert not fresh(User, target.id).is_dpo
    [approval] = ApprovalRequest.query.filter_by(kind=ApprovalKind.DPO_GRANT).all()
    approver = signed_in(app, UserFactory(agency=world.agencies.council, is_admin=True))
    assert "data protection officer" in page_text(approver.get("/admin/approvals/"))
    assert post_form(approver, f"/admin/approvals/{approval.id}/approve").status_code == 302
    assert fresh(User, target.id).is_dpo
    [event] = [e for e in audit_events("user.updated", target.id) if e.detail.get("fields") == ["is_dpo"]]
    assert event.detail["approval_id"] == str(approval.id)
