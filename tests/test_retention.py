"""Retention: schedules, legal holds, which cases are due (at the boundaries), and deletion.

Deletion is checked the way an attacker with the database would look: after it, no decrypted value of
any row holds the deleted person's name, address or date of birth; no row holds a ciphertext or blind
index of the deleted rows; and (SQLite) the database file and its WAL hold none of those ciphertexts
after the maintenance step. The statistics give the same figures before and after.
"""
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import Column, ForeignKey, LargeBinary, MetaData, Table, Uuid, select

from config import TestConfig
from marac import create_app
from marac.actions import services as actions
from marac.actions.models import Action, UpdateKind
from marac.agencies.models import AgencyKind
from marac.audit.services import verify
from marac.cases import services as cases
from marac.cases.models import Case, CaseChange, CaseStatus, ClosureOutcome, LegalHold, PartyRole, ScreeningDecision
from marac.core.blind_index import BlindIndex
from marac.core.crypto import Encrypted
from marac.core import timeutil
from marac.core.timeutil import today
from marac.extensions import db
from marac.meetings import services as meetings
from marac.meetings.models import ItemStatus, LawfulBasis
from marac.packs import services as packs
from marac.packs.models import PackKind, PackRender
from marac.panels.models import PanelKind, Role
from marac.retention import services as retention
from marac.retention.services import NOT_CASE_DATA, TOMBSTONE_TABLES, add_years, case_graph, due_on
from marac.sharing.models import DEFAULT_RULES
from marac.sharing.services import set_rules
from marac.stats import services as stats
from tests import helpers
from tests.factories import (AgencyFactory, AgendaItemFactory, CaseFactory, CasePartyFactory, HeldMeetingFactory,
                             PanelFactory, PanelMemberFactory, PanelRoleFactory, PersonFactory, UserFactory)
from tests.helpers import audit_events, fresh, page_text, post_form, signed_in
from tests.test_object_permissions import marac_answers

# Invented, and unusual enough never to occur by chance.
FIRST, LAST = "Zorblina", "Retentiaquox"
ADDRESS = "13 Vanishing Lane, Fabletown"
POSTCODE = "ZZ4 7QJ"
DOB = dt.date(1977, 3, 14)


# --- the mechanism -------------------------------------------------------------------------------

def _reaches_cases(metadata):
    """The tables with a chain of foreign keys to `cases`, worked out apart from case_graph."""
    found, changed = {"cases"}, True
    while changed:
        changed = False
        for table in metadata.sorted_tables:
            if table.name not in found and any(fk.column.table.name in found for fk in table.foreign_keys):
                found.add(table.name)
                changed = True
    return found


def test_every_table_that_refers_to_a_case_is_in_the_case_graph(app):
    tables, _ = case_graph()
    missing = _reaches_cases(db.metadata) - set(tables)
    assert not missing, f"tables that refer to cases but are not deleted with them: {sorted(missing)}"


def test_a_table_added_tomorrow_is_handled_without_listing_it(app):
    """A review of a case, and a note on the review: the walk finds both from the foreign keys alone."""
    metadata = MetaData()
    for table in db.metadata.sorted_tables:
        table.to_metadata(metadata)
    Table("invented_reviews", metadata, Column("id", Uuid, primary_key=True),
          Column("case_id", Uuid, ForeignKey("cases.id"), nullable=True))
    Table("invented_review_notes", metadata, Column("id", Uuid, primary_key=True),
          Column("review_id", Uuid, ForeignKey("invented_reviews.id")), Column("note", LargeBinary))
    tables, edges = case_graph(metadata)
    assert {"invented_reviews", "invented_review_notes"} <= set(tables)
    assert tables.index("invented_reviews") < tables.index("invented_review_notes")  # deleted children first
    # nothing the tables refer to that is shared (panels, users, agencies, meetings) is taken along
    assert not {"panels", "users", "agencies", "meetings"} & set(tables)
    assert {"people", "locations", "person_names"} <= set(tables)


def test_every_table_of_personal_values_is_a_cases_or_says_why_not(app):
    personal = {cls.__table__.name for cls, attr in Encrypted.registry if cls.__dict__[attr].personal}
    tables, _ = case_graph()
    undeclared = personal - set(tables) - set(NOT_CASE_DATA)
    assert not undeclared, f"personal data that retention does not delete (add to NOT_CASE_DATA with why): {undeclared}"
    assert set(TOMBSTONE_TABLES) <= set(tables)


# --- a full case -----------------------------------------------------------------------------------

def build_panel():
    """A MARAC panel with police and the IDVA as members and a user per role."""
    police, idva = AgencyFactory(kind=AgencyKind.POLICE), AgencyFactory(kind=AgencyKind.IDVA)
    council = AgencyFactory(kind=AgencyKind.OTHER)
    panel = PanelFactory()
    for agency in (police, idva):
        PanelMemberFactory(panel=panel, agency=agency)
    users = {"manager": UserFactory(agency=council), "chair": UserFactory(agency=police),
             "representative": UserFactory(agency=idva), "referrer": UserFactory(agency=police),
             "admin": UserFactory(agency=council, is_admin=True)}
    for name, role in (("manager", Role.MANAGER), ("chair", Role.CHAIR), ("representative", Role.REPRESENTATIVE)):
        PanelRoleFactory(panel=panel, user=users[name], role=role)
    set_rules(users["manager"], panel, DEFAULT_RULES)
    return panel, users, idva


def full_case(panel, users, idva, first=FIRST, last=LAST, dob=DOB, address=ADDRESS, postcode=POSTCODE, days_ago=30):
    """A referral made, accepted, viewed, heard at a held meeting with research, minutes (amended), an
    action with an update and a pack built and handed out; closed. Returns (case, meeting)."""
    manager, chair, rep = users["manager"], users["chair"], users["representative"]
    on = today() - dt.timedelta(days=days_ago)
    answers = marac_answers(first, last, dob, address, on)
    answers["victim"]["postcode"] = postcode
    answers["locations"][0]["postcode"] = postcode
    case = cases.new_case(users["referrer"], panel)
    cases.save_answers(users["referrer"], case, answers, submit=True)
    cases.screen(manager, case, ScreeningDecision.ACCEPT, "", True, None)
    cases.record_view(manager, case)
    meeting = meetings.add_meeting(manager, panel, on + dt.timedelta(days=7), dt.time(10), anyway=True)
    item = meetings.list_case(manager, meeting, case)
    meetings.publish(manager, meeting)
    meetings.save_return(rep, item, {"nothing_held": False, "relevant": f"Invented: {first} known to the IDVA",
                                     "to_share": f"Invented: {first} at {address}", "withheld": None,
                                     "withheld_reason": None, "lawful_basis": LawfulBasis.PUBLIC_TASK})
    meetings.share_return(rep, item)
    meetings.open_meeting(manager, meeting)
    attendee = meetings.add_attendee(manager, meeting, "Invented Attendee", "", idva.id, False)
    meetings.agree_confidentiality(manager, meeting, attendee)
    action = actions.add_action(manager, item, idva.id, f"Invented: safety plan for {first}",
                                today() + dt.timedelta(days=7), f"{first} {last}")
    meetings.record_hearing(manager, item, f"Invented: {first} at high risk", f"Invented: minute on {first} {last}",
                            ItemStatus.HEARD, None)
    actions.update_action(rep, action, UpdateKind.PROGRESS, f"Invented: {first} seen", None)
    meetings.close_meeting(manager, meeting)
    meetings.finalise_minutes(manager, meeting)
    meetings.amend_minute(manager, item, f"Invented: amended minute on {first}", "Invented: typo", None)
    packs.build_packs(manager, meeting, PackKind.AGENDA)
    packs.issue_pack(rep, packs.pack_for(rep, meeting, PackKind.AGENDA))
    cases.close_case(manager, case, ClosureOutcome.RISK_REDUCED, f"Invented: {first} moved on")
    db.session.commit()
    return case, meeting


def stored_secrets(case_ids):
    """(ciphertexts, blind-index values) of every row that belongs to the cases."""
    order, doomed = retention._doomed_rows(case_ids)
    blobs, tags = set(), set()
    index_columns = {(e.model.__table__.name, e.attr) for e in BlindIndex.registry}
    for name in order:
        table = db.metadata.tables[name]
        for column in retention._personal_columns(name):
            if not doomed[name]:
                continue
            for value in db.session.execute(select(table.c[column]).where(table.c.id.in_(doomed[name]))).scalars():
                if value is not None:
                    (tags if (name, column) in index_columns else blobs).add(bytes(value) if isinstance(value, (
                        bytes, memoryview)) else value)
    return blobs, tags


def every_stored_value():
    """Every encrypted and blind-index value in the database, raw."""
    found = set()
    for cls, attr in Encrypted.registry:
        column = cls.__table__.c[cls.__dict__[attr].name]
        found |= {bytes(v) for v in db.session.execute(select(column)).scalars() if v is not None}
    for entry in BlindIndex.registry:
        found |= {v for v in db.session.execute(select(entry.model.__table__.c[entry.attr])).scalars() if v}
    return found


def every_plain_text():
    """Every personal value in the database, decrypted, as one text (PDFs aside: they are checked apart)."""
    texts = []
    for cls, attr in Encrypted.registry:
        if cls.__dict__[attr].kind is bytes:
            continue
        for row in db.session.execute(select(cls)).unique().scalars():
            value = getattr(row, attr)
            if value is not None:
                texts.append(json.dumps(value, default=str))
    return "\n".join(texts)


def test_a_deleted_case_leaves_no_personal_value_in_any_row(app):
    panel, users, idva = build_panel()
    case, meeting = full_case(panel, users, idva)
    other, _ = full_case(panel, users, idva, first="Stayina", last="Keptworth", dob=dt.date(1985, 6, 7),
                         address="2 Remaining Road, Fabletown", postcode="ZZ5 5KK", days_ago=60)
    blobs, tags = stored_secrets([case.id])
    # the perpetrator of both invented referrals has the same name and date of birth: the same index
    tags -= stored_secrets([other.id])[1]
    text = every_plain_text()
    assert FIRST in text and ADDRESS in text and DOB.isoformat() in text  # the checks below can fail
    reference, case_id = case.reference, case.id

    retention.delete_cases(None, [case.id])
    db.session.commit()

    text = every_plain_text()
    for secret in (FIRST, LAST, ADDRESS, POSTCODE, DOB.isoformat()):
        assert secret not in text
    stored = every_stored_value()
    assert not blobs & stored, "a ciphertext of the deleted case is still in a row"
    assert not tags & stored, "a blind index of the deleted case is still in a row"
    # the other case, its people and its search are untouched
    assert "Stayina" in text and "2 Remaining Road" in text
    # the tombstone: reference, panel, dates, coded values; nobody opens it; the reference stays taken
    tomb = db.session.get(Case, case_id)
    assert (tomb.reference, tomb.panel_id, tomb.status) == (reference, panel.id, CaseStatus.DELETED)
    assert tomb.referred_on and tomb.closed_at and tomb.deleted_at
    assert tomb.referral is None and tomb.sent_referral is None and tomb.closure_reason is None
    assert all(party.person.first_names is None and not party.person.names for party in tomb.parties)
    assert not tomb.can_view(users["manager"]) and not tomb.can_view(users["referrer"])
    assert db.session.execute(select(Case).where(Case.reference == reference)).scalar().id == case_id
    # the meeting's pack held the case: its PDF is gone, its hash and issues stay for tracing
    renders = db.session.execute(select(PackRender).where(PackRender.meeting_id == meeting.id)).scalars().all()
    assert renders and all(r.pdf is None and r.deleted_at for r in renders)
    # audited by id, and the chain still verifies
    assert audit_events("retention.case_deleted", str(case_id))
    verify()


def test_a_person_named_in_a_case_that_stays_is_kept(app):
    panel, users, idva = build_panel()
    case, _ = full_case(panel, users, idva)
    keeper = CaseFactory(panel=panel, referrer=users["referrer"], status=CaseStatus.ACCEPTED)
    victim = next(p.person for p in case.parties if p.role == PartyRole.VICTIM)
    CasePartyFactory(case=keeper, person=victim, role=PartyRole.VICTIM)
    db.session.commit()
    retention.delete_cases(None, [case.id])
    db.session.commit()
    db.session.refresh(victim)
    assert victim.first_names == FIRST and victim.names


def test_a_case_under_a_legal_hold_is_never_deleted(app):
    panel, users, idva = build_panel()
    case = CaseFactory(panel=panel, referrer=users["referrer"], status=CaseStatus.SCREENED_OUT,
                       referred_on=dt.date(2015, 1, 5), screened_at=dt.datetime(2015, 1, 6, 12, tzinfo=dt.timezone.utc))
    cases.place_hold(users["manager"], case, "Invented: civil proceedings")
    due = [d for d in retention.due_cases() if d.case_id == case.id]
    assert len(due) == 1 and due[0].held
    result = retention.run()
    assert case.id not in [d.case_id for d in result.deleted]
    db.session.refresh(case)
    assert case.status == CaseStatus.SCREENED_OUT
    with pytest.raises(Exception, match="legal hold"):
        retention.delete_cases(None, [case.id])
    cases.lift_hold(users["manager"], case.active_hold, "Invented: proceedings over")
    assert case.id in [d.case_id for d in retention.run().deleted]


# --- boundaries ------------------------------------------------------------------------------------

def marac_case(panel, users, referred_on, heard_on=None):
    case = CaseFactory(panel=panel, referrer=users["referrer"], status=CaseStatus.ACCEPTED, referred_on=referred_on)
    if heard_on:
        AgendaItemFactory(meeting=HeldMeetingFactory(panel=panel, meets_on=heard_on), case=case)
    return case


def due_ids(on):
    return {d.case_id for d in retention.due_cases(on)}


def test_marac_cases_go_six_years_after_the_last_hearing_or_referral(app):
    panel, users, _ = build_panel()
    referred = marac_case(panel, users, dt.date(2018, 3, 1))
    heard = marac_case(panel, users, dt.date(2018, 3, 1), heard_on=dt.date(2018, 9, 12))
    for case, last in ((referred, dt.date(2018, 3, 1)), (heard, dt.date(2018, 9, 12))):
        end = dt.date(2024, last.month, last.day)
        assert case.id not in due_ids(end - dt.timedelta(days=1))  # the day before
        assert case.id in due_ids(end)  # the day of
        assert case.id in due_ids(end + dt.timedelta(days=400))  # after


def test_an_asb_case_goes_six_years_after_closure_and_never_while_open(app):
    panel = PanelFactory(kind=PanelKind.ASB)
    referrer = UserFactory()
    closed = CaseFactory(panel=panel, referrer=referrer, status=CaseStatus.CLOSED, referred_on=dt.date(2016, 1, 4),
                         closed_at=dt.datetime(2017, 5, 10, 12, tzinfo=dt.timezone.utc))
    open_ = CaseFactory(panel=panel, referrer=referrer, status=CaseStatus.ACCEPTED, referred_on=dt.date(2010, 1, 4))
    assert closed.id not in due_ids(dt.date(2023, 5, 9))
    assert closed.id in due_ids(dt.date(2023, 5, 10))
    assert open_.id not in due_ids(dt.date(2040, 1, 1))


def mace_case(panel, referrer, dob, closed_on):
    case = CaseFactory(panel=panel, referrer=referrer, status=CaseStatus.CLOSED, referred_on=closed_on,
                       closed_at=dt.datetime.combine(closed_on, dt.time(12), tzinfo=dt.timezone.utc))
    person = PersonFactory()
    person.date_of_birth = dob
    CasePartyFactory(case=case, person=person, role=PartyRole.YOUNG_PERSON)
    return case


def test_a_mace_case_is_kept_until_25_and_six_years_after_closure_whichever_is_later(app):
    panel, referrer = PanelFactory(kind=PanelKind.MACE), UserFactory()
    # closed at 14: 25 comes later than closure + 6 years
    young = mace_case(panel, referrer, dt.date(2004, 8, 20), dt.date(2018, 11, 1))
    assert young.id not in due_ids(dt.date(2029, 8, 19))
    assert young.id in due_ids(dt.date(2029, 8, 20))
    # closed at 22: closure + 6 years comes later than 25
    older = mace_case(panel, referrer, dt.date(1996, 2, 3), dt.date(2018, 4, 2))
    assert older.id not in due_ids(dt.date(2024, 4, 1))
    assert older.id in due_ids(dt.date(2024, 4, 2))
    # the administrator's schedule is followed: 30, and 8 years
    retention.update_schedule(UserFactory(is_admin=True), panel, 8, 30)
    assert young.id not in due_ids(dt.date(2034, 8, 19)) and young.id in due_ids(dt.date(2034, 8, 20))
    assert older.id not in due_ids(dt.date(2026, 4, 1)) and older.id in due_ids(dt.date(2026, 4, 2))


def test_each_rule_finds_its_case_on_the_day_it_falls_due_and_not_the_day_before(app):
    """Every branch of what is read as possibly due, at its boundary: a draft last saved on a day (its
    last change, not its creation), a MARAC case referred on 29 February, a screened-out and a closed
    ASB case."""
    panel, users, _ = build_panel()
    asb, utc = PanelFactory(kind=PanelKind.ASB), dt.timezone.utc
    draft = CaseFactory(panel=panel, referrer=users["referrer"], status=CaseStatus.DRAFT, referred_on=None,
                        created_at=dt.datetime(2017, 1, 2, 9, tzinfo=utc))
    db.session.add(CaseChange(case_id=draft.id, at=dt.datetime(2017, 6, 20, 23, 30, tzinfo=utc), action="edited"))
    leap = marac_case(panel, users, dt.date(2016, 2, 29))
    screened = CaseFactory(panel=asb, referrer=users["referrer"], status=CaseStatus.SCREENED_OUT,
                           referred_on=dt.date(2016, 1, 4), screened_at=dt.datetime(2016, 7, 8, 0, 5, tzinfo=utc))
    closed = CaseFactory(panel=asb, referrer=users["referrer"], status=CaseStatus.CLOSED,
                         referred_on=dt.date(2016, 1, 4), closed_at=dt.datetime(2016, 10, 31, 23, 59, tzinfo=utc))
    db.session.flush()
    for case, due in ((draft, dt.date(2023, 6, 20)), (leap, dt.date(2022, 2, 28)),
                      (screened, dt.date(2022, 7, 8)), (closed, dt.date(2022, 10, 31))):
        assert case.id not in due_ids(due - dt.timedelta(days=1)), case.status
        assert case.id in due_ids(due), case.status


def test_only_the_cases_that_could_be_due_are_judged(app, monkeypatch):
    """The administrator's page and the daily run read the cases old enough to be due, not every case
    (at 100,000 cases the page took 1.6 s judging them all): 40 recent cases and two old ones, and the
    rule is applied to the two."""
    panel, users, _ = build_panel()
    old = [marac_case(panel, users, dt.date(2017, 5, d)) for d in (1, 2)]
    for n in range(40):
        marac_case(panel, users, dt.date(2026, 1, 1) + dt.timedelta(days=n))
    judged = []

    def counted(*args):
        judged.append(args)
        return due_on(*args)

    monkeypatch.setattr(retention, "due_on", counted)
    assert due_ids(dt.date(2026, 12, 7)) == {case.id for case in old}
    assert len(judged) == 2


def test_add_years_keeps_the_day_or_falls_back_from_29_february():
    assert add_years(dt.date(2020, 2, 29), 6) == dt.date(2026, 2, 28)
    assert add_years(dt.date(2019, 9, 30), 6) == dt.date(2025, 9, 30)


# --- the statistics ----------------------------------------------------------------------------------

def tables_of(found):
    return {key: [[cell.text for cell in row] for row in table.rows] for key, table in found.tables.items()}


def test_the_statistics_of_a_period_are_the_same_after_its_cases_are_deleted(app):
    from tests.test_stats import Q2, build_small_panel

    small = build_small_panel()
    db.session.commit()
    before = stats.figures_for(small.panel, Q2, with_return=True)
    case_ids = db.session.execute(select(Case.id).where(Case.panel_id == small.panel.id)).scalars().all()
    assert len(case_ids) > 10
    retention.delete_cases(None, case_ids)
    db.session.commit()
    assert all(c.status == CaseStatus.DELETED for c in db.session.execute(
        select(Case).where(Case.id.in_(case_ids))).scalars())
    after = stats.figures_for(small.panel, Q2, with_return=True)
    assert tables_of(after) == tables_of(before)
    assert [[c.text for c in row] for row in after.safelives_return.rows] == \
        [[c.text for c in row] for row in before.safelives_return.rows]


def test_mace_and_asb_statistics_keep_their_coded_categories(app):
    from marac.cases.models import RiskLevel
    from marac.cases.questions import AsbCategory, ExploitationType
    from tests.test_stats import Q2

    for kind in (PanelKind.MACE, PanelKind.ASB):
        panel, referrer = PanelFactory(kind=kind), UserFactory()
        meeting = HeldMeetingFactory(panel=panel, meets_on=dt.date(2025, 5, 6))
        for n in range(12):
            codes = ({"exploitation_types": [ExploitationType.CRIMINAL], "needs": ["invented"]}
                     if kind == PanelKind.MACE else {"categories": [AsbCategory.DRUGS], "response_days": 3})
            case = CaseFactory(panel=panel, referrer=referrer, status=CaseStatus.ACCEPTED, codes=codes,
                               referred_on=dt.date(2025, 4, 28), risk_level=RiskLevel.HIGH if n < 7 else RiskLevel.MEDIUM,
                               screened_at=dt.datetime(2025, 4, 30, 12, tzinfo=dt.timezone.utc))
            CasePartyFactory(case=case, person=PersonFactory(), role=PartyRole.YOUNG_PERSON
                             if kind == PanelKind.MACE else PartyRole.COMPLAINANT)
            AgendaItemFactory(meeting=meeting, case=case)
        db.session.commit()
        before = tables_of(stats.figures_for(panel, Q2))
        ids = db.session.execute(select(Case.id).where(Case.panel_id == panel.id)).scalars().all()
        retention.delete_cases(None, ids)
        db.session.commit()
        assert tables_of(stats.figures_for(panel, Q2)) == before
        # only the codes the statistics read are kept
        assert all("needs" not in (c.codes or {}) for c in db.session.execute(
            select(Case).where(Case.id.in_(ids))).scalars())


# --- the run and its command -------------------------------------------------------------------------

def old_closed_case(panel, users, year=2015):
    return CaseFactory(panel=panel, referrer=users["referrer"], status=CaseStatus.CLOSED,
                       referred_on=dt.date(year, 2, 2), closed_at=dt.datetime(year, 3, 3, 12, tzinfo=dt.timezone.utc))


def test_the_dry_run_lists_reference_and_date_and_deletes_nothing(app):
    panel, users, _ = build_panel()
    case = old_closed_case(panel, users)
    db.session.commit()
    events = len(audit_events("retention.case_deleted"))
    result = app.test_cli_runner().invoke(args=["retention", "run", "--dry-run"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith(case.reference))
    assert "due 2021-02-02" in line
    assert "nothing was deleted" in result.output
    assert db.session.get(Case, case.id).status == CaseStatus.CLOSED
    assert len(audit_events("retention.case_deleted")) == events


# --- pages ---------------------------------------------------------------------------------------------

def test_the_manager_places_and_lifts_a_legal_hold_and_sees_the_panels_holds(app):
    panel, users, _ = build_panel()
    case = CaseFactory(panel=panel, referrer=users["referrer"], status=CaseStatus.ACCEPTED)
    db.session.commit()
    client = signed_in(app, users["manager"])
    url = f"/cases/{case.id}/hold"
    response = post_form(client, url, {"reason": "  "})
    assert "Give the reason for the legal hold" in page_text(response)
    response = post_form(client, url, {"reason": "Invented: family court proceedings"})
    assert response.status_code == 302
    hold = db.session.execute(select(LegalHold).where(LegalHold.case_id == case.id)).scalar()
    assert hold.reason == "Invented: family court proceedings" and audit_events("case.hold_placed", str(case.id))
    page = page_text(client.get(f"/cases/{case.id}"))
    assert "Under a legal hold since" in page
    assert case.reference in page_text(client.get(f"/panels/{panel.id}/holds"))
    # the chair sees the hold on the case page, but may neither lift it nor list the holds
    chair = signed_in(app, users["chair"])
    assert "Under a legal hold since" in page_text(chair.get(f"/cases/{case.id}"))
    assert chair.get(f"/holds/{hold.id}/lift").status_code == 403
    assert chair.get(f"/panels/{panel.id}/holds").status_code == 403
    lift = f"/holds/{hold.id}/lift"
    assert "Invented: family court proceedings" in page_text(client.get(lift))
    assert "Give the reason for lifting" in page_text(post_form(client, lift, {"reason": ""}))
    assert post_form(client, lift, {"reason": "Invented: proceedings ended"}).status_code == 302
    hold = fresh(LegalHold, hold.id)
    assert hold.lifted_at and hold.lift_reason == "Invented: proceedings ended"
    assert audit_events("case.hold_lifted", str(case.id))
    assert "No case of this panel is under a legal hold" in page_text(client.get(f"/panels/{panel.id}/holds"))
    assert client.get(lift).status_code == 403  # lifted already


def test_the_administrator_sets_a_schedule_and_sees_what_the_run_will_delete(app):
    panel, users, _ = build_panel()
    case = old_closed_case(panel, users)
    held = old_closed_case(panel, users, 2014)
    cases.place_hold(users["manager"], held, "Invented: inquiry")
    db.session.commit()
    client = signed_in(app, users["admin"])
    page = page_text(client.get("/admin/retention"))
    assert "6 years after the last hearing or referral" in page
    assert case.reference in page and held.reference in page and "2 February 2021" in page
    url = f"/admin/retention/panels/{panel.id}"
    for years, message in (("0", "between 1 and 75 years"), ("many", "must be a whole number"),
                           ("", "Enter how many years")):
        response = post_form(client, url, {"years": years})
        assert response.status_code == 200 and message in page_text(response)
    response = post_form(client, url, {"years": "12"})
    assert response.status_code == 302
    assert retention.schedule_of(panel).years == 12 and audit_events("retention.schedule_set", str(panel.id))
    assert case.reference not in page_text(client.get("/admin/retention"))  # 2015 + 12 is still to come
    assert signed_in(app, users["manager"]).get("/admin/retention").status_code == 403


def test_a_mace_schedule_asks_for_the_age_limit(app):
    admin = UserFactory(is_admin=True)
    panel = PanelFactory(kind=PanelKind.MACE)
    db.session.commit()
    client = signed_in(app, admin)
    url = f"/admin/retention/panels/{panel.id}"
    assert "Until the young person is 25, and at least 6 years after closure" in page_text(client.get("/admin/retention"))
    assert "The age must be between 18 and 30" in page_text(post_form(client, url, {"years": "6", "age_limit": "40"}))
    assert "Enter the age" in page_text(post_form(client, url, {"years": "6", "age_limit": ""}))
    assert post_form(client, url, {"years": "7", "age_limit": "21"}).status_code == 302
    assert retention.schedule_of(panel).age_limit == 21


# --- the files (SQLite) and the command's maintenance step -----------------------------------------

@pytest.mark.no_db_transaction
def test_deleted_values_are_gone_from_the_database_files(tmp_path):
    url = helpers.scratch_database_url("retention_files", tmp_path)
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url})
    helpers.migrate_fresh(app)
    with app.app_context():
        panel, users, idva = build_panel()
        case, _ = full_case(panel, users, idva, days_ago=30)
        blobs, tags = stored_secrets([case.id])
        assert len(blobs) > 20 and tags
        db.session.commit()  # (the maintenance step runs outside any transaction)
        sqlite = db.engine.dialect.name == "sqlite"
        if sqlite:
            path = Path(db.engine.url.database)
            retention.scrub_files([])  # checkpoint: every value is in the main file now
            raw = path.read_bytes()
            assert sum(blob[:48] in raw for blob in blobs) > len(blobs) // 2  # the check can see them
        timeutil.set_offset(dt.timedelta(days=7 * 366))  # seven years on: past its retention date
        try:
            result = app.test_cli_runner().invoke(args=["retention", "run"])
        finally:
            timeutil.set_offset(None)
        assert result.exit_code == 0, result.output
        assert case.reference in result.output and "Deleted 1 case(s)" in result.output
        db.session.remove()
        assert db.session.get(Case, case.id).status == CaseStatus.DELETED
        db.session.commit()
        verified = app.test_cli_runner().invoke(args=["audit", "verify"])
        assert verified.exit_code == 0 and verified.output.startswith("OK"), verified.output
        stored = every_stored_value()
        db.session.commit()
        assert not blobs & stored and not tags & stored
        if sqlite:
            raw = path.read_bytes()
            wal = Path(f"{path}-wal")
            raw += wal.read_bytes() if wal.exists() else b""
            left = [blob for blob in blobs if blob[:48] in raw or blob[-32:] in raw]
            assert not left, f"{len(left)} ciphertexts of the deleted case are still in the file"
            for tag in tags:
                assert tag.encode() not in raw
            for secret in (FIRST, LAST, ADDRESS, POSTCODE):
                assert secret.encode() not in raw
        db.session.remove()
        db.engine.dispose()


def test_the_demo_has_old_cases_past_retention_and_one_under_a_legal_hold(app):
    from marac.demo.cases import seed_old_cases

    panel, users, _ = build_panel()
    asb = PanelFactory(kind=PanelKind.ASB)
    PanelMemberFactory(panel=asb, agency=users["chair"].agency)
    PanelRoleFactory(panel=asb, user=users["manager"], role=Role.MANAGER)
    panels = {"marac": panel, "asb": asb}
    assert seed_old_cases(panels, users) == 5
    assert seed_old_cases(panels, users) == 0  # idempotent
    due = retention.due_cases()
    assert len(due) == 5 and sum(d.held for d in due) == 1
    assert all(d.reference for d in due)
    result = retention.run()
    assert len(result.deleted) == 4
    assert seed_old_cases(panels, users) == 0  # the tombstones stay: the demo does not bring them back


def test_a_tombstone_is_on_no_list_and_its_pages_are_closed(app):
    panel, users, idva = build_panel()
    case, meeting = full_case(panel, users, idva)
    action_id = db.session.execute(select(Action.id).where(Action.case_id == case.id)).scalar()
    reference, case_id = case.reference, case.id
    manager, rep = signed_in(app, users["manager"]), signed_in(app, users["representative"])
    assert reference in page_text(manager.get(f"/panels/{panel.id}/cases?status=closed"))
    assert reference in page_text(rep.get("/actions"))
    retention.delete_cases(None, [case_id])
    db.session.commit()
    assert reference not in page_text(manager.get(f"/panels/{panel.id}/cases"))
    assert reference not in page_text(post_form(manager, f"/panels/{panel.id}/cases/search", {"reference": reference},
                                                token_from=f"/panels/{panel.id}/cases"))
    assert reference not in page_text(manager.get(f"/panels/{panel.id}/actions"))
    assert reference not in page_text(rep.get("/actions"))
    assert reference not in page_text(signed_in(app, users["referrer"]).get("/referrals/mine"))
    assert manager.get(f"/cases/{case_id}").status_code == 403
    assert rep.get(f"/actions/{action_id}").status_code == 403
    # the meeting it was heard at still opens, for its other records
    assert manager.get(f"/meetings/{meeting.id}").status_code == 200
