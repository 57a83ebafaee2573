"""The cycle as coordinators live it: a case's whole story on its page, representatives reading the final
minutes of the meetings their agency sat on, the state of their research, the home pages that say what
needs doing, the agenda builder, the action lists' filters and chasing several at once, referrals from any
agency, and a late agenda recorded for the timeliness figures."""
import datetime as dt

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from marac.actions import services as actions
from marac.actions.models import Action, ActionUpdate, UpdateKind
from marac.cases import services as cases
from marac.cases.models import Case, CaseStatus, ClosureOutcome, ScreeningDecision
from marac.core.timeutil import today, utcnow
from marac.extensions import db
from marac.meetings import services
from marac.meetings.models import AttendanceStatus, ItemStatus, LawfulBasis, Meeting
from marac.sharing.models import Category, SharingRecord, SharingRule
from tests.factories import ActionFactory, AgencyFactory, CaseFactory, MeetingFactory, PanelRoleFactory, UserFactory
from tests.helpers import audit_events, fresh, page_of, page_text, post_form, row_with, signed_in
from tests.referrals import marac_form

MINUTE = "Invented minute: the panel agreed a safety plan"
SUMMARY = "Invented risk summary: escalating"
ACTION = "Invented action: refer for a sanctuary scheme"


def heard(world, clock, present=("police", "idva")):
    """A case referred, accepted, listed, heard with a minute and an action for the IDVA, at a meeting whose
    minutes are final; the clock moved to the meeting's day. Returns (case, meeting)."""
    manager = world.users["manager"]
    case = CaseFactory(panel=world.panel, referrer=world.users["representative"], status=CaseStatus.SUBMITTED,
                       submitted_at=utcnow() - dt.timedelta(days=2))
    cases.screen(manager, case, ScreeningDecision.ACCEPT, "", False, None)
    meeting = MeetingFactory(panel=world.panel, manager=manager, meets_on=today() + dt.timedelta(days=21),
                             cases=[case], published=True)
    clock(days=21)
    services.open_meeting(manager, meeting)
    agencies = [getattr(world.agencies, name) for name in present]
    services.set_attendance(manager, meeting, {a.id: AttendanceStatus.PRESENT for a in agencies})
    for agency in agencies:
        attendee = services.add_attendee(manager, meeting, f"Named for {agency.short_name}", "", agency.id, False)
        services.agree_confidentiality(manager, meeting, attendee)
    item = meeting.items[0]
    actions.add_action(manager, item, world.agencies.idva.id, ACTION, today() + dt.timedelta(days=10), None)
    services.record_hearing(manager, item, SUMMARY, MINUTE, ItemStatus.HEARD, item.version)
    services.close_meeting(manager, meeting)
    services.finalise_minutes(manager, meeting)
    db.session.commit()
    return case, meeting


def withhold(world, kind, category):
    db.session.add(SharingRule(panel_id=world.panel.id, agency_kind=kind, category=category, is_allowed=False))
    db.session.commit()


def order_of(page, *needles):
    positions = [page.index(needle) for needle in needles]
    return positions == sorted(positions)


# --- the case's whole story -------------------------------------------------------------------

def test_the_case_page_tells_the_whole_story_in_order(app, world, clock):
    case, meeting = heard(world, clock)
    manager = signed_in(app, world.users["manager"])
    page = page_text(manager.get(f"/cases/{case.id}"))
    story = page[page.index("Chronology"):]
    assert order_of(story, "Referred by", "Accepted", "Listed for the meeting on", "Action agreed for",
                    "Heard at the meeting on", SUMMARY, MINUTE)
    assert ACTION in story
    cases.close_case(world.users["manager"], fresh(Case, case.id), ClosureOutcome.RISK_REDUCED, "")
    db.session.commit()
    story = page_text(manager.get(f"/cases/{case.id}"))
    story = story[story.index("Chronology"):]
    assert order_of(story, MINUTE, "Closed", "Risk reduced")


def test_the_story_withholds_what_the_viewers_agency_may_not_see(app, world, clock):
    case, _ = heard(world, clock)
    withhold(world, world.agencies.idva.kind, Category.NARRATIVE)
    page = page_of(signed_in(app, world.users["representative"]).get(f"/cases/{case.id}"))
    assert "Heard at the meeting on" in page and "Withheld" in page
    assert MINUTE not in page and SUMMARY not in page and ACTION not in page


def test_a_referrer_without_a_role_sees_no_story(app, world, clock):
    outsider = UserFactory(agency=world.agencies.outsider)
    case = CaseFactory(panel=world.panel, referrer=outsider, status=CaseStatus.ACCEPTED, submitted_at=utcnow())
    page = page_of(signed_in(app, outsider).get(f"/cases/{case.id}"))
    assert "Chronology" not in page


# --- the final minutes -------------------------------------------------------------------------

def test_representatives_read_the_final_minutes_of_meetings_their_agency_sat_on(app, world, clock):
    case, meeting = heard(world, clock, present=("idva",))
    reader = signed_in(app, world.users["representative"])  # IDVA: present
    page = page_of(reader.get(f"/meetings/{meeting.id}/minutes"))
    assert MINUTE in page and SUMMARY in page and ACTION in page
    shown = db.session.execute(select(SharingRecord.category).where(
        SharingRecord.case_id == case.id, SharingRecord.user_id == world.users["representative"].id)).scalars().all()
    assert Category.NARRATIVE in shown
    assert audit_events("minutes.read", meeting.id)
    # The police were absent: their representative may not read the minutes.
    police_rep = UserFactory(agency=world.agencies.police)
    PanelRoleFactory(panel=world.panel, user=police_rep)
    assert signed_in(app, police_rep).get(f"/meetings/{meeting.id}/minutes").status_code == 403
    # The meeting page offers the minutes to the one and not the other.
    assert "Read the minutes and action plan" in page_of(reader.get(f"/meetings/{meeting.id}"))


def test_the_minutes_withhold_what_the_agency_may_not_see(app, world, clock):
    _, meeting = heard(world, clock, present=("idva",))
    withhold(world, world.agencies.idva.kind, Category.NARRATIVE)
    page = page_of(signed_in(app, world.users["representative"]).get(f"/meetings/{meeting.id}/minutes"))
    assert MINUTE not in page and SUMMARY not in page and ACTION not in page
    assert "Withheld" in page


def test_minutes_not_yet_final_are_not_for_representatives(app, world):
    meeting = world.meeting  # published, not held
    assert signed_in(app, world.users["representative"]).get(f"/meetings/{meeting.id}/minutes").status_code == 403


# --- research -----------------------------------------------------------------------------------

def test_a_representative_sees_when_their_research_was_shared(app, world):
    item_id, meeting_id, rep = world.item.id, world.meeting.id, world.users["representative"]
    client = signed_in(app, rep)
    assert "Research: not started" in page_text(client.get(f"/meetings/{meeting_id}"))
    item = fresh(type(world.item), item_id)
    services.save_return(rep, item, {"nothing_held": False, "relevant": "Invented research", "to_share": "x",
                                     "lawful_basis": LawfulBasis.PUBLIC_TASK})
    db.session.commit()
    assert "Research: saved, not shared yet" in page_text(client.get(f"/meetings/{meeting_id}"))
    services.share_return(rep, fresh(type(world.item), item_id))
    db.session.commit()
    page = page_text(client.get(f"/meetings/{meeting_id}"))
    assert "Research: shared with the panel on" in page
    assert "return: shared with the panel on" in page_text(client.get(f"/agenda-items/{item_id}/research"))


# --- where people start their day -------------------------------------------------------------

def test_the_managers_home_says_what_needs_them(app, world):
    manager = world.users["manager"]
    late = MeetingFactory(panel=world.panel, manager=manager, meets_on=today() + dt.timedelta(days=2))
    ActionFactory(item=world.item, owner_agency=world.agencies.police, due_on=today() - dt.timedelta(days=3))
    page = page_text(signed_in(app, manager).get("/"))
    assert "Referrals to screen 1 waiting" in page  # the world's referral awaits screening
    # the world's published meeting is the next; it listed one case and nobody has shared research
    assert "Research returns missing 2 of 2" in page
    assert f"{world.agencies.police.name}: 1" in page
    assert late.meets_on > today()


def test_a_late_agenda_is_flagged_and_recorded_for_the_figures(app, world):
    manager = world.users["manager"]
    meeting = MeetingFactory(panel=world.panel, manager=manager, meets_on=today() + dt.timedelta(days=1))
    soon = [m for m in db.session.execute(select(Meeting).where(Meeting.panel_id == world.panel.id)).scalars()
            if m.meets_on < world.meeting.meets_on]
    assert meeting in soon
    page = page_of(signed_in(app, manager).get("/"))
    assert "govuk-tag--red" in page and "Late" in page
    case = CaseFactory(panel=world.panel, referrer=world.users["representative"], status=CaseStatus.ACCEPTED)
    meeting = fresh(Meeting, meeting.id)
    services.list_case(manager, meeting, case)
    services.publish(manager, meeting)
    db.session.commit()
    [event] = audit_events("agenda.published", meeting.id)
    assert event.detail["late"] is True
    assert fresh(Meeting, meeting.id).agenda_due_on == meeting.agenda_deadline < today()


def test_a_representatives_home_lists_research_to_do_and_actions_due(app, world):
    rep, listed = world.users["representative"], world.item.case.reference
    page = page_text(signed_in(app, rep).get("/"))
    assert "Research to share before the next meeting" in page
    assert f"{listed} for the meeting on" in page
    # the world's action for the IDVA (on the listed case) is due within a week
    assert "Actions due within a week or overdue: 1, 0 overdue:" in page


def test_a_representatives_home_shows_the_most_overdue_actions_and_counts_them_all(app, world):
    """However far behind an agency is, its home page shows ACTIONS_SHOWN actions, the most overdue first,
    with the true counts and a link to the whole list."""
    from marac.home.services import ACTIONS_SHOWN

    rep = world.users["representative"]
    extra = ACTIONS_SHOWN + 2
    for days in range(1, extra + 1):
        ActionFactory(item=world.item, owner_agency=rep.agency, due_on=today() - dt.timedelta(days=days))
    db.session.commit()
    soup = BeautifulSoup(signed_in(app, rep).get("/").data, "html.parser")
    page = " ".join(soup.get_text(" ").split())
    assert f"Actions due within a week or overdue: {extra + 1}, {extra} overdue" in page
    shown = [a for a in soup.find_all("a") if a.get("href", "").startswith("/actions/") and "due" in a.get_text()]
    assert len(shown) == ACTIONS_SHOWN
    assert soup.find("a", string="all your agency's actions") is not None


# --- the agenda builder and the actions list ----------------------------------------------------

def test_the_agenda_builder_shows_initials_risk_and_days_waiting_and_lists_several(app, world):
    manager = world.users["manager"]
    meeting = MeetingFactory(panel=world.panel, manager=manager, meets_on=today() + dt.timedelta(days=30))
    rep = signed_in(app, world.users["representative"])
    assert post_form(rep, f"/panels/{world.panel.id}/referrals/new", marac_form()).status_code == 302
    named = db.session.execute(select(Case).where(Case.status == CaseStatus.SUBMITTED, Case.id != world.case.id)
                               ).scalar_one()
    cases.screen(manager, named, ScreeningDecision.ACCEPT, "", False, None)
    named.screened_at = utcnow() - dt.timedelta(days=5)
    waiting = [named] + [CaseFactory(panel=world.panel, referrer=world.users["representative"],
                                     status=CaseStatus.ACCEPTED, screened_at=utcnow()) for _ in range(2)]
    db.session.commit()
    client = signed_in(app, manager)
    source = page_of(client.get(f"/meetings/{meeting.id}/agenda"))
    cells = [cell.get_text(" ", strip=True) for cell in row_with(source, named.reference).select("td")]
    assert cells[2] == "T. F." and cells[-1] == "5" and cells[3].startswith("High")
    assert "Testina" not in source
    response = post_form(client, f"/meetings/{meeting.id}/cases/list",
                         {"case_ids": [str(waiting[0].id), str(waiting[2].id)]}, token_from=f"/meetings/{meeting.id}/agenda")
    assert response.status_code == 302
    listed = {item.case_id for item in fresh(Meeting, meeting.id).items}
    assert listed == {waiting[0].id, waiting[2].id}
    refused = post_form(client, f"/meetings/{meeting.id}/cases/list", {"case_ids": [str(waiting[0].id)]},
                        token_from=f"/meetings/{meeting.id}/agenda")
    assert "no longer waiting" in page_text(client.get(refused.headers["Location"]))


def test_the_managers_actions_filter_by_owner_status_and_due_date_and_chase_several(app, world):
    manager = world.users["manager"]
    police = [ActionFactory(item=world.item, owner_agency=world.agencies.police, due_on=today() - dt.timedelta(days=d))
              for d in (2, 20)]
    client = signed_in(app, manager)
    url = f"/panels/{world.panel.id}/actions"
    args = {"owner_agency_id": str(world.agencies.police.id), "status": "overdue"}
    page = page_of(client.get(url, query_string=args))
    assert "2 actions" in page and str(police[0].id) in page and str(world.action.id) not in page
    start = today() - dt.timedelta(days=5)
    narrowed = page_of(client.get(url, query_string={**args, "due_from-day": start.day, "due_from-month": start.month,
                                                     "due_from-year": start.year}))
    assert "1 action," in narrowed
    bad = page_of(client.get(url, query_string={"due_to-day": "31", "due_to-month": "2", "due_to-year": "2026"}))
    assert "Due to must be a real date" in bad
    # Chase both, with one note; nothing chosen is a clear error and keeps the note typed.
    nothing = post_form(client, f"{url}/chase", {"note": "Invented chase note"}, token_from=url)
    assert "Choose the actions to chase" in page_of(nothing) and "Invented chase note" in page_of(nothing)
    done = post_form(client, f"{url}/chase", {"note": "Emailed the DI", "action_ids": [str(a.id) for a in police]},
                     token_from=url)
    assert done.status_code == 302
    chases = db.session.execute(select(ActionUpdate).where(ActionUpdate.kind == UpdateKind.CHASE)).scalars().all()
    assert {c.action_id for c in chases} == {a.id for a in police}
    # An action of another panel cannot be slipped in.
    other_case = CaseFactory(status=CaseStatus.ACCEPTED)
    assert db.session.get(Action, police[0].id)
    refused = post_form(client, f"{url}/chase", {"note": "x", "action_ids": [str(other_case.id)]}, token_from=url)
    assert "cannot be chased here" in page_of(refused)


def test_a_representative_cannot_chase(app, world):
    client = signed_in(app, world.users["representative"])
    response = post_form(client, f"/panels/{world.panel.id}/actions/chase",
                         {"note": "x", "action_ids": [str(world.action.id)]}, token_from="/")
    assert response.status_code == 403


# --- referrals from any agency -----------------------------------------------------------------

def test_any_practitioner_of_the_area_refers_and_follows_their_referral(app, world):
    gp = UserFactory(agency=AgencyFactory())
    client = signed_in(app, gp)
    assert "Refer to" in page_text(client.get("/"))
    form = marac_form()
    response = post_form(client, f"/panels/{world.panel.id}/referrals/new", form)
    assert response.status_code == 302, page_of(response)[:2000]
    case = db.session.execute(select(Case).where(Case.referrer_user_id == gp.id)).scalar_one()
    assert case.status == CaseStatus.SUBMITTED
    page = page_of(client.get(f"/cases/{case.id}"))
    assert case.reference in page
    # ... and sees nothing else of the panel.
    assert client.get(f"/panels/{world.panel.id}/cases").status_code == 403
    assert client.get(f"/cases/{world.accepted.id}").status_code == 403
