"""Reminders by email: a real SMTP server (aiosmtpd) on a free local port receives what the app sends.

Checked: who receives each kind, its subject and body, that no fake person's name, date of birth,
address, postcode or case reference is in any message, that the weekly digest groups an agency's
overdue actions in one email, that opting out stops the optional kinds and not the required ones,
that a reminder is never sent twice, and that nothing is sent unless the step's transaction commits.
"""
import datetime as dt
import socket

import pytest
from aiosmtpd.controller import Controller

from marac.actions.models import UpdateKind
from marac.actions.services import send_overdue_digests, update_action
from marac.cases.models import Case, CaseStatus, ScreeningDecision
from marac.cases.services import screen
from marac.core import timeutil
from marac.extensions import db
from marac.meetings import services as meetings
from marac.meetings.models import Meeting
from marac.meetings.services import research_reminder_day, send_research_reminders
from marac.notifications.models import EmailKind, EmailOptOut, SentReminder
from marac.panels.models import Role
from tests.factories import ActionFactory, MeetingFactory, PanelRoleFactory, UserFactory
from tests.helpers import audit_events, fresh, page_of, post_form, row_count, signed_in
from tests.referrals import marac_form

# What the referral below says about its invented people: none of it may appear in an email.
PERSONAL = ["Testina", "Fakeperson", "Perry", "Fakeabuser", "Kiddo", "1 Pretend Road", "ZZ1 1ZZ", "1990-04-01",
            "1 April 1990", "01/04/1990", "07700 900123", "Sentinel-narrative"]


def in_3_weeks():
    """A meeting day free on the world's panel (its own meeting is in 14 days)."""
    return timeutil.today() + dt.timedelta(days=21)


class Inbox:
    """The aiosmtpd handler: keeps each message received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append({"to": list(envelope.rcpt_tos), "from": envelope.mail_from,
                              "subject": str(message["Subject"]), "body": message.get_content(),
                              "raw": envelope.content.decode("utf-8", "replace")})
        return "250 Message accepted"

    def to(self, user):
        return [m for m in self.messages if user.email in m["to"]]

    def clear(self):
        self.messages.clear()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inbox(app):
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    saved = {k: app.config.get(k) for k in ("MAIL_BACKEND", "MAIL_SERVER", "MAIL_PORT", "MAIL_TLS")}
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_TLS="none")
    try:
        yield handler
    finally:
        controller.stop()
        app.config.update(saved)


def assert_no_personal_data(messages, *also):
    assert messages
    for message in messages:
        for value in PERSONAL + list(also):
            assert value.lower() not in message["raw"].lower(), (value, message["subject"])


@pytest.fixture
def named_case(app, world):
    """A referral of Testina Fakeperson (with her address, children and the perpetrator), accepted."""
    rep = signed_in(app, world.users["representative"])
    response = post_form(rep, f"/panels/{world.panel.id}/referrals/new", marac_form())
    assert response.status_code == 302, page_of(response)[:2000]
    case = db.session.query(Case).filter(Case.panel_id == world.panel.id, Case.status == CaseStatus.SUBMITTED,
                                         Case.id != world.case.id).one()
    screen(world.users["manager"], case, ScreeningDecision.ACCEPT, "", False, case.version)
    db.session.commit()
    return case


def representatives(world):
    """The world's representatives of member agencies: the IDVA's, and a police representative."""
    police_rep = UserFactory(agency=world.agencies.police)
    PanelRoleFactory(panel=world.panel, user=police_rep, role=Role.REPRESENTATIVE)
    db.session.commit()
    return [world.users["representative"], police_rep]


def test_publishing_an_agenda_emails_each_member_agencys_representatives(app, world, inbox, named_case):
    reps = representatives(world)
    manager = signed_in(app, world.users["manager"])
    meeting = MeetingFactory(panel=world.panel, manager=world.users["manager"], meets_on=in_3_weeks(),
                             cases=[named_case])
    inbox.clear()
    response = post_form(manager, f"/meetings/{meeting.id}/publish", {},
                         token_from=f"/meetings/{meeting.id}/agenda")
    assert response.status_code == 302
    assert sorted(m["to"][0] for m in inbox.messages) == sorted(u.email for u in reps)
    message = inbox.to(reps[0])[0]
    assert message["subject"] == f"Agenda published: {world.panel.name}"
    assert f"http://localhost:5000/meetings/{meeting.id}" in message["body"]
    assert "has been published" in message["body"]
    # Nobody else: not the manager, the chair (police, but not as representative), steering or outsiders.
    for name in ("manager", "chair", "steering", "nonmember", "admin"):
        assert not inbox.to(world.users[name])
    assert_no_personal_data(inbox.messages, named_case.reference)
    # Each email sent is audited: the recipient's id and the kind, nothing of the content.
    events = [e for e in audit_events("email.sent") if e.detail == {"kind": EmailKind.AGENDA_PUBLISHED}
              and e.object_id == str(reps[1].id)]  # the police representative is new: one email, one event
    assert len(events) == 1


def test_nothing_is_sent_when_the_step_rolls_back(app, world, inbox, named_case):
    representatives(world)
    meeting = MeetingFactory(panel=world.panel, manager=world.users["manager"], meets_on=in_3_weeks(),
                             cases=[named_case])
    inbox.clear()
    before = len(audit_events("email.sent"))  # the world's own meeting was published as it was built
    meetings.publish(world.users["manager"], fresh(Meeting, meeting.id))
    assert not inbox.messages  # not before the commit
    db.session.rollback()
    assert not inbox.messages
    assert len(audit_events("email.sent")) == before
    meetings.publish(world.users["manager"], fresh(Meeting, meeting.id))
    db.session.commit()
    assert len(inbox.messages) == 2


def test_a_refused_request_sends_nothing(app, world, inbox):
    """Publishing an agenda with no case is refused: no email goes, though the route ran the step."""
    representatives(world)
    empty = MeetingFactory(panel=world.panel, manager=world.users["manager"],
                           meets_on=timeutil.today() + dt.timedelta(days=30))
    manager = signed_in(app, world.users["manager"])
    inbox.clear()
    post_form(manager, f"/meetings/{empty.id}/publish", {}, token_from=f"/meetings/{empty.id}/agenda")
    assert not inbox.messages


def overdue(world, count, agency):
    for days in range(count):
        ActionFactory(item=world.item, owner_agency=agency, due_on=timeutil.today() - dt.timedelta(days=days + 1))
    db.session.commit()


def test_the_weekly_digest_groups_an_agencys_overdue_actions_and_goes_once_a_week(app, world, inbox):
    reps = representatives(world)
    overdue(world, 3, world.agencies.idva)
    overdue(world, 1, world.agencies.police)
    inbox.clear()
    send_overdue_digests()
    db.session.commit()
    idva_mail, police_mail = inbox.to(reps[0]), inbox.to(reps[1])
    assert len(idva_mail) == 1 and len(police_mail) == 1  # one digest each, not one email per action
    assert "has 3 actions" in idva_mail[0]["body"] and "has 1 action " in police_mail[0]["body"]
    assert idva_mail[0]["subject"] == f"Overdue actions this week: {world.panel.name}"
    assert "http://localhost:5000/actions" in idva_mail[0]["body"]
    assert not inbox.to(world.users["manager"]) and not inbox.to(world.users["chair"])
    assert_no_personal_data(inbox.messages, world.accepted.reference, "Invented action for tests")
    # Run again the same week: nothing more. The next week: the digest again.
    inbox.clear()
    send_overdue_digests()
    db.session.commit()
    assert not inbox.messages
    send_overdue_digests(on=timeutil.today() + dt.timedelta(days=7))
    db.session.commit()
    assert len(inbox.to(reps[0])) == 1


def test_opting_out_stops_the_optional_emails_only(app, world, inbox):
    rep_user = world.users["representative"]
    rep = signed_in(app, rep_user)
    page = rep.get("/account/emails")
    assert page.status_code == 200 and "always sent" in page_of(page)
    response = post_form(rep, "/account/emails", {"wanted": [EmailKind.PACK_READY, EmailKind.MINUTES_READY,
                                                              EmailKind.RESEARCH_DUE]})
    assert response.status_code == 302
    assert row_count(EmailOptOut, EmailOptOut.user_id == rep_user.id) == 1
    overdue(world, 2, world.agencies.idva)
    inbox.clear()
    send_overdue_digests()
    db.session.commit()
    assert not inbox.to(rep_user)  # the digest is off
    # A manager's chase is always sent.
    manager = signed_in(app, world.users["manager"])
    action = world.action
    response = post_form(manager, f"/actions/{action.id}/chase", {
        "chase-version": fresh(type(action), action.id).version, "chase-note": "Invented chase note"},
        token_from=f"/actions/{action.id}")
    assert response.status_code == 302, page_of(response)[:2000]
    chased = inbox.to(rep_user)
    assert len(chased) == 1 and f"/actions/{action.id}" in chased[0]["body"]
    assert chased[0]["subject"] == f"An action has been chased: {world.panel.name}"
    assert_no_personal_data(chased, world.accepted.reference, "Invented action for tests", "Invented chase note")
    # Ticking it again turns it back on.
    post_form(rep, "/account/emails", {"wanted": [k.value for k in EmailKind if k in (
        EmailKind.PACK_READY, EmailKind.MINUTES_READY, EmailKind.RESEARCH_DUE, EmailKind.ACTIONS_OVERDUE)]})
    assert row_count(EmailOptOut, EmailOptOut.user_id == rep_user.id) == 0


def test_missing_research_is_reminded_two_working_days_before_it_is_due_once(app, world, inbox, named_case):
    reps = representatives(world)
    meeting = MeetingFactory(panel=world.panel, manager=world.users["manager"], meets_on=in_3_weeks(),
                             cases=[named_case], published=True)
    meeting = fresh(Meeting, meeting.id)
    day = research_reminder_day(meeting)
    assert day < meeting.research_deadline
    # The IDVA shares its research; the police do not.
    item = meeting.items[0]
    meetings.save_return(reps[0], item, {"nothing_held": True})
    meetings.share_return(reps[0], item)
    db.session.commit()
    inbox.clear()
    send_research_reminders(on=day - dt.timedelta(days=1))  # too early
    db.session.commit()
    assert not inbox.messages
    send_research_reminders(on=day)
    db.session.commit()
    police = inbox.to(reps[1])
    assert len(police) == 1 and not inbox.to(reps[0])
    assert "research for 1 case" in police[0]["body"] and "due in two working days" in police[0]["body"]
    assert f"/meetings/{meeting.id}/research" in police[0]["body"]
    assert_no_personal_data(inbox.messages, named_case.reference)
    inbox.clear()
    send_research_reminders(on=day)
    send_research_reminders(on=meeting.research_deadline)
    db.session.commit()
    assert not inbox.messages  # never twice
    assert row_count(SentReminder, SentReminder.user_id == reps[1].id) == 1


def test_finalised_minutes_are_announced(app, world, inbox):
    reps = representatives(world)
    meeting = fresh(Meeting, world.meeting.id)
    meeting.status = "held"
    db.session.commit()
    inbox.clear()
    meetings.finalise_minutes(world.users["manager"], meeting)
    db.session.commit()
    assert sorted(m["to"][0] for m in inbox.messages) == sorted(u.email for u in reps)
    assert inbox.messages[0]["subject"] == f"Minutes final: {world.panel.name}"


def test_the_reminders_command_sends_and_is_idempotent(app, world, inbox):
    representatives(world)
    overdue(world, 2, world.agencies.idva)
    runner = app.test_cli_runner()
    inbox.clear()
    first = runner.invoke(args=["reminders", "send"])
    assert first.exit_code == 0, first.output
    assert "Overdue-action digests sent: 1" in first.output
    second = runner.invoke(args=["reminders", "send"])
    assert "Overdue-action digests sent: 0" in second.output
    assert len(inbox.messages) == 1


def test_development_prints_emails_to_the_log(app, world, caplog):
    """MAIL_BACKEND "log" (make run): the email goes to the log and no SMTP server is needed."""
    representatives(world)
    overdue(world, 1, world.agencies.idva)
    assert app.config["MAIL_BACKEND"] == "log"
    with caplog.at_level("INFO"):
        send_overdue_digests()
        db.session.commit()
    assert any("Overdue actions this week" in r.getMessage() for r in caplog.records)


def test_the_demo_data_tells_nobody_of_its_past_meetings(app, inbox):
    """Seeding the demo publishes agendas and finalises minutes of meetings long past: no email goes,
    and none is recorded."""
    from marac.demo.services import seed

    seed()
    db.session.commit()
    assert not inbox.messages and not audit_events("email.sent")
