"""`flask demo seed --cases N` (marac/demo/scale.py): bulk cases, encrypted and indexed as the services
do it, with repeats exactly where the plan put them and no fake name in the stored database."""
import datetime as dt
import subprocess
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import LargeBinary, func, select

from config import TestConfig
from marac import create_app
from marac.actions.models import Action, ActionStatus
from marac.audit.models import AuditEvent
from marac.audit.services import verify
from marac.cases import services
from marac.cases.models import Case, CaseParty, CaseStatus, PartyRole, ReferenceCounter, reference_parts
from marac.demo.scale import seed_at_scale
from marac.extensions import db
from marac.meetings.models import AgendaItem
from marac.panels.models import PanelKind
from marac.core.blind_index import matching
from marac.people.models import LocationKind, Person, PersonName
from marac.people.services import build_location, build_person, name_dob_condition, name_indexes
from tests import helpers

pytestmark = pytest.mark.no_db_transaction
COUNT = 300


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    """A committed scratch database: the test world, then COUNT cases seeded in bulk on its panel (in
    batches of 128, so that repeats cross batches, built by two worker processes)."""
    tmp_path = tmp_path_factory.mktemp("scale")
    url = helpers.scratch_database_url("scale", tmp_path)
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url})
    helpers.migrate_fresh(app)
    with app.app_context():
        world = helpers.build_world()
        db.session.commit()
        before = {case_id for case_id in db.session.execute(select(Case.id)).scalars()}
        result = seed_at_scale(world.panel, COUNT, seed=13, batch_size=128, workers=2)
        ids = [case_id for case_id in db.session.execute(select(Case.id)).scalars() if case_id not in before]
        state = SimpleNamespace(app=app, url=url, result=result, ids=ids, panel_id=world.panel.id,
                                users={name: user.id for name, user in world.users.items()},
                                members={m.agency_id for m in world.panel.members})
        db.session.remove()
    yield state
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def seeded_cases(state):
    return db.session.execute(select(Case).where(Case.id.in_(state.ids)).order_by(Case.referred_on)).scalars().all()


def test_adds_the_cases_asked_for_with_a_realistic_spread(scaled):
    assert scaled.result.cases == COUNT == len(scaled.ids)
    with scaled.app.app_context():
        cases = seeded_cases(scaled)
        statuses = Counter(case.status for case in cases)
        assert set(statuses) <= {CaseStatus.DRAFT, CaseStatus.SUBMITTED, CaseStatus.ACCEPTED, CaseStatus.CLOSED,
                                 CaseStatus.SCREENED_OUT}
        assert statuses[CaseStatus.ACCEPTED] + statuses[CaseStatus.CLOSED] > COUNT * 0.7
        assert statuses[CaseStatus.DRAFT] < COUNT * 0.05
        span = (cases[-1].referred_on - cases[0].referred_on).days
        assert 3 * 365 < span <= 4 * 365
        assert {case.referring_agency_id for case in cases} == scaled.members
        references = [case.reference for case in cases if case.status != CaseStatus.DRAFT]
        assert len(set(references)) == len(references) and all(r.startswith("MARAC-") for r in references)
        assert all(case.reference is None for case in cases if case.status == CaseStatus.DRAFT)
        # The references came from the counters next_reference uses: the next referral goes on from them.
        for year, last in db.session.execute(select(ReferenceCounter.year, ReferenceCounter.last)
                                             .where(ReferenceCounter.prefix == PanelKind.MARAC)):
            numbers = [int(r.rsplit("-", 1)[1]) for r in references if r.startswith(f"MARAC-{year}-")]
            assert not numbers or max(numbers) == last


def test_the_columns_the_lists_order_by_are_filled_as_the_services_fill_them(scaled):
    """A reference's year and number (the case list sorts references as numbers) and each action's panel
    (the actions lists read it from its index) are set on the bulk rows as the models set them."""
    with scaled.app.app_context():
        for case in seeded_cases(scaled):
            assert (case.reference_year, case.reference_number) == reference_parts(case.reference)
            if case.reference:
                assert case.reference_number is not None
        actions = db.session.execute(select(Action).where(Action.case_id.in_(scaled.ids))).scalars().all()
        assert actions and all(action.panel_id == scaled.panel_id for action in actions)


def test_every_case_reads_back_through_the_models(scaled):
    with scaled.app.app_context():
        for case in seeded_cases(scaled):
            victim = case.referral["victim"]
            assert case.referred_on.isoformat() == case.referral["referred_on"]
            if case.status == CaseStatus.DRAFT:
                assert case.parties == [] and case.sent_referral is None
                continue
            assert case.sent_referral == case.referral
            subject = case.subject
            assert subject.full_name == f"{victim['first_names']} {victim['last_name']}"
            assert subject.date_of_birth.isoformat() == victim["date_of_birth"]
            assert subject.postcode == victim["postcode"]
            others = [party.role for party in case.parties if party.role != PartyRole.VICTIM]
            assert 1 <= len(others) <= 3 and others[0] == PartyRole.PERPETRATOR
            assert len(others) - 1 == case.codes["children"] == len(case.referral["children"])
            assert case.risk_score is not None and case.risk_level
        items = db.session.execute(select(AgendaItem).where(AgendaItem.case_id.in_(scaled.ids))).scalars().all()
        assert items and all(item.minute and item.risk_summary for item in items)


def test_the_people_are_indexed_as_the_services_index_them(scaled):
    with scaled.app.app_context():
        case = next(c for c in seeded_cases(scaled) if c.status == CaseStatus.ACCEPTED)
        subject = case.subject
        by_name = db.session.execute(select(PersonName.person_id).where(
            name_dob_condition(subject.full_name, subject.date_of_birth))).scalars().all()
        assert subject.id in by_name
        by_postcode = db.session.execute(select(Person.id).where(
            matching(Person.postcode_index, "postcode", subject.postcode))).scalars().all()
        assert subject.id in by_postcode
        # A fresh build of the same answers gives the same blind indexes.
        built = build_person(case.referral["victim"], case.referred_on, ("gp",))
        assert built.postcode_index == subject.postcode_index
        assert [n.name_dob_index for n in built.names] == [n.name_dob_index for n in subject.names]
        assert [n.sound_year_index for n in built.names] == [n.sound_year_index for n in subject.names]


@pytest.mark.parametrize("kind", ["person", "location"])
def test_bulk_rows_are_what_the_services_build(scaled, kind):
    """scale.Rows builds people and locations without ORM objects: the same columns, blind indexes and
    (decrypted) values as build_person and build_location."""
    from marac.core.crypto import decrypt_value
    from marac.demo.scale import Rows

    answers = {"first_names": " Zebulina ", "last_name": "Shamcroft", "aliases": "Zeb Shamcroft; Other Name",
               "date_of_birth": "1990-02-03", "postcode": "ZZ9 9ZZ", "address": "1 Madeup Avenue", "phone": "",
               "gender": "female", "ethnic_group": "", "gp": "Demo Surgery", "language": "English", "kind": "premises",
               "description": "Demo hotspot"}
    with scaled.app.app_context():
        rows = Rows()
        if kind == "person":
            built = build_person(answers, dt.date(2025, 1, 1), ("gp", "language", "safe_to_call"))
            row, names = rows.person(answers, dt.date(2025, 1, 1), ("gp", "language", "safe_to_call"), None)
            pairs = [(built, row)] + list(zip(built.names, names, strict=True))
        else:
            built = build_location(answers, LocationKind.HOTSPOT)
            pairs = [(built, rows.location(answers, LocationKind.HOTSPOT, None))]
        for obj, row in pairs:
            table = obj.__table__
            assert set(row) == {column.name for column in table.columns}
            for column in table.columns:
                name = column.name
                if name in ("id", "created_at", "person_id"):
                    continue
                if isinstance(column.type, LargeBinary):
                    plain = getattr(obj, name)
                    assert (row[name] is None) == (plain is None), name
                    if plain is not None:
                        assert decrypt_value(row[name], table.name, name, row["id"]) == plain, name
                else:
                    assert row[name] == getattr(obj, name), name
        db.session.rollback()


def test_repeats_are_flagged_exactly_as_detect_repeat_would(scaled):
    with scaled.app.app_context():
        cases = [case for case in seeded_cases(scaled) if case.status != CaseStatus.DRAFT]
        stored = {case.id: (case.is_repeat, case.repeat_of_id) for case in cases}
        repeats = [case for case in cases if case.is_repeat]
        assert 0.15 * len(cases) < len(repeats) < 0.45 * len(cases)
        for case in repeats:
            assert name_indexes(case.subject) & name_indexes(case.repeat_of.subject)
        with db.session.begin_nested():
            for case in cases:
                again = services.detect_repeat(None, case)
                assert (again is not None, again.id if again else None) == stored[case.id], case.reference
            db.session.rollback()
        db.session.rollback()


def test_no_subject_is_referred_more_than_five_times(scaled):
    with scaled.app.app_context():
        per_subject = Counter(db.session.execute(
            select(PersonName.name_dob_index).join(CaseParty, CaseParty.person_id == PersonName.person_id)
            .where(CaseParty.case_id.in_(scaled.ids), CaseParty.role == PartyRole.VICTIM,
                   PersonName.is_alias.is_(False))).scalars())
        assert max(per_subject.values()) <= 5
        assert sum(1 for n in per_subject.values() if n == 1) > len(per_subject) / 2
        assert any(n >= 3 for n in per_subject.values())


def test_heard_cases_have_actions_for_member_agencies(scaled):
    with scaled.app.app_context():
        actions = db.session.execute(select(Action).where(Action.case_id.in_(scaled.ids))).scalars().all()
        heard = db.session.execute(select(func.count()).select_from(AgendaItem)
                                   .where(AgendaItem.case_id.in_(scaled.ids))).scalar()
        assert 0.8 * heard < len(actions) < 1.5 * heard
        assert {action.owner_agency_id for action in actions} <= scaled.members
        statuses = Counter(action.status for action in actions)
        assert statuses[ActionStatus.DONE] and statuses[ActionStatus.OPEN]
        assert all(action.description for action in actions)
        assert all(action.due_on > action.item.meeting.meets_on for action in actions)


def test_one_audit_event_and_the_chain_verifies(scaled):
    with scaled.app.app_context():
        events = db.session.execute(select(AuditEvent).where(AuditEvent.action == "demo.seeded_at_scale",
                                                             AuditEvent.object_id == str(scaled.panel_id))
                                    ).scalars().all()
        assert len(events) == 1
        assert events[0].detail["cases"] == COUNT and events[0].detail["panel_kind"] == "MARAC"
        assert not db.session.execute(select(AuditEvent).where(AuditEvent.object_id.in_([str(i) for i in scaled.ids]))
                                      ).first()
        verify()


def test_no_fake_name_in_the_stored_database(scaled):
    with scaled.app.app_context():
        subjects = [case.subject for case in seeded_cases(scaled)[:20] if case.subject]
        needles = [needle for person in subjects for needle in (person.full_name, person.last_name)]
        db.session.remove()
        db.engine.dispose()  # SQLite: the WAL stays, as the scan wants
    if scaled.url.startswith("sqlite"):
        path = Path(scaled.url.removeprefix("sqlite:///"))
        blobs = [(p.name, p.read_bytes()) for p in (path, Path(f"{path}-wal")) if p.exists()]
    else:
        parts = urlsplit(scaled.url)
        blobs = [("pg_dump", subprocess.run(
            ["pg_dump", "-h", parts.hostname, "-p", str(parts.port or 5432), "-U", parts.username or "postgres",
             "--data-only", parts.path.lstrip("/")], check=True, capture_output=True).stdout)]
        assert b"COPY public.people" in blobs[0][1]
    assert needles
    for label, blob in blobs:
        for needle in needles:
            assert needle.encode() not in blob and needle.lower().encode() not in blob.lower(), label


def test_other_kinds_of_panel(scaled):
    with scaled.app.app_context():
        from marac.panels.models import Panel

        panel = db.session.get(Panel, scaled.panel_id)
        for kind in (PanelKind.MACE, PanelKind.ASB):
            world = SimpleNamespace(users={name: db.session.get(helpers.User, user_id)
                                           for name, user_id in scaled.users.items()},
                                    agencies=SimpleNamespace(**{
                                        "police": panel.members[0].agency, "idva": panel.members[1].agency}))
            other = helpers.another_panel(world, kind=kind)
            db.session.commit()
            result = seed_at_scale(other, 40, seed=7)
            assert result.cases == 40
            for case in db.session.execute(select(Case).where(Case.panel_id == other.id)).scalars():
                if case.status == CaseStatus.DRAFT:
                    continue
                assert case.subject.full_name and case.subject_role in {p.role for p in case.parties}
                assert [link.location.postcode for link in case.locations] == [
                    location["postcode"] for location in case.referral.get("locations") or []]
        db.session.remove()


def test_the_command(scaled, monkeypatch):
    from marac.panels.models import Panel

    runner = scaled.app.test_cli_runner()
    assert "go with --cases" in runner.invoke(args=["demo", "seed", "--panel", "mace"]).output
    with scaled.app.app_context():
        db.session.get(Panel, scaled.panel_id).name = "Camden MARAC"  # the demo panel: no base seed needed
        db.session.commit()
        before = db.session.execute(select(func.count()).select_from(Case)).scalar()
        db.session.remove()
    result = runner.invoke(args=["demo", "seed", "--cases", "25"])
    assert result.exit_code == 0, result.output
    assert "Added 25 cases to Camden MARAC" in result.output and "cases/s" in result.output
    with scaled.app.app_context():
        assert db.session.execute(select(func.count()).select_from(Case)).scalar() == before + 25
        db.session.remove()
    monkeypatch.setitem(scaled.app.config, "ENV_NAME", "production")
    refused = runner.invoke(args=["demo", "seed", "--cases", "5"])
    assert refused.exit_code != 0 and "not for production" in refused.output
