"""Meeting packs: built once per redaction profile, stamped per download, traceable, encrypted at rest,
deleted on expiry, and handed only to the manager, the chair and the member agencies' representatives."""
import hashlib
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select, text

from marac.agencies.models import AgencyKind
from marac.cases.models import CaseParty, PartyRole
from marac.core.crypto import deserialise, serialise
from marac.core.steps import StepRefused
from marac.extensions import db
from marac.jobs.services import after_commit
from marac.meetings import services as meetings
from marac.meetings.models import Meeting
from marac.packs import services as packs
from marac.packs.models import FULL_PROFILE, BuildStatus, PackBuild, PackIssue, PackKind, PackRender
from marac.panels.models import Role
from marac.people.models import Person
from marac.sharing.services import rules_for, set_rules
from marac.users.models import User
from tests.factories import AgencyFactory, CaseFactory, PanelMemberFactory, PanelRoleFactory, UserFactory, open_on_its_day
from tests.helpers import (audit_events, fresh, page_of, page_text, pdf_ua_failures, post_form, row_count,
                           signed_in)

ADDRESS = "17 Imaginary Crescent"
SUBJECT = ("Testina", "Packperson")


@pytest.fixture
def pw(world):
    """The world with a named, housed subject on its listed case and a member education service (whose
    kind may not see addresses) with a representative."""
    person = Person(first_names=SUBJECT[0], last_name=SUBJECT[1], address=ADDRESS)
    db.session.add(person)
    db.session.add(CaseParty(case_id=world.accepted.id, person=person, role=PartyRole.VICTIM))
    education = AgencyFactory(kind=AgencyKind.EDUCATION, name="Test Education Service", short_name="Edu Svc")
    PanelMemberFactory(panel=world.panel, agency=education)
    world.education_rep = UserFactory(agency=education)
    PanelRoleFactory(panel=world.panel, user=world.education_rep, role=Role.REPRESENTATIVE)
    db.session.commit()
    world.person = person
    return world


def meeting_of(world):
    """The world's meeting in the current session (a request ends the session the test began in)."""
    return db.session.get(Meeting, world.meeting.id)


def user(person):
    """The user in the current session."""
    return db.session.get(User, person.id)


def build_agenda(world):
    build = packs.build_packs(user(world.users["manager"]), meeting_of(world), PackKind.AGENDA)
    db.session.commit()
    return build


def download(app, world, user, kind=PackKind.AGENDA):
    return signed_in(app, user).get(f"/meetings/{world.meeting.id}/packs/{kind}")


def pdf_pages(data):
    reader = PdfReader(io.BytesIO(data))
    return reader, [" ".join((page.extract_text() or "").split()) for page in reader.pages]


def code_of(response):
    return re.search(r"(PK-[0-9A-Z]+)\.pdf", response.headers["Content-Disposition"]).group(1)


# --- building --------------------------------------------------------------------------------

def test_the_manager_builds_every_profile_once_and_follows_the_build(app, pw):
    manager = signed_in(app, pw.users["manager"])
    response = post_form(manager, f"/meetings/{pw.meeting.id}/packs/build", {"kind": PackKind.AGENDA},
                         token_from=f"/meetings/{pw.meeting.id}")
    assert response.status_code == 302 and "/pack-builds/" in response.headers["Location"]
    page = manager.get(response.headers["Location"])
    build = db.session.execute(select(PackBuild)).scalar_one()
    # the full pack (which the IDVA service may see all of, so it shares it), police's and education's
    assert build.status == BuildStatus.DONE and build.total == build.done == 3
    assert f"{build.done} of {build.total}" in page_text(page)
    assert 'http-equiv="refresh"' not in page.get_data(as_text=True)  # finished: no more refreshing
    assert "Edu Svc" in page_text(page)
    renders = db.session.execute(select(PackRender)).scalars().all()
    assert sorted(r.profile for r in renders)[0] != FULL_PROFILE and FULL_PROFILE in {r.profile for r in renders}
    built = audit_events("packs.built")
    assert {e.object_id for e in built} == {str(r.id) for r in renders}
    assert {e.detail["sha256"] for e in built} == {r.sha256 for r in renders}
    assert all(hashlib.sha256(r.pdf).hexdigest() == r.sha256 for r in renders)


def test_a_running_build_page_refreshes_itself(app, pw):
    build = PackBuild(meeting_id=pw.meeting.id, kind=PackKind.AGENDA, status=BuildStatus.RUNNING, total=4, done=1)
    db.session.add(build)
    db.session.commit()
    build_id = build.id
    page = signed_in(app, pw.users["manager"]).get(f"/pack-builds/{build_id}")
    assert '<meta http-equiv="refresh" content="2">' in page.get_data(as_text=True)
    assert "1 of 4" in page_text(page)


def test_packs_wait_for_the_published_agenda_and_the_final_minutes(app, pw):
    unpublished = meetings.add_meeting(pw.users["manager"], pw.panel, pw.meeting.meets_on.replace(day=1)
                                       if pw.meeting.meets_on.day > 1 else pw.meeting.meets_on.replace(day=2),
                                       pw.meeting.starts_at, anyway=True)
    db.session.commit()
    with pytest.raises(StepRefused, match="Publish the agenda"):
        packs.build_packs(pw.users["manager"], unpublished, PackKind.AGENDA)
    with pytest.raises(StepRefused, match="Finalise the minutes"):
        packs.build_packs(pw.users["manager"], pw.meeting, PackKind.MINUTES)
    manager = signed_in(app, pw.users["manager"])
    response = post_form(manager, f"/meetings/{pw.meeting.id}/packs/build", {"kind": PackKind.MINUTES},
                         token_from=f"/meetings/{pw.meeting.id}")
    assert "Finalise the minutes before building" in page_of(manager.get(response.headers["Location"]))
    assert row_count(PackBuild) == 0


def test_a_failed_render_leaves_no_pack_and_says_so_by_code(app, pw, monkeypatch):
    build_agenda(pw)
    earlier = {r.id for r in db.session.execute(select(PackRender)).scalars()}

    def broken(html, *, title):
        raise MemoryError("Testina Packperson")  # a message that must not be kept

    monkeypatch.setattr(packs, "render_pdf", broken)
    build = build_agenda(pw)
    assert build.status == BuildStatus.FAILED and build.error == "MemoryError"
    assert {r.id for r in db.session.execute(select(PackRender)).scalars()} == earlier
    assert all(fresh(PackRender, r).is_available for r in earlier)  # the earlier packs still stand
    failed = audit_events("packs.build_failed")
    assert failed[-1].detail == {"error": "MemoryError"}
    build_id = build.id
    page = signed_in(app, pw.users["manager"]).get(f"/pack-builds/{build_id}")
    assert "MemoryError" in page_text(page) and "Packperson" not in page_text(page)


def test_a_rebuild_supersedes_the_earlier_packs_and_deletes_them(app, pw):
    build_agenda(pw)
    first = {r.id for r in db.session.execute(select(PackRender)).scalars()}
    build_agenda(pw)
    for render_id in first:
        old = fresh(PackRender, render_id)
        assert old.superseded_at is not None and old.pdf is None
    current = packs.pack_for(user(pw.users["representative"]), meeting_of(pw), PackKind.AGENDA)
    assert current.id not in first


# --- downloading -----------------------------------------------------------------------------

def test_a_representative_downloads_their_agencys_pack_marked_on_every_page(app, pw):
    build_agenda(pw)
    rep = pw.users["representative"]
    response = download(app, pw, rep)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    code = code_of(response)
    assert re.fullmatch(r"PK-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{8}", code)
    reader, pages = pdf_pages(response.data)
    assert pages and all("OFFICIAL-SENSITIVE" in p and code in p for p in pages)
    whole = " ".join(pages)
    assert pw.agencies.idva.name in whole and rep.full_name in whole
    assert ADDRESS in whole  # an IDVA service may see addresses
    issue = db.session.execute(select(PackIssue).where(PackIssue.code == code)).scalar_one()
    assert (issue.user_id, issue.agency_id) == (rep.id, pw.agencies.idva.id)
    assert issue.sha256 == hashlib.sha256(response.data).hexdigest()
    event = audit_events("packs.downloaded")[-1]
    assert event.detail["code"] == code and event.detail["sha256"] == issue.sha256
    assert event.actor_user_id == rep.id and event.recipient_agency_id == pw.agencies.idva.id


def test_an_agency_that_may_not_see_addresses_gets_a_pack_without_them(app, pw):
    build_agenda(pw)
    response = download(app, pw, pw.education_rep)
    assert response.status_code == 200
    whole = " ".join(pdf_pages(response.data)[1])
    assert "Test Education Service" in whole and ADDRESS not in whole
    rep = user(pw.education_rep)
    assert packs.pack_for(rep, meeting_of(pw), PackKind.AGENDA).profile == packs.agency_profile(
        meeting_of(pw).panel, rep.agency)


def test_the_chair_and_the_manager_get_the_full_pack(app, pw):
    build_agenda(pw)
    for person in (pw.users["chair"], pw.users["manager"]):
        assert packs.pack_for(user(person), meeting_of(pw), PackKind.AGENDA).profile == FULL_PROFILE
        response = download(app, pw, person)
        assert response.status_code == 200 and ADDRESS in " ".join(pdf_pages(response.data)[1])


@pytest.mark.parametrize("who", ["nonmember", "steering", "admin"])
def test_anyone_else_is_refused(app, pw, who):
    build_agenda(pw)
    assert download(app, pw, pw.users[who]).status_code == 403
    assert row_count(PackIssue) == 0 and audit_events("packs.downloaded") == []


def test_the_representative_of_another_panels_agency_is_refused(app, pw):
    build_agenda(pw)
    housing = AgencyFactory(kind=AgencyKind.HOUSING)
    stranger = UserFactory(agency=housing)
    other = CaseFactory(panel=pw.panel, referrer=stranger)  # not a member: a referrer only
    assert other is not None
    assert download(app, pw, stranger).status_code == 403


def test_a_pack_not_built_yet_is_not_found_and_an_unknown_kind_too(app, pw):
    rep = signed_in(app, pw.users["representative"])
    assert rep.get(f"/meetings/{pw.meeting.id}/packs/agenda").status_code == 404
    assert rep.get(f"/meetings/{pw.meeting.id}/packs/research").status_code == 404


def test_file_name_and_metadata_hold_no_personal_data(app, pw):
    build_agenda(pw)
    rep = pw.users["representative"]
    response = download(app, pw, rep)
    name = re.search(r'filename="([^"]+)"', response.headers["Content-Disposition"]).group(1)
    assert re.fullmatch(rf"OFFICIAL-SENSITIVE_MARAC_{pw.meeting.meets_on.isoformat()}_agenda_[A-Za-z0-9-]+_PK-[0-9A-Z]+\.pdf",
                        name)
    reader = PdfReader(io.BytesIO(response.data))
    metadata = " ".join(str(v) for v in (reader.metadata or {}).values())
    assert "OFFICIAL-SENSITIVE" in metadata
    for personal in (*SUBJECT, ADDRESS, rep.full_name, rep.email, pw.accepted.reference, "Rita Referrer-Test"):
        assert personal not in metadata and personal not in name


def test_a_meeting_page_and_the_home_page_offer_the_pack(app, pw):
    rep = signed_in(app, pw.users["representative"])
    assert "Download your agency's agenda pack" not in page_text(rep.get(f"/meetings/{pw.meeting.id}"))
    build_agenda(pw)
    url = f"/meetings/{pw.meeting.id}/packs/agenda"
    meeting_page = rep.get(f"/meetings/{pw.meeting.id}")
    assert "Download your agency's agenda pack" in page_text(meeting_page) and url in page_of(meeting_page)
    chair_page = signed_in(app, pw.users["chair"]).get(f"/meetings/{pw.meeting.id}")
    assert "Download the full agenda pack" in page_text(chair_page)
    home = rep.get("/")
    assert "Packs for you" in page_text(home) and url in page_of(home)
    outsider_home = signed_in(app, pw.users["nonmember"]).get("/")
    assert "Packs for you" not in page_text(outsider_home)


def test_the_circulation_record_names_who_downloaded_what(app, pw):
    build_agenda(pw)
    code = code_of(download(app, pw, pw.users["representative"]))
    page = signed_in(app, pw.users["manager"]).get(f"/meetings/{pw.meeting.id}/packs/circulation")
    text_ = page_text(page)
    assert code in text_ and pw.users["representative"].full_name in text_ and pw.agencies.idva.name in text_


# --- staleness -------------------------------------------------------------------------------

def test_packs_go_out_of_date_when_the_agenda_or_the_rules_change(app, pw):
    build_agenda(pw)
    render = packs.pack_for(user(pw.users["representative"]), meeting_of(pw), PackKind.AGENDA)
    assert not packs.is_stale(render)
    manager = signed_in(app, pw.users["manager"])
    assert "Out of date" not in page_text(manager.get(f"/meetings/{pw.meeting.id}"))
    another = CaseFactory(panel=pw.panel, referrer=pw.users["representative"], status=pw.accepted.status)
    meetings.list_case(user(pw.users["manager"]), meeting_of(pw), another)
    db.session.commit()
    assert packs.is_stale(fresh(PackRender, render.id))
    assert "Out of date: the meeting changed" in page_text(manager.get(f"/meetings/{pw.meeting.id}"))


def test_packs_go_out_of_date_when_the_sharing_rules_change(app, pw):
    build_agenda(pw)
    render = packs.pack_for(user(pw.users["chair"]), meeting_of(pw), PackKind.AGENDA)
    panel = meeting_of(pw).panel
    rules = rules_for(panel)
    rules[AgencyKind.EDUCATION] = set()
    set_rules(user(pw.users["manager"]), panel, rules)
    db.session.commit()
    assert packs.is_stale(fresh(PackRender, render.id))
    # the education service's profile changed: its old pack is not handed out under the new rules
    assert packs.pack_for(user(pw.education_rep), meeting_of(pw), PackKind.AGENDA) is None


# --- minutes ---------------------------------------------------------------------------------

def test_minutes_packs_after_the_minutes_are_final(app, pw):
    manager, meeting = pw.users["manager"], meeting_of(pw)
    open_on_its_day(manager, meeting)
    meetings.close_meeting(manager, meeting)
    meetings.finalise_minutes(manager, meeting)
    db.session.commit()
    build = packs.build_packs(manager, meeting, PackKind.MINUTES)
    db.session.commit()
    assert build.status == BuildStatus.DONE
    response = download(app, pw, pw.users["chair"], PackKind.MINUTES)
    assert response.status_code == 200 and "_minutes_" in response.headers["Content-Disposition"]
    assert pdf_ua_failures(response.data) == []  # the stamped copy a person receives


def test_a_stamped_agenda_pack_is_valid_pdf_ua(app, pw):
    build_agenda(pw)
    for person in (pw.users["representative"], pw.education_rep):
        response = download(app, pw, person)
        assert response.status_code == 200 and pdf_ua_failures(response.data) == []


# --- tracing, expiry, storage ----------------------------------------------------------------

def test_trace_finds_the_recipient_by_code_and_by_file(app, pw, tmp_path):
    build_agenda(pw)
    rep = pw.users["representative"]
    response = download(app, pw, rep)
    code = code_of(response)
    assert [i.user_id for i in packs.trace(code)] == [rep.id]
    assert [i.user_id for i in packs.trace(code.lower())] == [rep.id]
    assert [i.user_id for i in packs.trace(hashlib.sha256(response.data).hexdigest())] == [rep.id]
    leaked = tmp_path / "leaked.pdf"
    leaked.write_bytes(response.data)
    runner = app.test_cli_runner()
    for needle in (code, str(leaked)):
        result = runner.invoke(args=["packs", "trace", needle])
        assert result.exit_code == 0, result.output
        assert rep.full_name in result.output and pw.agencies.idva.name in result.output and code in result.output
        assert SUBJECT[1] not in result.output and ADDRESS not in result.output
    result = runner.invoke(args=["packs", "trace", "PK-NOTAPACK"])
    assert result.exit_code == 1


def test_packs_are_encrypted_at_rest(app, pw):
    build_agenda(pw)
    stored = db.session.execute(text("SELECT pdf FROM pack_renders")).scalars().all()
    assert stored and all(b"%PDF" not in bytes(blob) for blob in stored)
    for render in db.session.execute(select(PackRender)).scalars():
        assert render.pdf.startswith(b"%PDF")


def test_expired_packs_are_deleted_and_no_longer_handed_out(app, pw, clock):
    build_agenda(pw)
    assert packs.expire_packs() == 0
    clock(days=pw.panel.pack_retention_days, minutes=1)
    assert download(app, pw, pw.users["representative"]).status_code == 404  # past its time, even before the job
    result = app.test_cli_runner().invoke(args=["packs", "expire"])
    assert result.exit_code == 0 and "expired pack(s) deleted" in result.output
    stored = db.session.execute(text("SELECT pdf, deleted_at FROM pack_renders")).all()
    assert stored and all(pdf is None and deleted is not None for pdf, deleted in stored)
    assert audit_events("packs.expired")[-1].detail["count"] == len(stored)


def test_the_cli_builds_a_meetings_packs(app, pw):
    result = app.test_cli_runner().invoke(args=["packs", "build", str(pw.meeting.id), "--kind", "agenda"])
    assert result.exit_code == 0, result.output
    assert packs.pack_for(user(pw.users["representative"]), meeting_of(pw), PackKind.AGENDA) is not None
    result = app.test_cli_runner().invoke(args=["packs", "build", str(pw.meeting.id), "--kind", "minutes"])
    assert result.exit_code == 1 and "Finalise the minutes" in result.output


# --- building blocks -------------------------------------------------------------------------

def test_bytes_survive_encryption_unchanged():
    data = bytes(range(256)) * 3
    assert deserialise(serialise(data, bytes)) == data
    assert deserialise(serialise("[not bytes]", str)) == "[not bytes]"


def test_after_commit_runs_once_on_commit_and_never_after_a_rollback(pw):
    ran = []
    after_commit(lambda: ran.append("dropped"))
    db.session.rollback()
    after_commit(lambda: ran.append("ran"))
    db.session.commit()
    db.session.commit()
    assert ran == ["ran"]
