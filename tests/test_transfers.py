"""MARAC-to-MARAC transfers (out with the transfer packet, in listed first) and one family seen across
panels (shown to someone on both panels, audited; nothing at all, not even by the HTML, to anyone else)."""
import datetime as dt
import hashlib
import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from marac.actions import services as actions
from marac.actions.models import Action, ActionStatus, UpdateKind
from marac.cases import services as cases
from marac.cases.forms import referral_form
from marac.cases.models import Case, CaseStatus, ClosureOutcome, ScreeningDecision
from marac.core.steps import StepRefused
from marac.core.timeutil import today
from marac.extensions import db
from marac.meetings import services as meetings
from marac.meetings.models import AgendaItem, ItemStatus, Meeting
from marac.panels.models import PanelKind, Role
from marac.sharing.models import Category, SharingRecord
from marac.transfers import services as transfers
from marac.transfers.models import CaseTransfer, PacketStatus, TransferDirection
from marac.users.models import User
from tests.factories import CaseFactory, PanelRoleFactory
from tests.helpers import another_panel, audit_events, pdf_text, post_form, signed_in
from tests.referrals import date_parts, mace_form, marac_form

RISK = "Sentinel-risk: escalating threats since the move"
MINUTE = "Sentinel-minute: the panel agreed a safety plan"
ACTION = "Sentinel-action: fit a panic alarm"
RECEIVER = "Northtown MARAC"
COORDINATOR = "Coordina Faketon, marac@northtown.example"


def answers(app, panel, data):
    with app.test_request_context(method="POST", data=data):
        return cases.answers_from(referral_form(panel))


def refer(app, user, panel, data):
    """A referral submitted through the service, as the referral form does."""
    case = cases.new_case(user, panel)
    return cases.save_answers(user, case, answers(app, panel, data), submit=True)


def heard_case(app, world):
    """A MARAC case of Testina Fakeperson (with her child Kiddo) accepted, heard at a held meeting with
    an open action, and listed again at the next meeting."""
    manager = world.users["manager"]
    case = refer(app, world.users["representative"], world.panel, marac_form(referred_on=today() - dt.timedelta(days=20)))
    cases.screen(manager, case, ScreeningDecision.ACCEPT, "", True, None)
    held = meetings.add_meeting(manager, world.panel, today() - dt.timedelta(days=7), dt.time(10), anyway=True)
    item = meetings.list_case(manager, held, case)
    meetings.publish(manager, held)
    meetings.open_meeting(manager, held)
    attendee = meetings.add_attendee(manager, held, "Named for the IDVA", "", world.agencies.idva.id, False)
    meetings.agree_confidentiality(manager, held, attendee)
    action = actions.add_action(manager, item, world.agencies.idva.id, ACTION, today() + dt.timedelta(days=21), None)
    meetings.record_hearing(manager, item, RISK, MINUTE, ItemStatus.HEARD, None)
    meetings.close_meeting(manager, held)
    upcoming = meetings.add_meeting(manager, world.panel, today() + dt.timedelta(days=21), dt.time(10), anyway=True)
    meetings.list_case(manager, upcoming, case)
    db.session.commit()
    return case, action, upcoming


def transfer_data(**extra):
    return {"area": RECEIVER, "contact": COORDINATOR, **date_parts("transferred_on", today()), **extra}


# --- out -------------------------------------------------------------------------------------

def test_transfer_out_closes_the_case_here_and_builds_the_packet(app, world):
    case, action, upcoming = heard_case(app, world)
    manager = app.test_client()
    from tests.helpers import sign_in
    sign_in(manager, world.users["manager"])
    page = manager.get(f"/cases/{case.id}/transfer").get_data(as_text=True)
    assert "cannot be undone" in page and "its 1 open action will be closed as transferred" in page
    assert "taken off the agenda of the meeting on" in page
    response = post_form(manager, f"/cases/{case.id}/transfer", {**transfer_data(), "version": str(case.version)})
    assert response.status_code == 302
    transfer = db.session.execute(select(CaseTransfer).where(CaseTransfer.case_id == case.id)).scalar_one()
    assert response.headers["Location"].endswith(f"/transfers/{transfer.id}")

    case = db.session.get(Case, case.id)
    assert case.status == CaseStatus.TRANSFERRED_OUT
    # Closed here for retention and the statistics, from the transfer; never reopened.
    assert case.closed_at is not None and case.closure_outcome == ClosureOutcome.MOVED_AREA
    assert not case.can_reopen(db.session.get(User, world.users["manager"].id))
    with pytest.raises(StepRefused):
        cases.reopen_case(db.session.get(User, world.users["manager"].id), case, "Invented reason", None)
    action = db.session.get(Action, action.id)
    assert action.status == ActionStatus.TRANSFERRED and action.closed_at is not None
    assert action.updates[-1].kind == UpdateKind.TRANSFERRED
    assert not db.session.execute(select(AgendaItem).where(AgendaItem.meeting_id == upcoming.id)).scalars().all()
    assert case not in meetings.waiting_cases(world.panel)
    assert not case.can_edit(db.session.get(User, world.users["manager"].id))

    assert transfer.direction == TransferDirection.OUT and transfer.packet_status == PacketStatus.BUILT
    pdf = transfer.packet
    assert transfer.packet_sha256 == hashlib.sha256(pdf).hexdigest()
    built = audit_events("transfer.packet_built", transfer.id)
    assert built and built[-1].detail["sha256"] == transfer.packet_sha256
    assert audit_events("case.transferred_out", case.id)[-1].detail["actions_closed"] == 1
    assert audit_events("action.transferred", action.id)

    text = pdf_text(pdf)
    (Path("/tmp") / "transfer-packet.pdf").write_bytes(pdf)
    for expected in ("Testina Fakeperson", "Kiddo", "Fakeabuser", RISK, MINUTE, ACTION,
                     "Transferred with the case to another area", RECEIVER, "Coordina Faketon", case.reference,
                     "Sentinel-narrative"):
        assert expected in re.sub(r"\s+", " ", text), expected
    metadata = PdfReader(io.BytesIO(pdf)).metadata
    assert "Fakeperson" not in str(dict(metadata)) and case.reference in metadata.title

    detail = manager.get(f"/transfers/{transfer.id}").get_data(as_text=True)
    assert transfer.packet_sha256 in detail and RECEIVER in detail
    download = manager.get(f"/transfers/{transfer.id}/packet")
    assert download.status_code == 200 and download.data == pdf
    disposition = download.headers["Content-Disposition"]
    assert "Fakeperson" not in disposition and "Testina" not in disposition and case.reference in disposition
    downloaded = audit_events("transfer.packet_downloaded", transfer.id)
    assert downloaded and downloaded[-1].detail["sha256"] == transfer.packet_sha256
    shared = db.session.execute(select(SharingRecord.category).where(
        SharingRecord.case_id == case.id, SharingRecord.purpose == "transfer packet")).scalars().all()
    assert set(shared) == {str(c) for c in Category}

    # Irreversible: the page is gone, and the step is refused.
    assert manager.get(f"/cases/{case.id}/transfer").status_code == 403
    with pytest.raises(StepRefused):
        transfers.transfer_out(db.session.get(User, world.users["manager"].id), case, RECEIVER, COORDINATOR,
                               today(), None)


def test_where_a_case_went_is_the_managers_alone(app, world):
    case, _, _ = heard_case(app, world)
    transfer = transfers.transfer_out(world.users["manager"], case, RECEIVER, COORDINATOR, today(), None)
    db.session.commit()
    chair = signed_in(app, world.users["chair"])
    page = chair.get(f"/cases/{case.id}").get_data(as_text=True)
    assert RECEIVER not in page and "Transferred to another area" in page  # the status, not the place
    assert chair.get(f"/transfers/{transfer.id}").status_code == 403
    assert chair.get(f"/transfers/{transfer.id}/packet").status_code == 403
    manager = signed_in(app, world.users["manager"])
    assert RECEIVER in manager.get(f"/cases/{case.id}").get_data(as_text=True)


def test_transfer_refused_while_the_case_is_at_a_running_meeting(app, world):
    manager = world.users["manager"]
    case = CaseFactory(panel=world.panel, referrer=manager, status=CaseStatus.ACCEPTED)
    meeting = meetings.add_meeting(manager, world.panel, today(), dt.time(10), anyway=True)
    meetings.list_case(manager, meeting, case)
    meetings.publish(manager, meeting)
    meetings.open_meeting(manager, meeting)
    with pytest.raises(StepRefused, match="meeting in progress"):
        transfers.transfer_out(manager, case, RECEIVER, COORDINATOR, today(), None)


def test_a_failed_packet_can_be_prepared_again(app, world, monkeypatch):
    case = CaseFactory(panel=world.panel, referrer=world.users["manager"], status=CaseStatus.ACCEPTED)

    def broken(*args, **kwargs):
        raise RuntimeError("Testina Fakeperson")  # a message that must never be kept

    monkeypatch.setattr(transfers, "render_pdf", broken)
    transfer = transfers.transfer_out(world.users["manager"], case, RECEIVER, COORDINATOR, today(), None)
    assert transfer.packet_status == PacketStatus.FAILED and transfer.packet_error == "RuntimeError"
    monkeypatch.undo()
    transfers.rebuild_packet(world.users["manager"], transfer)
    assert transfer.packet_status == PacketStatus.BUILT and transfer.packet_sha256


# --- in --------------------------------------------------------------------------------------

def test_transfer_in_is_accepted_shows_its_origin_and_is_listed_first(app, world):
    manager = signed_in(app, world.users["manager"])
    response = post_form(manager, f"/panels/{world.panel.id}/transfers/new", {
        "area": "Southvale MARAC", "their_reference": "SV-2026-0099", "contact": "Coord Southvale",
        **date_parts("transferred_on", today())})
    assert response.status_code == 302 and "/edit" in response.headers["Location"]
    edit = response.headers["Location"]
    response = post_form(manager, edit, marac_form(first="Movina", last="Fakearrival"))
    assert response.status_code == 302
    assert "received from another area and accepted" in manager.get(response.headers["Location"]).get_data(as_text=True)
    case = db.session.execute(select(Case).where(Case.is_transfer_in.is_(True))).scalar_one()
    assert case.status == CaseStatus.ACCEPTED and case.reference
    assert any(p.person.full_name == "Movina Fakearrival" for p in case.parties)
    assert case.parties[0].person.names[0].name_dob_index  # the same Person rows, with blind indexes
    assert audit_events("case.transfer_received", case.id)

    page = manager.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Received from another area" in page and "Southvale MARAC" in page and "SV-2026-0099" in page

    # The waiting list, and the agenda: before the repeats and every other case.
    older = CaseFactory(panel=world.panel, referrer=world.users["manager"], status=CaseStatus.ACCEPTED,
                        referred_on=today() - dt.timedelta(days=30), is_repeat=True)
    panel, user = db.session.get(type(world.panel), world.panel.id), db.session.get(User, world.users["manager"].id)
    older, case = db.session.get(Case, older.id), db.session.get(Case, case.id)
    waiting = meetings.waiting_cases(panel)
    assert waiting[0].id == case.id and older in waiting
    meeting = db.session.get(Meeting, world.meeting.id)
    unpublished = meetings.add_meeting(user, panel, today() + dt.timedelta(days=28), dt.time(10), anyway=True)
    meetings.list_case(user, unpublished, older)
    meetings.list_case(user, unpublished, case)
    order = [i.case_id for i in sorted(unpublished.items, key=lambda i: i.position)]
    assert order == [case.id, older.id]
    assert meeting.items  # the world's meeting is untouched

    from marac.packs import content
    html = content.agenda_html(unpublished, content.FULL, "test")
    assert html.index("Incoming transfers from other areas") < html.index(older.reference)


def test_only_a_marac_manager_receives_transfers(app, world):
    mace = another_panel(world, kind=PanelKind.MACE)
    client = signed_in(app, world.users["manager"])
    assert client.get(f"/panels/{mace.id}/transfers/new").status_code == 404
    chair = signed_in(app, world.users["chair"])
    assert chair.get(f"/panels/{world.panel.id}/transfers/new").status_code == 403


# --- one family across panels ----------------------------------------------------------------

@pytest.fixture
def two_panels(app, world):
    """The MARAC case of Testina Fakeperson (child: Kiddo Fakeperson, born 6 May 2019); a MACE panel on
    which the world's manager is also manager (the chair holds no role there)."""
    mace = another_panel(world, kind=PanelKind.MACE, roles=(Role.MANAGER,))
    marac_case = refer(app, world.users["representative"], world.panel, marac_form())
    cases.screen(world.users["manager"], marac_case, ScreeningDecision.ACCEPT, "", True, None)
    db.session.commit()
    return mace, marac_case


def mace_case_of_the_child(app, world, mace):
    case = refer(app, world.users["manager"], mace, mace_form(first="Kiddo", last="Fakeperson",
                                                             dob=dt.date(2019, 5, 6)))
    db.session.commit()
    return case


def normalised(html):
    """The page without what changes at every request: tokens and the CSP nonce."""
    html = re.sub(r'name="(csrf_token|[\w-]*form_token)"( type="hidden")? value="[^"]*"', r'name="\1"', html)
    html = re.sub(r'value="[^"]*"( name="(csrf_token|[\w-]*form_token)")', r'\1', html)
    return re.sub(r'nonce="[^"]*"', "", html)


def test_a_user_on_one_panel_cannot_tell_a_link_exists(app, world, two_panels):
    mace, marac_case = two_panels
    chair = signed_in(app, world.users["chair"])
    before = chair.get(f"/cases/{marac_case.id}")
    assert before.status_code == 200
    mace_case_of_the_child(app, world, mace)
    after = chair.get(f"/cases/{marac_case.id}")
    assert normalised(before.get_data(as_text=True)) == normalised(after.get_data(as_text=True))
    assert not audit_events("case.family_viewed", marac_case.id)


def test_a_user_on_both_panels_sees_the_family_and_the_view_is_audited(app, world, two_panels):
    mace, marac_case = two_panels
    mace_case = mace_case_of_the_child(app, world, mace)
    manager = signed_in(app, world.users["manager"])
    page = manager.get(f"/cases/{marac_case.id}").get_data(as_text=True)
    assert "The same people on other panels" in page
    assert mace.name in page and mace_case.reference in page and "Child or young person" in page
    events = audit_events("case.family_viewed", marac_case.id)
    assert len(events) == 1 and events[0].detail["cases"] == [str(mace_case.id)]
    shared = db.session.execute(select(SharingRecord.category).where(
        SharingRecord.case_id == mace_case.id, SharingRecord.purpose == "same person on another panel")).scalars().all()
    assert set(shared) == {Category.IDENTITY, Category.CHILDREN}
    # and the other way: the MACE case names the MARAC victim's child
    page = manager.get(f"/cases/{mace_case.id}").get_data(as_text=True)
    assert marac_case.reference in page and "Child in the household" in page


def test_a_link_needs_the_identity_on_both_cases(app, world, two_panels):
    """A representative on both panels whose agency may not see children on the MARAC panel is told
    nothing of the child's MACE case."""
    from marac.sharing.models import DEFAULT_RULES
    from marac.sharing.services import set_rules

    mace, marac_case = two_panels
    mace_case_of_the_child(app, world, mace)
    rep = world.users["representative"]
    PanelRoleFactory(panel=mace, user=rep, role=Role.REPRESENTATIVE)
    rules = {kind: set(cats) - {Category.CHILDREN} for kind, cats in DEFAULT_RULES.items()}
    set_rules(world.users["manager"], world.panel, rules)
    db.session.commit()
    assert transfers.family_links(db.session.get(User, rep.id), db.session.get(Case, marac_case.id)) == []


def test_family_links_take_one_query_however_many_people(app, world, two_panels, monkeypatch):
    """The links of every person of the case come from one query (the rest is read once per panel)."""
    from sqlalchemy import event

    mace, marac_case = two_panels
    mace_case_of_the_child(app, world, mace)
    statements = []
    engine = db.session.get_bind()

    def count(conn, cursor, statement, *args):
        if "person_names" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        found = transfers.family_links(world.users["manager"], db.session.get(Case, marac_case.id))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert found and len(statements) == 1


# --- the demo --------------------------------------------------------------------------------

def test_the_demo_has_a_transfer_each_way_and_a_family_across_panels(app):
    from marac.demo.services import seed
    from marac.panels.models import Panel

    seed()
    db.session.commit()
    marac = db.session.execute(select(Panel).where(Panel.name == "Camden MARAC")).scalar_one()
    out = db.session.execute(select(CaseTransfer).where(CaseTransfer.direction == TransferDirection.OUT)).scalar_one()
    assert out.packet_status == PacketStatus.BUILT and out.case.status == CaseStatus.TRANSFERRED_OUT
    received = db.session.execute(select(Case).where(Case.is_transfer_in.is_(True))).scalar_one()
    assert received.status == CaseStatus.ACCEPTED and received.panel_id == marac.id
    item = db.session.execute(select(AgendaItem).where(AgendaItem.case_id == received.id)).scalar_one()
    assert item.position == 1
    viewer = db.session.execute(select(User).where(User.email == "crosspanel.rep@example.org")).scalar_one()
    assert len(viewer.panel_roles) == 3
    family = cases.search(marac, name="Familia Crosspanel", date_of_birth=dt.date(1988, 9, 14)).items[0]
    links = transfers.family_links(viewer, family)
    roles = sorted((str(party.role), other.panel.kind, str(role)) for party, found in links for other, role in found)
    assert roles == [("child", "MACE", "young_person"), ("perpetrator", "ASB", "respondent")]
    assert seed() == 0  # once
