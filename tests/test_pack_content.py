"""What the meeting packs say, per redaction profile: each agency kind's pack holds only what the
panel's sharing rules let it see, research returns never appear, the agenda follows SafeLives'
order, and amended minutes say so. Checked on the HTML and on the text of a WeasyPrint render."""
import datetime as dt
import io
import re
from pathlib import Path
from types import SimpleNamespace

import page as page_validation
import pytest
import weasyprint
from pypdf import PdfReader
from sqlalchemy import event

from marac.actions import services as actions
from marac.actions.models import ActionStatus
from marac.agencies.models import AgencyKind
from marac.cases.models import CaseStatus, Criterion, RiskLevel
from marac.cases.services import rebuild_parties
from marac.core.timeutil import today
from marac.extensions import db
from marac.meetings import services as meetings
from marac.meetings.models import AttendanceStatus, ItemStatus, LawfulBasis
from marac.packs import content
from marac.packs.content import FULL, agenda_html, minutes_html, profiles
from marac.sharing.models import DEFAULT_RULES, Category
from marac.sharing.services import set_rules
from tests.factories import (AgencyFactory, CaseFactory, MeetingFactory, PanelMemberFactory, UserFactory, on_its_day,
                             open_on_its_day)
from tests.helpers import page_text, soup

CSS = (Path(__file__).resolve().parent.parent / "assets" / "pdf" / "pack.css").read_text()
RESEARCH = "Sentinel-research: invented call-outs"
HELD_BACK = "Sentinel-withheld: invented held-back detail"
MINUTE = "Sentinel-minute: invented discussion of the plan"
RISK_SUMMARY = "Sentinel-risk: invented summary of the risk"
NEW_ACTION = "Sentinel-action: invented housing safety check"
REVIEW_NOTE = "Sentinel-review: invented safety plan in place"


def person(first, last, born, address=None, postcode=None):
    return {"first_names": first, "last_name": last, "date_of_birth": born, "address": address,
            "postcode": postcode, "phone": "07700 900999" if address else None}


def marac_case(panel, referrer, victim, children=(), perpetrator=None, **columns):
    """An accepted MARAC case with its people, as a referral would make them."""
    case = CaseFactory(panel=panel, referrer=referrer, status=CaseStatus.ACCEPTED, **columns)
    answers = {"victim": victim, "children": list(children),
               "perpetrators": [perpetrator] if perpetrator else []}
    rebuild_parties(case, answers)
    db.session.commit()
    return case


@pytest.fixture
def packs(world):
    """The world's panel with housing and education agencies too; its first meeting held (the listed
    case heard, its IDVA action still open), and a published meeting four weeks out listing, in the
    manager's order: a new case without children, a repeat, the heard case again, a new case with
    children. Every member agency has returned research on the case with children."""
    panel, manager = world.panel, world.users["manager"]
    housing, education = AgencyFactory(kind=AgencyKind.HOUSING), AgencyFactory(kind=AgencyKind.EDUCATION)
    for agency in (housing, education):
        PanelMemberFactory(panel=panel, agency=agency)
    referrer = world.users["representative"]
    plain = marac_case(panel, referrer, person("Nochild", "Fakeadult", "1980-02-03"), criterion=Criterion.REPEAT)
    earlier = marac_case(panel, referrer, person("Repeata", "Fakeperson", "1975-06-07", "3 Pretend Close", "ZZ7 7ZZ"),
                         referred_on=today() - dt.timedelta(days=200))
    repeat = marac_case(panel, referrer, person("Repeata", "Fakeperson", "1975-06-07", "3 Pretend Close", "ZZ7 7ZZ"),
                        is_repeat=True, repeat_of_id=earlier.id, risk_level=RiskLevel.MEDIUM)
    with_children = marac_case(
        panel, referrer, person("Testina", "Fakeperson", "1990-04-01", "1 Pretend Road, Testtown", "ZZ1 1ZZ"),
        children=[person("Kiddo", "Fakeperson", "2019-05-06")],
        perpetrator=person("Perry", "Fakeabuser", "1985-01-02"),
        criterion=Criterion.VISIBLE_HIGH_RISK)
    # The world's meeting is held: its case is heard and the IDVA's action on it stays open.
    first = world.meeting
    open_on_its_day(manager, first)
    attendee = meetings.add_attendee(manager, first, "Ivy Idva-Test", "IDVA", world.agencies.idva.id, False)
    meetings.agree_confidentiality(manager, first, attendee)
    meetings.record_hearing(manager, world.item, "Earlier risk", "Earlier minute", ItemStatus.HEARD, None)
    meetings.close_meeting(manager, first)
    db.session.commit()
    meeting = MeetingFactory(panel=panel, manager=manager, meets_on=today() + dt.timedelta(days=28),
                             cases=[plain, repeat, world.accepted, with_children], published=True)
    item = next(i for i in meeting.items if i.case_id == with_children.id)
    for agency in (world.agencies.police, world.agencies.idva, housing, education):
        researcher = UserFactory(agency=agency)
        meetings.save_return(researcher, item, {"nothing_held": False, "relevant": RESEARCH, "to_share": RESEARCH,
                                                "withheld": HELD_BACK, "withheld_reason": HELD_BACK,
                                                "lawful_basis": LawfulBasis.PUBLIC_TASK})
        meetings.share_return(researcher, item)
    db.session.commit()
    return SimpleNamespace(world=world, panel=panel, manager=manager, meeting=meeting, housing=housing,
                           education=education, plain=plain, repeat=repeat, earlier=earlier,
                           heard_before=world.accepted, with_children=with_children, item=item)


def hold(packs, amend=True):
    """Run the packs' meeting: register, review the IDVA's earlier action as done, hear every case
    (a new housing action on the case with children), close, finalise, and amend one minute."""
    manager, meeting, world = packs.manager, packs.meeting, packs.world
    with on_its_day(meeting):  # held on its day, as a real meeting is
        meetings.open_meeting(manager, meeting)
        meetings.set_attendance(manager, meeting, {packs.education.id: AttendanceStatus.APOLOGIES_INFO})
        for name, agency in (("Ivy Idva-Test", world.agencies.idva), ("Pat Police-Test", world.agencies.police),
                             ("Hal Housing-Test", packs.housing)):
            attendee = meetings.add_attendee(manager, meeting, name, "Representative", agency.id, False)
            meetings.agree_confidentiality(manager, meeting, attendee)
        meetings.add_attendee(manager, meeting, "Olive Observer-Test", "Student social worker", None, True)
        observer = meeting.attendees[-1]
        meetings.agree_confidentiality(manager, meeting, observer)
        for item in meeting.items:
            reviews = [(world.action, ActionStatus.DONE, REVIEW_NOTE)] if item.case_id == packs.heard_before.id else []
            if item.id == packs.item.id:
                actions.add_action(manager, item, packs.housing.id, NEW_ACTION, today() + dt.timedelta(days=56),
                                   "Hal Housing-Test")
            meetings.record_hearing(manager, item, RISK_SUMMARY if item.id == packs.item.id else "Invented risk",
                                    MINUTE if item.id == packs.item.id else "Invented minute", ItemStatus.HEARD,
                                    None, reviews=reviews)
        meetings.close_meeting(manager, meeting)
        meetings.finalise_minutes(manager, meeting)
    if amend:
        meetings.amend_minute(manager, packs.item, MINUTE + " (corrected)", "Invented typo", None)
    db.session.commit()


def profile_of_kind(meeting, kind):
    """The profile that an agency of this kind belongs to."""
    return next(profile for profile, agencies in profiles(meeting).items() if any(a.kind == kind for a in agencies))


def render_pdf_text(html):
    """The text of each page of a PDF/UA-1 render of the HTML, the pack's stylesheet inlined (the same
    file that `asset:pack.css` serves); the render must pass PDF/UA-1 validation."""
    assert '<link rel="stylesheet" href="asset:pack.css">' in html
    inlined = html.replace('<link rel="stylesheet" href="asset:pack.css">', f"<style>{CSS}</style>")
    pdf = weasyprint.HTML(string=inlined).write_pdf(pdf_variant="pdf/ua-1")
    report = page_validation.validate_pdf_bytes(pdf, profile=page_validation.ValidationProfile.PDF_UA_1)
    assert report.is_compliant, list(report.failures)[:5]
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


class Selects:
    """Counts the SELECT statements run inside the block (`with Selects() as seen: ...; seen.list`)."""

    def __enter__(self):
        self.list, self.engine = [], db.session.get_bind()
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def _count(self, conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            self.list.append(statement[:80])

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)


# --- profiles --------------------------------------------------------------------------------

def test_agencies_are_grouped_by_what_their_kind_may_see(packs):
    grouped = profiles(packs.meeting)
    world = packs.world
    assert grouped[frozenset(DEFAULT_RULES[AgencyKind.POLICE])] == [world.agencies.police]
    assert grouped[frozenset(DEFAULT_RULES[AgencyKind.EDUCATION])] == [packs.education]
    assert sum(len(agencies) for agencies in grouped.values()) == 4
    # Two kinds with the same rules share one render.
    set_rules(packs.manager, packs.panel, {**DEFAULT_RULES, AgencyKind.HOUSING: DEFAULT_RULES[AgencyKind.POLICE]})
    grouped = profiles(packs.meeting)
    assert sorted(a.name for a in grouped[frozenset(DEFAULT_RULES[AgencyKind.POLICE])]) == sorted(
        [world.agencies.police.name, packs.housing.name])
    assert FULL == frozenset(Category)


# --- the agenda pack -------------------------------------------------------------------------

def test_full_and_police_agenda_packs_name_the_people(app, packs):
    for categories in (FULL, profile_of_kind(packs.meeting, AgencyKind.POLICE)):
        text = page_text(agenda_html(packs.meeting, categories, "Test Police"))
        assert "Testina Fakeperson" in text and "1 April 1990" in text
        assert "1 Pretend Road, Testtown, ZZ1 1ZZ" in text
        assert "Kiddo Fakeperson" in text
        assert "Perry Fakeabuser" in text
        assert RiskLevel.HIGH.label in text and Criterion.VISIBLE_HIGH_RISK.label in text
        assert f"within 12 months of {packs.earlier.reference}" in text


def test_education_pack_leaves_out_what_education_may_not_see(app, packs):
    categories = profile_of_kind(packs.meeting, AgencyKind.EDUCATION)
    assert Category.RISK_CHECKLIST not in categories and Category.CONTACT not in categories
    html = agenda_html(packs.meeting, categories, packs.education.name)
    text = page_text(html)
    assert "Testina Fakeperson" in text and "Kiddo Fakeperson" in text  # identity and children it may see
    assert "Pretend Road" not in html and "ZZ1 1ZZ" not in html and "07700" not in html
    assert Criterion.VISIBLE_HIGH_RISK.label not in html
    assert not [row for row in soup(html).select("tr") if "Risk level" in row.get_text()
                and "Withheld under the sharing rules" not in row.get_text()]
    assert f"Issued to {packs.education.name}" in text


def test_a_profile_without_identity_or_children_sees_references_only(app, packs):
    rules = {**DEFAULT_RULES, AgencyKind.HOUSING: {Category.CONTACT, Category.RISK_CHECKLIST}}
    set_rules(packs.manager, packs.panel, rules)
    categories = profile_of_kind(packs.meeting, AgencyKind.HOUSING)
    html = agenda_html(packs.meeting, categories, packs.housing.name)
    for secret in ("Testina", "Kiddo", "Perry", "Repeata", "1 April 1990", packs.earlier.reference,
                   "Invented action for tests", "children in the household", "12 months on"):
        assert secret not in html, secret
    text = page_text(html)
    for case in (packs.plain, packs.repeat, packs.with_children, packs.heard_before):
        assert case.reference in text
    assert "1 Pretend Road" in text and RiskLevel.HIGH.label in text  # what housing may still see
    # One section, numbered as in every other pack.
    assert [h.get_text() for h in soup(html).select("h2.section")] == [
        "Actions from earlier hearings to review", "Cases"]


def test_research_returns_never_appear_in_any_pack(app, packs):
    hold(packs)
    for categories in [FULL, *profiles(packs.meeting)]:
        for html in (agenda_html(packs.meeting, categories, "Anyone"), minutes_html(packs.meeting, categories, "Anyone")):
            assert "Sentinel-research" not in html and "Sentinel-withheld" not in html


def test_the_agenda_follows_safelives_order(app, packs):
    html = agenda_html(packs.meeting, FULL, content.FULL_LABEL)
    page = soup(html)
    headings = [h.get_text() for h in page.select("h2.section")]
    assert headings == ["Actions from earlier hearings to review", "New cases with children in the household",
                        "Other new cases", "Cases 12 months on (repeat referrals)"]
    listed = [h.get_text() for h in page.select("h2.section ~ .case h3")]
    expected = [packs.heard_before, packs.with_children, packs.plain, packs.heard_before, packs.repeat]
    # First the case with an action to review, then the cases: children first, the rest by the manager's
    # order (the plain case was listed before the heard one), the repeat last.
    assert [re.sub(r"^\d+\. ", "", h) for h in listed] == [c.reference for c in expected]
    assert listed[1:] == [f"{n}. {c.reference}" for n, c in enumerate(expected[1:], start=1)]
    assert listed[0] == f"3. {packs.heard_before.reference}"


def test_open_actions_from_earlier_hearings_are_listed_for_review(app, packs):
    page = soup(agenda_html(packs.meeting, FULL, content.FULL_LABEL))
    review = page.select_one(".case table.grid")
    text = page_text(str(review))
    assert packs.world.agencies.idva.name in text and "Invented action for tests" in text
    assert [th.get("scope") for th in review.select("thead th")] == ["col"] * 4
    # Without narrative the action's owner and due date remain, its text does not.
    no_narrative = frozenset(FULL - {Category.NARRATIVE})
    html = agenda_html(packs.meeting, no_narrative, "Anyone")
    assert "Invented action for tests" not in html and packs.world.agencies.idva.name in html


def test_agenda_cover_carries_marking_confidentiality_and_recipient(app, packs):
    html = agenda_html(packs.meeting, FULL, "Housing Services")
    page = soup(html)
    assert page.html["lang"] == "en-GB"
    assert page.title.get_text() == content.pack_title(packs.meeting, content.PackKind.AGENDA)
    assert page.title.get_text().startswith("OFFICIAL-SENSITIVE")
    text = page_text(html)
    assert "Do not copy or forward" in text and packs.panel.confidentiality_statement in text
    assert "Issued to Housing Services" in text and packs.world.users["chair"].full_name in text
    assert text.count("OFFICIAL-SENSITIVE") >= 2
    assert [int(h.name[1]) for h in page.select("h1, h2, h3")][:2] == [1, 2]


def test_pack_html_loads_in_a_fixed_number_of_queries(app, packs):
    # One case of every shape that loads something (a repeat whose earlier case has an open action)
    # against the four cases of the packs' meeting: the same statements.
    again = marac_case(packs.panel, packs.world.users["representative"], person("Onlyone", "Fakeperson", "1991-01-01"),
                       is_repeat=True, repeat_of_id=packs.heard_before.id)
    small = MeetingFactory(panel=packs.panel, manager=packs.manager, meets_on=today() + dt.timedelta(days=42),
                           cases=[again], published=True)
    counts = []
    for meeting in (small, packs.meeting):
        db.session.expire_all()
        with Selects() as seen:
            agenda_html(meeting, FULL, "Anyone")
        counts.append(seen.list)
    assert len(counts[0]) == len(counts[1]) <= 12, counts
    # Every profile of the meeting from one read: no further statement per profile.
    loaded, every = content.load(packs.meeting), list(profiles(packs.meeting))
    with Selects() as seen:
        for categories in every:
            agenda_html(packs.meeting, categories, "Anyone", loaded=loaded)
    assert len(every) == 4 and seen.list == []


# --- the minutes pack ------------------------------------------------------------------------

def test_minutes_pack_has_register_minutes_and_action_plan(app, packs):
    hold(packs)
    html = minutes_html(packs.meeting, FULL, content.FULL_LABEL)
    text = page_text(html)
    assert f"{packs.education.name} {AttendanceStatus.APOLOGIES_INFO.label}" in text
    assert f"{packs.world.agencies.police.name} {AttendanceStatus.PRESENT.label}" in text
    assert "Olive Observer-Test Student social worker Yes" in text
    assert MINUTE + " (corrected)" in text and RISK_SUMMARY in text
    assert f"Amended on {content.format_date(today())}" in text
    # The earlier action reviewed as done, the new one agreed with its named person.
    assert "Reviewed: Done" in text and REVIEW_NOTE in text and "Invented action for tests" in text
    new = next(t for t in soup(html).select("table.grid") if t.caption and "New actions agreed" in t.caption.get_text())
    assert packs.housing.name in new.get_text() and NEW_ACTION in new.get_text()
    assert "Hal Housing-Test" in new.get_text()


def test_minutes_pack_without_narrative_keeps_only_reference_and_outcome(app, packs):
    hold(packs)
    rules = {**DEFAULT_RULES, AgencyKind.HOUSING: {Category.CONTACT}}
    set_rules(packs.manager, packs.panel, rules)
    categories = profile_of_kind(packs.meeting, AgencyKind.HOUSING)
    html = minutes_html(packs.meeting, categories, packs.housing.name)
    for secret in ("Sentinel-minute", "Sentinel-risk", "Sentinel-action", "Sentinel-review", "Testina", "Invented typo"):
        assert secret not in html, secret
    text = page_text(html)
    assert packs.item.case.reference in text and "Heard" in text
    assert packs.housing.name in text and "Hal Housing-Test" in text  # its own action: owner and person


def test_minutes_of_every_profile_come_from_one_read(app, packs):
    hold(packs)
    db.session.expire_all()
    loaded = content.load(packs.meeting)
    every = list(profiles(packs.meeting))
    with Selects() as seen:
        for categories in every:
            minutes_html(packs.meeting, categories, "Anyone", loaded=loaded)
    assert len(seen.list) <= 2, seen.list  # the register and the attendees, read once for all profiles


def test_minutes_pack_without_amendment_does_not_say_amended(app, packs):
    hold(packs, amend=False)
    assert "Amended on" not in minutes_html(packs.meeting, FULL, content.FULL_LABEL)


# --- rendered as PDF ---------------------------------------------------------------------------

def test_rendered_packs_carry_the_marking_on_every_page_and_only_what_the_profile_may_see(app, packs):
    hold(packs)
    education = profile_of_kind(packs.meeting, AgencyKind.EDUCATION)
    police_pages = render_pdf_text(agenda_html(packs.meeting, profile_of_kind(packs.meeting, AgencyKind.POLICE),
                                               "Test Police"))
    education_pages = render_pdf_text(minutes_html(packs.meeting, education - {Category.NARRATIVE},
                                                   packs.education.name))
    for pages in (police_pages, education_pages):
        assert len(pages) >= 2
        for number, page in enumerate(pages, start=1):
            assert page.count("OFFICIAL-SENSITIVE") >= 2, page
            assert f"Page {number} of {len(pages)}" in page
    police = " ".join(police_pages)
    assert "Testina Fakeperson" in police and "1 Pretend Road" in police
    minutes = " ".join(education_pages)
    assert "Testina Fakeperson" in minutes and packs.education.name in minutes
    assert "Sentinel-minute" not in minutes and "Pretend Road" not in minutes
    assert "Sentinel-research" not in police + minutes
