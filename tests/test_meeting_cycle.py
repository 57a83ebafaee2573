"""A whole fortnightly cycle through the web pages: schedule, agenda, research, register with
confidentiality, a hearing with actions, close, finalise, amend; then the representative's actions."""
import datetime as dt
import uuid

from sqlalchemy import select

from marac.actions.models import Action, ActionStatus, UpdateKind
from marac.cases.models import CaseStatus
from marac.core.timeutil import today
from marac.extensions import db
from marac.meetings.models import ItemStatus, LawfulBasis, Meeting
from tests.factories import CaseFactory
from tests.helpers import links, post_form, sign_in, signed_in, version_in
from tests.referrals import date_parts


def test_full_cycle(app, client, world, clock):
    panel, manager, rep = world.panel, world.users["manager"], world.users["representative"]
    case = CaseFactory(panel=panel, referrer=rep, status=CaseStatus.ACCEPTED)
    sign_in(client, manager)
    start = today() + dt.timedelta(days=(1 - today().weekday()) % 7 + 21)  # not the world's meeting
    response = post_form(client, f"/panels/{panel.id}/meetings/schedule",
                         {**date_parts("start_on", start), "starts_at": "10:00"})
    assert response.status_code == 302
    meeting = db.session.execute(select(Meeting).where(Meeting.panel_id == panel.id, Meeting.meets_on == start)
                                 ).scalar_one()
    agenda = f"/meetings/{meeting.id}/agenda"
    assert case.reference in client.get(agenda).get_data(as_text=True)
    post_form(client, f"/meetings/{meeting.id}/cases/list", {"case_ids": [str(case.id)]}, token_from=agenda)
    post_form(client, f"/meetings/{meeting.id}/publish", token_from=agenda)
    # The representative researches the case.
    rep_client = signed_in(app, rep)
    research = next(href for href in links(rep_client.get(f"/meetings/{meeting.id}"))
                    if href.startswith("/agenda-items/") and href.endswith("/research"))
    item_id = research.split("/")[2]
    saved = post_form(rep_client, f"/agenda-items/{item_id}/research", {
        "relevant": "Invented: two call-outs last month.", "to_share": "Invented call-outs.",
        "lawful_basis": LawfulBasis.PUBLIC_TASK, "withheld": "", "withheld_reason": "", "version": ""})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    # The meeting: open, register, confidentiality, hearing.
    register = f"/meetings/{meeting.id}/register"
    post_form(client, f"/meetings/{meeting.id}/open", token_from=register)
    hearing = f"/agenda-items/{item_id}/hearing"
    blocked = post_form(client, hearing, {"risk_summary": "x", "minute": "y", "outcome": ItemStatus.HEARD,
                                          "version": "1"})
    assert "cannot start" in blocked.get_data(as_text=True)
    post_form(client, f"/meetings/{meeting.id}/attendees", token_from=register,
              data={"name": "Ivy Idva-Test", "role": "IDVA", "agency_id": str(world.agencies.idva.id)})
    meeting = db.session.get(Meeting, meeting.id)
    db.session.refresh(meeting)
    attendee = meeting.attendees[0]
    post_form(client, f"/attendees/{attendee.id}/agree", token_from=register)
    action = post_form(client, f"/agenda-items/{item_id}/actions", token_from=hearing, data={
        "action-owner_agency_id": str(world.agencies.idva.id), "action-description": "Invented: safety plan review",
        **date_parts("action-due_on", start + dt.timedelta(days=28))})
    assert action.status_code == 302
    heard = post_form(client, hearing, {"risk_summary": "Invented risk summary",
                                        "minute": "Invented minute", "outcome": ItemStatus.HEARD,
                                        "version": version_in(client.get(hearing))})
    assert heard.status_code == 302, heard.get_data(as_text=True)[:3000]
    post_form(client, f"/meetings/{meeting.id}/close", token_from=register)
    assert post_form(client, f"/meetings/{meeting.id}/finalise").status_code == 302
    # The representative sees and completes their agency's action.
    actions_page = rep_client.get("/actions").get_data(as_text=True)
    assert "Invented: safety plan review" in actions_page
    stored = db.session.execute(select(Action).where(Action.agenda_item_id == uuid.UUID(item_id))).scalars().one()
    done = post_form(rep_client, f"/actions/{stored.id}", {"update-kind": UpdateKind.COMPLETED,
                                                           "update-note": "Invented: done",
                                                           "update-version": str(stored.version)})
    assert done.status_code == 302
    assert db.session.get(Action, stored.id).status == ActionStatus.DONE
