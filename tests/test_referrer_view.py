"""A referrer's view is of what they referred: the referral as they sent it (with their own edits
until screening), its reference and status, and nothing the panel adds later (the manager's edits,
hearings, minutes, actions, research). A referrer who also holds a role sees what the role allows as
well. Making a referral grants no category of the panel's record."""
import datetime as dt
import re
import runpy
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import flask_migrate
import pytest
from sqlalchemy import text

from config import TestConfig
from marac import create_app
from marac.actions import services as actions
from marac.agencies.models import AgencyKind
from marac.cases.models import Case, CaseStatus, ScreeningDecision
from marac.cases.services import new_case, save_answers
from marac.core.crypto import decrypt_value
from marac.core.timeutil import today
from marac.extensions import db
from marac.keys.services import init_keys
from marac.meetings import services as meetings
from marac.meetings.models import ItemStatus, LawfulBasis
from marac.panels.models import PanelKind, PanelMember, Role
from marac.sharing.models import DEFAULT_RULES, Category
from marac.sharing.services import visible_categories
from tests.factories import (AgencyFactory, CaseFactory, MeetingFactory, PanelFactory, PanelMemberFactory,
                             PanelRoleFactory, UserFactory)
from tests.helpers import (another_panel, audit_events, fresh, page_of, page_text, post_form, reset_schema,
                           scratch_database_url, signed_in, textarea_value, version_in)
from tests.referrals import asb_form, mace_form, marac_form

SENT_ADDRESS = "1 Pretend Road, Testtown"  # marac_form's victim address
MANAGER_ADDRESS = "2 Managers Road, Testtown"
MANAGER_HISTORY = "Invented: history the manager added after the referral."
MINUTE = "Invented: minute of the hearing, agreed by the panel."
ACTION = "Invented: a safety plan agreed at the hearing."
RESEARCH = "Invented: the IDVA's shared research."


def case_of(response):
    assert response.status_code == 302, page_of(response)[:3000]
    match = re.fullmatch(r"/cases/([0-9a-f-]{36})", urlsplit(response.headers["Location"]).path)
    assert match, response.headers["Location"]
    return fresh(Case, uuid.UUID(match.group(1)))


def refer(client, panel, data):
    return case_of(post_form(client, f"/panels/{panel.id}/referrals/new", data))


def edit(client, case, **changes):
    """Open the edit form and save it with these changes to marac_form's answers."""
    form = client.get(f"/cases/{case.id}/edit")
    assert form.status_code == 200
    response = post_form(client, f"/cases/{case.id}/edit", marac_form(version=version_in(form), **changes))
    assert response.status_code == 302, page_of(response)[:3000]
    return fresh(Case, case.id)


@pytest.fixture
def officer(world):
    """A police officer without a role on the panel: their agency sits on it, so they may refer."""
    return UserFactory(agency=world.agencies.police, full_name="Olive Officer-Test")


def hear(world, case):
    """List, research, hear and agree an action on the case at a new meeting (through the services)."""
    manager, rep = world.users["manager"], world.users["representative"]
    meeting = MeetingFactory(panel=world.panel, manager=manager, cases=[case], published=True,
                             meets_on=today() + dt.timedelta(days=21))
    item = meeting.items[0]
    meetings.save_return(rep, item, {"nothing_held": False, "relevant": RESEARCH, "to_share": RESEARCH,
                                     "withheld": None, "withheld_reason": None,
                                     "lawful_basis": LawfulBasis.PUBLIC_TASK})
    meetings.share_return(rep, item)
    meetings.open_meeting(manager, meeting)
    attendee = meetings.add_attendee(manager, meeting, "Named for the IDVA", "", world.agencies.idva.id, False)
    meetings.agree_confidentiality(manager, meeting, attendee)
    actions.add_action(manager, item, world.agencies.idva.id, ACTION, meeting.meets_on + dt.timedelta(days=28), None)
    meetings.record_hearing(manager, item, "Invented: risk summary", MINUTE, ItemStatus.HEARD, None)
    db.session.commit()
    return item


def test_referrer_sees_what_they_sent_not_what_the_panel_added(app, world, officer):
    referrer = signed_in(app, officer)
    manager = signed_in(app, world.users["manager"])
    case = refer(referrer, world.panel, marac_form())
    edit(manager, case, history=MANAGER_HISTORY, **{"victim-address": MANAGER_ADDRESS})
    response = post_form(manager, f"/cases/{case.id}/screen", {"decision": ScreeningDecision.ACCEPT, "reason": "",
                                                               "version": fresh(Case, case.id).version})
    assert response.status_code == 302
    hear(world, fresh(Case, case.id))

    # The manager's page has the panel's record; the referrer's has what they sent.
    assert MANAGER_ADDRESS in page_of(manager.get(f"/cases/{case.id}"))
    response = referrer.get(f"/cases/{case.id}")
    assert response.status_code == 200
    shown = page_text(response)
    assert case.reference in shown and "Accepted" in shown and "Your referral as you sent it" in shown
    for sent in (SENT_ADDRESS, "Invented history.", "Sentinel-narrative: an invented incident for testing.",
                 "Testina", "Fakeside Surgery", "CRIS-TEST-0001", "Perry", "Kiddo"):
        assert sent in shown, sent
    for added in (MANAGER_ADDRESS, MANAGER_HISTORY, MINUTE, ACTION, RESEARCH, "Invented: risk summary",
                  world.users["manager"].full_name, "Edited", "withheld"):
        assert added not in shown, added
    # Its history is the referrer's own: the submission, not the manager's edit or screening.
    assert f"Submitted by {officer.full_name}" in shown
    # Nothing else of the case opens to them: not the edit form (screened), the hearing, the actions.
    assert referrer.get(f"/cases/{case.id}/edit").status_code == 403
    assert ACTION not in page_of(referrer.get("/actions"))
    # The view is audited with what it showed: the referral as sent holds every category.
    [event] = [e for e in audit_events("case.viewed", case.id) if e.actor_user_id == officer.id]
    assert event.detail["categories"] == sorted(Category)


def test_making_a_referral_grants_no_category_of_the_record(app, world, officer):
    referrer = signed_in(app, officer)
    case = refer(referrer, world.panel, marac_form())
    assert visible_categories(case, officer) == set()
    assert case.can_view(officer) and case.can_view_sent(officer) and not case.can_view_record(officer)
    housing = AgencyFactory(kind=AgencyKind.HOUSING)
    PanelMemberFactory(panel=world.panel, agency=housing)
    officer_with_role = UserFactory(agency=housing)
    PanelRoleFactory(panel=world.panel, user=officer_with_role, role=Role.REPRESENTATIVE)
    theirs = fresh(Case, CaseFactory(panel=world.panel, referrer=officer_with_role).id)
    assert visible_categories(theirs, officer_with_role) == DEFAULT_RULES[AgencyKind.HOUSING]


def test_referrer_edits_their_own_version_until_screening(app, world, officer):
    referrer = signed_in(app, officer)
    manager = signed_in(app, world.users["manager"])
    case = refer(referrer, world.panel, marac_form())
    edit(manager, case, orders="Invented: an order the manager found.")

    # The referrer's form starts from what they sent, without the manager's change.
    form = referrer.get(f"/cases/{case.id}/edit")
    assert textarea_value(form, "orders") == "" and "an order the manager found" not in page_of(form)
    case = edit(referrer, case, history="Invented: the referrer's second thoughts.")

    # Their change goes into the record beside the manager's; their version is what they sent.
    assert case.referral["history"] == "Invented: the referrer's second thoughts."
    assert case.referral["orders"] == "Invented: an order the manager found."
    assert case.sent_referral["history"] == "Invented: the referrer's second thoughts."
    assert case.sent_referral["orders"] == ""
    shown = page_of(referrer.get(f"/cases/{case.id}"))
    assert "the referrer's second thoughts" in shown and "an order the manager found" not in shown
    shown = page_of(manager.get(f"/cases/{case.id}"))
    assert "the referrer's second thoughts" in shown and "an order the manager found" in shown


def test_referrer_with_a_role_sees_what_the_role_allows_and_their_referral(app, world):
    """Housing may not see health or criminal justice: the record withholds them, the referral as
    sent shows what the referrer typed; the manager's later change of a withheld field stays hidden."""
    housing = AgencyFactory(kind=AgencyKind.HOUSING)
    PanelMemberFactory(panel=world.panel, agency=housing)
    user = UserFactory(agency=housing)
    PanelRoleFactory(panel=world.panel, user=user, role=Role.REPRESENTATIVE)
    referrer = signed_in(app, user)
    manager = signed_in(app, world.users["manager"])
    case = refer(referrer, world.panel, marac_form())
    edit(manager, case, **{"victim-gp": "Invented Managers Surgery", "victim-address": MANAGER_ADDRESS})

    response = referrer.get(f"/cases/{case.id}")
    shown = page_of(response)
    assert "Some information is withheld from your agency" in shown
    assert MANAGER_ADDRESS in shown  # contact: the role may see the record's address
    assert "Invented Managers Surgery" not in shown  # health: withheld from housing
    sent = page_text(response).split("Your referral as you sent it", 1)[1]
    for typed in (SENT_ADDRESS, "Fakeside Surgery", "CRIS-TEST-0001"):
        assert typed in sent, typed


def test_the_draft_is_shown_to_its_referrer_as_written(app, world, officer):
    referrer = signed_in(app, officer)
    response = post_form(referrer, f"/panels/{world.panel.id}/referrals/new",
                         {"victim-first_names": "Draftina", "recent_incident": "Half-written draft note.",
                          "action": CaseStatus.DRAFT})
    assert response.status_code == 302
    draft = db.session.execute(db.select(Case).where(Case.referrer_user_id == officer.id)).scalar_one()
    assert draft.sent_referral is None
    shown = page_text(referrer.get(f"/cases/{draft.id}"))
    assert "Your draft" in shown and "Draftina" in shown and "Half-written draft note." in shown


@pytest.mark.parametrize("kind, form, typed", [
    (PanelKind.MACE, mace_form, ("Youngo", "Pretend Academy", "Child criminal exploitation", "Shady",
                                 "Pretend chicken shop", "Invented concerns for testing.")),
    (PanelKind.ASB, asb_form, ("Fakeneighbour", "Noisy", "Flat 2, Pretend House", "Invented behaviour for testing.",
                               "4")),
])
def test_every_kind_of_referral_reads_back_as_sent(app, world, officer, kind, form, typed):
    panel = another_panel(world, kind)
    referrer = signed_in(app, officer)
    case = refer(referrer, panel, form())
    shown = page_text(referrer.get(f"/cases/{case.id}"))
    assert "Your referral as you sent it" in shown
    for value in typed:
        assert value in shown, value


def test_a_referrer_whose_agency_leaves_the_panel_still_sees_only_their_referral(app, world, officer):
    """Any practitioner may refer to an active panel, so the referrer's agency leaving it changes nothing:
    they still see their referral as they sent it, and nothing of the panel's record; once the panel is
    no longer active, only its members and roles know of it."""
    referrer = signed_in(app, officer)
    case = refer(referrer, world.panel, marac_form())
    db.session.execute(db.delete(PanelMember).where(PanelMember.panel_id == world.panel.id,
                                                    PanelMember.agency_id == world.agencies.police.id))
    db.session.commit()
    shown = page_text(referrer.get(f"/cases/{case.id}"))
    assert "Your referral as you sent it" in shown and "Chronology" not in shown
    assert referrer.get(f"/panels/{world.panel.id}/cases").status_code == 403
    fresh(type(world.panel), world.panel.id).is_active = False
    db.session.commit()
    assert referrer.get(f"/cases/{case.id}").status_code == 403


@pytest.mark.no_db_transaction
def test_migration_keeps_what_submitted_cases_said_as_sent(tmp_path):
    """Upgrading to the revision gives every submitted case its answers as sent (drafts none), each
    value sealed for its own column and row; downgrading drops them."""
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": scratch_database_url("sent", tmp_path)})
    with app.app_context():
        reset_schema(db.engine)
        flask_migrate.upgrade()
        init_keys()
        db.session.commit()
        police = AgencyFactory(kind=AgencyKind.POLICE)
        panel = PanelFactory()
        PanelMemberFactory(panel=panel, agency=police)
        referrer = UserFactory(agency=police)
        sent = CaseFactory(panel=panel, referrer=referrer, referral={"history": "Invented: as sent"})
        draft = new_case(referrer, panel)
        save_answers(referrer, draft, {"history": "Invented: a draft"}, submit=False)
        db.session.commit()
        sent_id, draft_id = sent.id, draft.id
        db.session.remove()

        revision = Path(__file__).resolve().parent.parent / "migrations/versions/20261126_0008_sent_referral.py"
        flask_migrate.downgrade(revision=runpy.run_path(str(revision))["down_revision"])
        assert "sent_referral" not in {c["name"] for c in db.inspect(db.engine).get_columns("cases")}
        flask_migrate.upgrade()
        case = db.session.get(Case, sent_id)
        assert case.sent_referral == {"history": "Invented: as sent"}
        assert db.session.get(Case, draft_id).sent_referral is None
        raw = db.session.execute(text("SELECT sent_referral FROM cases WHERE sent_referral IS NOT NULL")).scalar_one()
        assert b"as sent" not in bytes(raw)
        assert decrypt_value(bytes(raw), "cases", "sent_referral", sent_id) == {"history": "Invented: as sent"}
        db.session.remove()
        db.engine.dispose()
