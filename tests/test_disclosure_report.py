"""The disclosure report: every sharing record and every audit event of a case (or of a person's cases),
for the panel's manager and the data protection officer, as a page and a CSV; and the index of the
objects audit events name (audit_event_refs) that finds them."""
import csv
import datetime as dt
import io
import json
import uuid

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marac.agencies.models import AgencyKind
from marac.audit.models import AuditEvent, AuditEventRef
from marac.audit.services import append_pending, record
from marac.cases.models import Case, CaseLocation, CaseParty, CaseStatus, PartyRole
from marac.cases.services import record_view
from marac.core.timeutil import today
from marac.disclosures.models import ReportRowKind
from marac.extensions import db
from marac.panels.models import PanelKind, Role
from marac.people.services import build_person
from marac.sharing.models import Category, SharingRecord
from marac.users.models import User
from tests.factories import CaseFactory, PanelRoleFactory, UserFactory
from tests.helpers import another_panel, fresh, audit_events, page_text, post_form, sign_in, soup

NAME, DOB = "Testina Fakeperson", "1990-01-01"
SHARED, EVENT = ReportRowKind.SHARED.label, ReportRowKind.EVENT.label  # the Kind column, as people read it


def add_victim(case, last_name="Fakeperson", dob=DOB):
    case.parties.append(CaseParty(role=PartyRole.VICTIM, person=build_person(
        {"first_names": "Testina", "last_name": last_name, "date_of_birth": dob, "postcode": "ZZ9 9ZZ"})))
    db.session.commit()
    return case.parties[-1]


def viewed_by_two_agencies(app, world):
    """The world's accepted case viewed by the police chair and the IDVA representative (through the
    case page), and the other case viewed by the chair: sharing records and events of both."""
    add_victim(world.accepted)
    for kind in ("chair", "representative"):
        client = app.test_client()
        sign_in(client, world.users[kind])
        assert client.get(f"/cases/{world.accepted.id}").status_code == 200
    client = app.test_client()
    sign_in(client, world.users["chair"])
    assert client.get(f"/cases/{world.case.id}").status_code == 200
    return world


def csv_rows(response):
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    return rows[0], rows[1:]


def page_rows(response):
    """The report table's rows as the CSV holds them: one list of cell texts per row."""
    rows = []
    for tr in soup(response).select("table.govuk-table tbody tr"):
        cells = tr.find_all("td")
        user_cell = cells[4]
        agency = user_cell.find("span")
        agency_text = agency.get_text(strip=True) if agency else ""
        if agency:
            agency.extract()
        rows.append([cells[0].get_text(strip=True), cells[1].get_text(strip=True), cells[2].get_text(strip=True),
                     cells[3].get_text(strip=True), user_cell.get_text(strip=True), agency_text,
                     cells[5].get_text(strip=True), cells[6].get_text(strip=True)])
    return rows


def events_naming(ids):
    """The oracle: every event whose object id or detail names one of the ids, read the slow way."""
    wanted = {str(i) for i in ids}
    found = set()
    for event in db.session.execute(select(AuditEvent)).scalars():
        text = json.dumps(event.detail or {})
        if event.object_id in wanted or any(i in text for i in wanted):
            found.add(event.seq)
    return found


def seqs_in(rows):
    return {int(row[7].split(";")[0].lstrip("#")) for row in rows if row[1] == EVENT}


def case_ids(world, case):
    from marac.actions.models import Action
    from marac.meetings.models import AgendaItem

    ids = {case.id}
    ids |= set(db.session.execute(select(AgendaItem.id).where(AgendaItem.case_id == case.id)).scalars())
    ids |= set(db.session.execute(select(Action.id).where(Action.case_id == case.id)).scalars())
    ids |= set(db.session.execute(select(CaseParty.person_id).where(CaseParty.case_id == case.id)).scalars())
    ids |= set(db.session.execute(select(CaseLocation.location_id).where(CaseLocation.case_id == case.id)).scalars())
    return ids


def test_case_report_lists_every_sharing_record_and_event_of_the_case_and_none_of_another(app, world):
    viewed_by_two_agencies(app, world)
    case, other = world.accepted, world.case
    expected_events = events_naming(case_ids(world, case))
    expected_records = db.session.execute(
        select(SharingRecord).where(SharingRecord.case_id == case.id)
        .options(selectinload(SharingRecord.user), selectinload(SharingRecord.agency))).scalars().all()
    agencies = {r.agency_id for r in expected_records}
    assert {world.agencies.police.id, world.agencies.idva.id} <= agencies  # viewed by two agencies

    client = app.test_client()
    sign_in(client, world.users["manager"])
    header, rows = csv_rows(client.get(f"/cases/{case.id}/disclosures.csv"))
    assert header[:4] == ["When (UTC)", "Kind", "Case", "What"]
    shared = [row for row in rows if row[1] == SHARED]
    assert len(shared) == len(expected_records)
    assert sorted((row[3], row[4], row[5]) for row in shared) == sorted(
        (Category(r.category).short_label, r.user.full_name, r.agency.name) for r in expected_records)
    assert all(world.panel.lawful_basis in row[6] for row in shared)
    assert seqs_in(rows) == expected_events
    assert {row[2] for row in rows} == {case.reference}
    assert other.reference not in page_text(client.get(f"/cases/{case.id}/disclosures"))
    # the events include the views by both agencies and the agenda listing of the fixture
    actions = {row[3] for row in rows if row[1] == EVENT}
    assert {"case.viewed", "agenda.case_listed"} <= actions


def test_viewing_and_downloading_the_report_are_audited_and_the_file_name_is_not_personal(app, world):
    add_victim(world.accepted)
    client = app.test_client()
    sign_in(client, world.users["manager"])
    assert client.get(f"/cases/{world.accepted.id}/disclosures").status_code == 200
    response = client.get(f"/cases/{world.accepted.id}/disclosures.csv")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert "OFFICIAL-SENSITIVE" in disposition
    assert world.accepted.reference not in disposition and "Fakeperson" not in disposition
    viewed = audit_events("disclosures.case_viewed", world.accepted.id)
    exported = audit_events("disclosures.case_exported", world.accepted.id)
    assert len(viewed) == 1 and len(exported) == 1
    assert viewed[0].actor_user_id == world.users["manager"].id
    # a later report lists the earlier one's own events
    _, rows = csv_rows(client.get(f"/cases/{world.accepted.id}/disclosures.csv"))
    assert {"disclosures.case_viewed", "disclosures.case_exported"} <= {row[3] for row in rows}


def test_the_csv_holds_what_the_pages_show(app, world):
    viewed_by_two_agencies(app, world)
    case, representative = fresh(Case, world.accepted.id), fresh(User, world.users["representative"].id)
    for _ in range(8):  # 8 views x 7 categories + 8 events: more than one page for the IDVA
        record_view(representative, case)
    db.session.commit()
    client = app.test_client()
    sign_in(client, world.users["manager"])
    idva = str(world.agencies.idva.id)
    url = f"/cases/{world.accepted.id}/disclosures?agency_id={idva}"
    first = client.get(url)
    assert first.status_code == 200
    pages, page = [page_rows(first)], 2
    while f"page={page}" in first.get_data(as_text=True) and page < 10:
        pages.append(page_rows(client.get(f"{url}&page={page}")))
        page += 1
    assert len(pages) >= 2, "the fixture should fill more than one page"
    shown = [row for rows in pages for row in rows]
    _, exported = csv_rows(client.get(f"/cases/{world.accepted.id}/disclosures.csv?agency_id={idva}"))
    # the manager's own report events are by their agency (the council), so the filter keeps them out
    assert exported == shown
    assert {row[5] for row in shown} == {world.agencies.idva.name}


def test_date_filters_use_gov_uk_date_inputs_and_keep_what_was_typed(app, world):
    viewed_by_two_agencies(app, world)
    client = app.test_client()
    sign_in(client, world.users["manager"])
    base = f"/cases/{world.accepted.id}/disclosures"
    page = client.get(base)
    assert soup(page).find("input", attrs={"name": "date_from-day"}) is not None
    tomorrow = today() + dt.timedelta(days=1)
    empty = client.get(f"{base}?date_from-day={tomorrow.day}&date_from-month={tomorrow.month}"
                       f"&date_from-year={tomorrow.year}")
    # "From" must be today or in the past (a GOV.UK date input refuses a future date)
    # the page shows what is wrong (and no report) rather than failing
    assert "must be today or in the past" in page_text(empty) and not soup(empty).select("table.govuk-table")
    bad = client.get(f"{base}?date_from-day=31&date_from-month=2&date_from-year=2026")
    assert "From must be a real date" in page_text(bad) and page_text(bad).startswith("Error:")
    assert soup(bad).find("input", attrs={"name": "date_from-day"})["value"] == "31"
    now = today()
    kept = client.get(f"{base}?date_from-day={now.day}&date_from-month={now.month}&date_from-year={now.year}")
    assert kept.status_code == 200 and SHARED in page_text(kept)
    reversed_ = client.get(f"{base}?date_from-day={now.day}&date_from-month={now.month}&date_from-year={now.year}"
                           f"&date_to-day=1&date_to-month=1&date_to-year=2020")
    assert "The end date must be the same as or after the start date" in page_text(reversed_)


def test_who_may_see_a_case_report(app, world):
    add_victim(world.accepted)
    mace = another_panel(world, kind=PanelKind.MACE, roles=())
    mace_manager = UserFactory(agency=world.agencies.council)
    PanelRoleFactory(panel=mace, user=mace_manager, role=Role.MANAGER)
    mace_case = CaseFactory(panel=mace, referrer=world.users["representative"], status=CaseStatus.ACCEPTED)
    manager = app.test_client()
    sign_in(manager, world.users["manager"])
    assert manager.get(f"/cases/{mace_case.id}/disclosures").status_code == 403
    assert manager.get(f"/cases/{mace_case.id}/disclosures.csv").status_code == 403
    assert manager.get(f"/cases/{world.accepted.id}/disclosures").status_code == 200
    for kind in ("representative", "chair", "steering", "admin", "nonmember"):
        client = app.test_client()
        sign_in(client, world.users[kind])
        assert client.get(f"/cases/{world.accepted.id}/disclosures").status_code == 403, kind
        assert client.get(f"/cases/{world.accepted.id}/disclosures.csv").status_code == 403, kind
    other = app.test_client()
    sign_in(other, mace_manager)
    assert other.get(f"/cases/{mace_case.id}/disclosures").status_code == 200
    assert other.get(f"/cases/{world.accepted.id}/disclosures").status_code == 403
    # a draft is its referrer's alone: no report
    draft = CaseFactory(panel=world.panel, referrer=world.users["representative"], status=CaseStatus.DRAFT)
    assert manager.get(f"/cases/{draft.id}/disclosures").status_code == 403


def test_the_case_page_links_the_report_for_the_manager_only(app, world):
    manager = app.test_client()
    sign_in(manager, world.users["manager"])
    assert f"/cases/{world.accepted.id}/disclosures" in manager.get(f"/cases/{world.accepted.id}").get_data(as_text=True)
    chair = app.test_client()
    sign_in(chair, world.users["chair"])
    assert "/disclosures" not in chair.get(f"/cases/{world.accepted.id}").get_data(as_text=True)


def person_world(app, world):
    """The same fake victim on two cases of the world's MARAC panel and on a MACE case (another
    manager), and someone else on a third MARAC case."""
    first = add_victim(world.accepted)
    second_case = CaseFactory(panel=world.panel, referrer=world.users["representative"], status=CaseStatus.ACCEPTED)
    second = add_victim(second_case)
    mace = another_panel(world, kind=PanelKind.MACE, roles=())
    mace_manager = UserFactory(agency=world.agencies.council)
    PanelRoleFactory(panel=mace, user=mace_manager, role=Role.MANAGER)
    mace_case = CaseFactory(panel=mace, referrer=world.users["representative"], status=CaseStatus.ACCEPTED)
    on_mace = add_victim(mace_case)
    stranger_case = CaseFactory(panel=world.panel, referrer=world.users["representative"],
                                status=CaseStatus.ACCEPTED)
    add_victim(stranger_case, last_name="Fakestranger")
    for case in (world.accepted, second_case, stranger_case):
        record_view(world.users["chair"], case)
    record_view(world.users["chair"], world.accepted)
    db.session.commit()
    return first, second, on_mace, second_case, mace_case, stranger_case, mace_manager


def person_typed(name=NAME, dob=DOB):
    year, month, day = dob.split("-")
    return {"person-name": name, "person-date_of_birth-day": day, "person-date_of_birth-month": month,
            "person-date_of_birth-year": year}


def find(client, name=NAME, dob=DOB):
    """Press "Show the person's report" (the search page's one form posts to the person's search)."""
    return post_form(client, "/disclosures/people", person_typed(name, dob), token_from="/disclosures")


def test_person_report_across_the_cases_the_manager_may_report_on(app, world):
    first, second, on_mace, second_case, mace_case, stranger_case, _ = person_world(app, world)
    client = app.test_client()
    sign_in(client, world.users["manager"])
    found = find(client)
    assert found.status_code == 302
    location = found.headers["Location"]
    assert "Fakeperson" not in location and "1990" not in location and "Testina" not in location
    assert str(first.person_id) in location and str(second.person_id) in location
    assert str(on_mace.person_id) not in location  # the MACE case is not the MARAC manager's
    page = client.get(location)
    assert page.status_code == 200
    text = page_text(page)
    assert world.accepted.reference in text and second_case.reference in text
    assert mace_case.reference not in text and stranger_case.reference not in text
    # every event about either case (the page view just audited included), and no other
    expected = events_naming(case_ids(world, world.accepted) | case_ids(world, second_case))
    _, rows = csv_rows(client.get(location.replace("/report?", "/report.csv?")))
    assert {row[2] for row in rows if row[1] == SHARED} == {world.accepted.reference, second_case.reference}
    assert seqs_in(rows) == expected
    assert audit_events("disclosures.person_viewed") and audit_events("disclosures.person_exported")
    # a MACE person record is refused to the MARAC manager even by its id
    refused = client.get(f"/disclosures/people/report?person={on_mace.person_id}")
    assert refused.status_code == 403
    assert client.get(f"/disclosures/people/report?person={uuid.uuid4()}").status_code == 404
    assert client.get("/disclosures/people/report?person=not-an-id").status_code == 404


def test_a_person_on_no_case_of_the_actor_reads_as_no_match(app, world):
    *_, mace_manager = person_world(app, world)
    client = app.test_client()
    sign_in(client, mace_manager)
    found = find(client, name="Testina Fakestranger")  # on a MARAC case only
    assert found.status_code == 200
    assert "No one on the cases you may report on" in page_text(found)
    for kind in ("representative", "chair", "steering", "admin"):
        other = app.test_client()
        sign_in(other, world.users[kind])
        assert other.get("/disclosures").status_code == 403, kind


def test_audit_refs_name_every_id_an_event_names(app, world):
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    event = record("test.refs", world.users["manager"], world.accepted,
                   detail={"case_id": str(a), "cases": [str(b), str(c)], "count": 3, "note": "x" * 36})
    append_pending()  # the event is appended at the commit; its seq is known from here
    refs = set(db.session.execute(select(AuditEventRef.ref_id).where(AuditEventRef.seq == event.seq)).scalars())
    assert refs == {world.accepted.id, a, b, c}


def test_a_case_is_found_by_reference_for_its_report(app, world):
    client = app.test_client()
    sign_in(client, world.users["manager"])
    assert "/disclosures" in client.get("/").get_data(as_text=True)
    found = post_form(client, "/disclosures", {"case-reference": world.accepted.reference.lower()})
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/cases/{world.accepted.id}/disclosures")
    mace = another_panel(world, kind=PanelKind.MACE, roles=())
    mace_case = CaseFactory(panel=mace, referrer=world.users["representative"], status=CaseStatus.ACCEPTED)
    missed = post_form(client, "/disclosures", {"case-reference": mace_case.reference})
    assert missed.status_code == 200 and "no case with this reference that you may report on" in page_text(missed)
    bad = post_form(client, "/disclosures", {"case-reference": "MARAC 2026/1"})
    assert "Enter a case reference like MARAC-2026-0042" in page_text(bad)
    assert page_text(bad).count("There is a problem") == 1



# --- the search page: nothing typed is lost (issue 12) --------------------------------------

def typed_boxes(response):
    """{name: value} of the search page's text boxes."""
    return {i["name"]: i.get("value", "") for i in soup(response).find_all("input", attrs={"type": "text"})}


def test_the_search_page_is_one_form_whose_buttons_post_both_parts(app, world):
    client = app.test_client()
    sign_in(client, world.users["manager"])
    forms = [f for f in soup(client.get("/disclosures")).find_all("form", method="post")
             if not f["action"].endswith("/sign-out")]
    assert len(forms) == 1 and forms[0]["action"] == "/disclosures"
    assert [(b.get_text(strip=True), b.get("formaction")) for b in forms[0].find_all("button")] == [
        ("Show the case's report", None), ("Show the person's report", "/disclosures/people")]


def test_a_case_not_found_keeps_the_person_typed_and_a_person_not_found_the_reference(app, world):
    person_world(app, world)
    client = app.test_client()
    sign_in(client, world.users["manager"])
    person = person_typed("Testina Nobody")
    for reference, message in (("MARAC 2026/1", "Enter a case reference like MARAC-2026-0042"),
                               ("MARAC-2099-9999", "There is no case with this reference that you may report on")):
        missed = post_form(client, "/disclosures", {"case-reference": reference, **person})
        assert missed.status_code == 200 and message in page_text(missed)
        assert typed_boxes(missed) == {"case-reference": reference, **person}
    # A person with no match, or with no date of birth, keeps the reference typed above them.
    no_date = {f"person-date_of_birth-{part}": "" for part in ("day", "month", "year")}
    for typed, message, problems in ((person, "No one on the cases you may report on", 0),
                                     ({**person, **no_date}, "Enter the person's date of birth", 1)):
        data = {"case-reference": "MARAC-2099-9999", **typed}
        missed = post_form(client, "/disclosures/people", data, token_from="/disclosures")
        assert missed.status_code == 200 and message in page_text(missed)
        assert typed_boxes(missed) == data
        assert page_text(missed).count("There is a problem") == problems
    # Each button does its own search only: the other part's boxes are not checked.
    alone = post_form(client, "/disclosures/people", {"case-reference": "not a reference", **person_typed()},
                      token_from="/disclosures")
    assert alone.status_code == 302 and "/disclosures/people/report?" in alone.headers["Location"]
    assert "Testina" not in alone.headers["Location"] and "1990" not in alone.headers["Location"]
    found = post_form(client, "/disclosures", {"case-reference": world.accepted.reference,
                                               "person-name": "half-typed"})
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/cases/{world.accepted.id}/disclosures")


def test_enter_in_the_person_boxes_searches_for_the_person(app, world):
    """Enter sends the page's one form to its first button's search (the case's): with no reference typed
    but a person, that is the person's search."""
    first, second, *_ = person_world(app, world)
    client = app.test_client()
    sign_in(client, world.users["manager"])
    found = post_form(client, "/disclosures", {"case-reference": "", **person_typed()})
    assert found.status_code == 302
    assert str(first.person_id) in found.headers["Location"] and str(second.person_id) in found.headers["Location"]
    nothing = post_form(client, "/disclosures", {"case-reference": ""})
    assert nothing.status_code == 200 and "Enter the case reference" in page_text(nothing)


# --- the records of processing (docs/data-protection.md) ----------------------------------------

def test_the_records_of_processing_match_what_the_models_declare(app):
    from marac.core.crypto import Encrypted
    from marac.disclosures.processing import DOCUMENT, document_text

    text = DOCUMENT.read_text()
    assert document_text(text) == text, "docs/data-protection.md is out of date: run `flask docs data-protection`"
    for model, name in Encrypted.registry:
        assert f"`{model.__table__.name}.{name}`" in text
    assert "72 hours" in text and "flask audit verify" in text
    result = app.test_cli_runner().invoke(args=["docs", "data-protection", "--check"])
    assert result.exit_code == 0, result.output


def test_a_new_encrypted_attribute_or_answer_without_a_declaration_stops_the_generator(monkeypatch):
    import pytest

    from marac.core.crypto import Encrypted
    from marac.disclosures import processing

    class Notes:
        __tablename__ = "case_notes"
        __table__ = type("T", (), {"name": "case_notes"})

    monkeypatch.setattr(Encrypted, "registry", [*Encrypted.registry, (Notes, "secret")])
    with pytest.raises(processing.MissingDeclaration, match="case_notes.secret"):
        processing.generated()
    monkeypatch.undo()
    monkeypatch.setattr(processing, "ANSWERS", {k: v for k, v in processing.ANSWERS.items() if k != "history"})
    with pytest.raises(processing.MissingDeclaration, match="history"):
        processing.generated()
    monkeypatch.undo()
    monkeypatch.setitem(processing.ANSWERS, "police_incidents", Category.NARRATIVE)
    with pytest.raises(processing.MissingDeclaration, match="DERIVED_FROM"):
        processing.generated()


def world_agency(panel):
    return panel.members[0].agency


def test_the_demo_managers_report_shows_cases_shared_with_two_agencies(app):
    from marac.demo.services import seed
    from marac.panels.models import Panel

    seed()
    db.session.commit()
    panel = db.session.execute(select(Panel).where(Panel.name == "Camden MARAC")).scalar_one()
    viewed = db.session.execute(select(SharingRecord.case_id).join(SharingRecord.case)
                                .where(SharingRecord.purpose == "case page viewed")
                                .where(SharingRecord.case.has(panel_id=panel.id))).scalars().first()
    manager = UserFactory(agency=world_agency(panel))
    PanelRoleFactory(panel=panel, user=manager, role=Role.MANAGER)
    client = app.test_client()
    sign_in(client, manager)
    _, rows = csv_rows(client.get(f"/cases/{viewed}/disclosures.csv"))
    assert len({row[5] for row in rows if row[1] == SHARED}) >= 2


def test_the_data_protection_officer_reports_on_every_panel_without_seeing_case_content(app, world):
    first, second, on_mace, second_case, mace_case, stranger_case, _ = person_world(app, world)
    dpo = UserFactory(agency=world.agencies.outsider, is_dpo=True)  # no panel role, a non-member agency
    client = app.test_client()
    sign_in(client, dpo)
    assert "/disclosures" in client.get("/").get_data(as_text=True)
    assert "every panel" in page_text(client.get("/disclosures"))
    for case in (world.accepted, mace_case):
        assert client.get(f"/cases/{case.id}/disclosures").status_code == 200
        assert client.get(f"/cases/{case.id}/disclosures.csv").status_code == 200
        assert client.get(f"/cases/{case.id}").status_code == 403  # the report, not the case
    found = find(client)
    assert found.status_code == 302
    for party in (first, second, on_mace):
        assert str(party.person_id) in found.headers["Location"]
    text = page_text(client.get(found.headers["Location"]))
    assert all(c.reference in text for c in (world.accepted, second_case, mace_case))
    assert stranger_case.reference not in text and "Fakeperson" not in text and "ZZ9" not in text
    assert audit_events("disclosures.person_viewed")[-1].actor_user_id == dpo.id
    # a draft stays its referrer's alone
    draft = CaseFactory(panel=world.panel, referrer=world.users["representative"], status=CaseStatus.DRAFT)
    assert client.get(f"/cases/{draft.id}/disclosures").status_code == 403


def test_searches_for_a_report_are_audited_without_what_was_searched_for(app, world):
    person_world(app, world)
    client = app.test_client()
    sign_in(client, world.users["manager"])
    find(client)
    find(client, name="Testina Nobody")
    post_form(client, "/disclosures", {"case-reference": world.accepted.reference})
    events = audit_events("disclosures.searched")
    assert [(e.detail["by"], e.detail["results"]) for e in events] == [("name_dob", 2), ("name_dob", 0),
                                                                       ("reference", 1)]
    assert events[2].object_id == str(world.accepted.id)
    for e in events:
        assert "Testina" not in json.dumps(e.detail) and world.accepted.reference not in json.dumps(e.detail)


def test_the_auditor_finds_the_events_that_name_an_object_in_their_detail(app, world):
    viewed_by_two_agencies(app, world)
    admin = app.test_client()
    sign_in(admin, world.users["admin"])
    page = admin.get(f"/admin/audit/?object_id={world.accepted.id}")
    assert page.status_code == 200
    # the agenda listing names the case in its detail (its object is the meeting)
    assert "agenda.case_listed" in page_text(page) and "case.viewed" in page_text(page)


def test_audit_verify_finds_an_event_reference_that_the_event_does_not_make(app, world):
    import pytest
    from sqlalchemy import insert

    from marac.audit.services import ChainBroken, verify

    verify()
    event = record("test.refs", world.users["manager"], world.accepted)
    append_pending()
    db.session.execute(insert(AuditEventRef), [{"ref_id": world.case.id, "seq": event.seq}])
    with pytest.raises(ChainBroken, match="audit_event_refs") as broken:
        verify()
    assert broken.value.seq == event.seq
