"""The steering group's statistics (issue #11), against a small panel counted by hand.

The panel: police, IDVA and children's social care are core members, housing attends when needed.
In April to June 2025 it held three meetings (15 April, 13 May, 10 June; one more was cancelled and
one was never held), hearing 6, 13 and 6 cases; in January to March 2025 one meeting heard 5. Every
figure below was worked out by hand from the rows the fixture writes, not by the code under test.
"""
import csv
import datetime as dt
import io
import re
import uuid
import zipfile
from types import SimpleNamespace

import openpyxl
import pytest

from marac.actions.models import ActionStatus
from marac.agencies.models import AgencyKind
from marac.cases.models import CaseStatus, PartyRole
from marac.core.timeutil import today, utcnow
from marac.extensions import db
from marac.meetings.models import AttendanceStatus, ItemStatus, MeetingStatus
from marac.panels.models import Panel, PanelKind, Role
from marac.people.models import EthnicGroup, Gender, Sexuality, YesNoUnknown
from marac.stats import figures, services
from marac.stats.suppression import FEWER_THAN_5, NOT_SHOWN
from tests.factories import (ActionFactory, AgencyFactory, AgendaItemFactory, AttendanceFactory, AttendeeFactory,
                             CaseFactory, CasePartyFactory, HeldMeetingFactory, PanelFactory, PanelMemberFactory,
                             PanelRoleFactory, PersonFactory, ResearchReturnFactory, UserFactory)
from tests.helpers import (REDIS_TEST_URL, audit_events, page_text, pdf_text, pdf_ua_failures, redis_or_skip,
                           signed_in, soup)

Q2 = figures.quarter_of(dt.date(2025, 5, 1))  # April to June 2025
QUARTER_ARGS = "?period=quarter&quarter=2025-Q2"
RANGE_ARGS = ("?period=range&start-day=1&start-month=4&start-year=2025&end-day=30&end-month=6&end-year=2025")
# Invented, and unusual enough never to occur by chance: none may reach a steering page or export.
VICTIM = {"first_names": "Zelphinaquorra", "last_name": "Fakeperson-Xyqt", "postcode": "ZZ9 9QX",
          "address": "77 Nonexistent Crescent, Fabletown"}
ATTENDEE = "Quibblesworth Mocktail"


def _at(day, hour=12):
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.timezone.utc)


def _cases(panel, referrer, agencies, meeting, referred_on, specs, position=0):
    """Cases heard at the meeting, each a dict of what is true of it (see the module docstring)."""
    made = []
    for n, spec in enumerate(specs):
        case = CaseFactory(panel=panel, referrer=referrer, status=CaseStatus.ACCEPTED, referred_on=referred_on,
                           is_repeat=spec.get("repeat", False), referring_agency_id=agencies[spec["route"]].id)
        victim = PersonFactory(gender=spec.get("gender", Gender.FEMALE),
                               ethnic_group=spec.get("ethnic", EthnicGroup.WHITE_BRITISH),
                               disability=YesNoUnknown.YES if spec.get("disabled") else YesNoUnknown.NO,
                               sexuality=spec.get("sexuality", Sexuality.HETEROSEXUAL),
                               age_band=spec.get("age", "25-34"), **spec.get("names", {}))
        CasePartyFactory(case=case, person=victim, role=PartyRole.VICTIM)
        CasePartyFactory(case=case, person=PersonFactory(gender=Gender.MALE, age_band=spec.get("perp_age", "35-44")),
                         role=PartyRole.PERPETRATOR, position=1)
        for c in range(spec.get("children", 0)):
            CasePartyFactory(case=case, person=PersonFactory(age_band="0-15"), role=PartyRole.CHILD, position=2 + c)
        made.append(AgendaItemFactory(meeting=meeting, case=case, position=position + n + 1))
    return made


def build_small_panel():
    """The hand-counted panel of the module's docstring. Returns a namespace of what tests need."""
    police, idva = AgencyFactory(kind=AgencyKind.POLICE), AgencyFactory(kind=AgencyKind.IDVA)
    csc, housing = AgencyFactory(kind=AgencyKind.CHILDRENS_SOCIAL_CARE), AgencyFactory(kind=AgencyKind.HOUSING)
    council, outsider = AgencyFactory(kind=AgencyKind.OTHER), AgencyFactory(kind=AgencyKind.OTHER)
    panel = PanelFactory(kind=PanelKind.MARAC, agenda_lead_days=5, minutes_days=3, women_16_plus=50_000)
    for agency, core in ((police, True), (idva, True), (csc, True), (housing, False)):
        PanelMemberFactory(panel=panel, agency=agency, is_core=core)
    users = {"admin": UserFactory(agency=council, is_admin=True), "manager": UserFactory(agency=council),
             "chair": UserFactory(agency=police), "representative": UserFactory(agency=idva),
             "steering": UserFactory(agency=council), "nonmember": UserFactory(agency=outsider)}
    for role in Role:
        PanelRoleFactory(panel=panel, user=users[role.value], role=role)
    agencies = {"police": police, "idva": idva, "csc": csc}

    m0 = HeldMeetingFactory(panel=panel, meets_on=dt.date(2025, 3, 11), published_on=dt.date(2025, 3, 3),
                            finalised_on=dt.date(2025, 3, 12))
    m1 = HeldMeetingFactory(panel=panel, meets_on=dt.date(2025, 4, 15), published_on=dt.date(2025, 4, 7),
                            finalised_on=dt.date(2025, 4, 22))  # both by their deadlines (8 and 22 April)
    m2 = HeldMeetingFactory(panel=panel, meets_on=dt.date(2025, 5, 13), published_on=dt.date(2025, 5, 7),
                            finalised_on=dt.date(2025, 5, 19))  # both late (6 and 16 May)
    m3 = HeldMeetingFactory(panel=panel, meets_on=dt.date(2025, 6, 10), published_on=dt.date(2025, 6, 2),
                            finalised_on=dt.date(2025, 6, 12))  # both by their deadlines (3 and 13 June)
    HeldMeetingFactory(panel=panel, meets_on=dt.date(2025, 5, 27), status=MeetingStatus.CANCELLED,
                       published_on=None, finalised_on=None, agenda_published_at=None, opened_at=None, closed_at=None)
    never_held = HeldMeetingFactory(panel=panel, meets_on=dt.date(2025, 6, 24), status=MeetingStatus.SCHEDULED,
                                    finalised_on=None, opened_at=None, closed_at=None)

    manager = users["manager"]
    items0 = _cases(panel, manager, agencies, m0, dt.date(2025, 2, 25), [{"route": "police"}] * 5)
    items1 = _cases(panel, manager, agencies, m1, dt.date(2025, 4, 1), [
        {"route": "police", "repeat": True, "ethnic": EthnicGroup.ASIAN, "disabled": True, "children": 1,
         "names": VICTIM},
        {"route": "police", "repeat": True, "ethnic": EthnicGroup.BLACK, "children": 1},
        {"route": "police", "ethnic": EthnicGroup.MIXED},
        {"route": "police", "disabled": True},
        {"route": "idva"},
        {"route": "csc", "ethnic": EthnicGroup.WHITE_OTHER}])
    items2 = _cases(panel, manager, agencies, m2, dt.date(2025, 4, 29), [
        {"route": "police", "repeat": True, "ethnic": EthnicGroup.ASIAN, "children": 2},
        {"route": "police", "repeat": True, "ethnic": EthnicGroup.BLACK, "children": 2},
        {"route": "police", "repeat": True, "ethnic": EthnicGroup.OTHER, "children": 2},
        {"route": "police", "repeat": True, "ethnic": EthnicGroup.MIXED},
        {"route": "police", "sexuality": Sexuality.GAY_LESBIAN},
        {"route": "police", "sexuality": Sexuality.BISEXUAL},
        {"route": "police", "disabled": True},
        {"route": "police", "disabled": True},
        {"route": "police", "disabled": True, "ethnic": EthnicGroup.NOT_KNOWN},
        {"route": "idva", "gender": Gender.MALE},
        {"route": "idva", "age": "16-17"},
        {"route": "idva"},
        {"route": "csc"}])
    deferred_case = CaseFactory(panel=panel, referrer=manager, status=CaseStatus.ACCEPTED,
                                referred_on=dt.date(2025, 4, 29))
    deferred = AgendaItemFactory(meeting=m2, case=deferred_case, position=14, status=ItemStatus.DEFERRED)
    items3 = _cases(panel, manager, agencies, m3, dt.date(2025, 5, 20), [
        {"route": "police", "repeat": True, "ethnic": EthnicGroup.BLACK, "children": 1},
        {"route": "police", "repeat": True, "ethnic": EthnicGroup.BLACK, "perp_age": "16-17"},
        {"route": "police", "ethnic": EthnicGroup.BLACK},
        {"route": "police", "gender": Gender.NON_BINARY},
        {"route": "idva", "gender": Gender.MALE},
        {"route": "csc", "disabled": True}])
    listed_only = CaseFactory(panel=panel, referrer=manager, status=CaseStatus.ACCEPTED)
    AgendaItemFactory(meeting=never_held, case=listed_only, status=ItemStatus.LISTED)

    # The register: police P P P; IDVA P D AI; CSC X A P; housing (when needed) AI X P; all present at m0.
    registers = {"police": ("present", "present", "present"), "idva": ("present", "deputy", "apologies_info"),
                 "csc": ("absent", "apologies", "present"), "housing": ("apologies_info", "absent", "present")}
    everyone = dict(agencies, housing=housing)
    for name, statuses in registers.items():
        for meeting, status in zip((m1, m2, m3), statuses):
            AttendanceFactory(meeting=meeting, agency=everyone[name], status=AttendanceStatus(status),
                              is_core=name != "housing")
        AttendanceFactory(meeting=m0, agency=everyone[name], is_core=name != "housing")
    AttendeeFactory(meeting=m1, agency=police, name=ATTENDEE)
    AttendeeFactory(meeting=m1, agency=idva)
    AttendeeFactory(meeting=m2, agency=police)
    AttendeeFactory(meeting=m2, agency=idva)
    AttendeeFactory(meeting=m2, agency=police, agreed=False)
    for agency in (police, idva, csc, housing):
        AttendeeFactory(meeting=m3, agency=agency)

    # Actions agreed in the quarter: police 2 on time, 1 late, 1 overdue; IDVA 2 not done, 1 not possible;
    # CSC 1 open and not yet due, 1 on time. At m0: police 1 on time.
    def action(item, owner, status, due, closed=None):
        return ActionFactory(item=item, owner_agency=owner, status=status, due_on=due,
                             closed_at=_at(closed) if closed else None)

    action(items1[0], police, ActionStatus.DONE, dt.date(2025, 4, 30), dt.date(2025, 4, 25))
    action(items2[0], police, ActionStatus.DONE, dt.date(2025, 5, 30), dt.date(2025, 5, 30))
    action(items2[1], police, ActionStatus.DONE, dt.date(2025, 5, 30), dt.date(2025, 6, 5))
    action(items1[1], police, ActionStatus.OPEN, dt.date(2025, 5, 1))
    action(items2[2], idva, ActionStatus.NOT_DONE, dt.date(2025, 6, 1), dt.date(2025, 6, 10))
    action(items2[3], idva, ActionStatus.NOT_DONE, dt.date(2025, 6, 1), dt.date(2025, 6, 10))
    action(items3[0], idva, ActionStatus.NOT_POSSIBLE, dt.date(2025, 7, 1), dt.date(2025, 6, 20))
    action(items3[1], csc, ActionStatus.OPEN, today() + dt.timedelta(days=30))
    action(items3[2], csc, ActionStatus.DONE, dt.date(2025, 7, 1), dt.date(2025, 6, 30))
    action(items0[0], police, ActionStatus.DONE, dt.date(2025, 4, 1), dt.date(2025, 3, 20))

    # Research: police on time for every case at m1 and m2 (20), late for 2 at m3; IDVA on time for the
    # 6 at m3 and 4 at m2; housing late for 5 at m2; CSC none. The deadline is the working day before.
    def research(items, agency, at):
        for item in items:
            ResearchReturnFactory(item=item, agency=agency, by=manager, at=at)

    all2 = items2 + [deferred]
    research(items1, police, _at(dt.date(2025, 4, 14), 16))
    research(all2, police, _at(dt.date(2025, 5, 12), 16))
    research(items3[:2], police, _at(dt.date(2025, 6, 10), 9))
    research(items3, idva, _at(dt.date(2025, 6, 9), 16))
    research(all2[:4], idva, _at(dt.date(2025, 5, 12), 16))
    research(all2[:5], housing, _at(dt.date(2025, 5, 13), 9))
    db.session.commit()
    cases = [i.case for i in items0 + items1 + items2 + items3]
    return SimpleNamespace(panel=panel, users=users, police=police, idva=idva, csc=csc, housing=housing,
                           meetings=(m0, m1, m2, m3), references=[c.reference for c in cases] + [deferred_case.reference])


@pytest.fixture
def small(app):
    return build_small_panel()


def key(measure, period=Q2):
    return (measure, period.key)


def row_of(table, label):
    found = [row for row in table.rows if row[0].text == label]
    assert len(found) == 1, f"{len(found)} rows labelled {label!r} in {table.key}"
    return [cell.text for cell in found[0]]


# --- the figures, by hand --------------------------------------------------------------------------

def test_case_figures_of_a_quarter_match_a_hand_count(small):
    found = services.figures_for(small.panel, Q2)
    values = found.protection.values
    assert found.previous.label == "January to March 2025"
    expected = {"heard": 25, "repeat": 8, "minoritised": 10, "lgbt": 3, "disabled": 6, "male": 2, "aged_16_17": 1,
                "children": 9, "young_perps": 1, "nonpolice": 8, ("route", AgencyKind.POLICE): 17,
                ("route", AgencyKind.IDVA): 5, ("route", AgencyKind.CHILDRENS_SOCIAL_CARE): 3,
                ("route", AgencyKind.HOUSING): 0}
    assert {measure: values[key(measure)] for measure in expected} == expected
    assert values[key("heard", found.previous)] == 5
    assert values[key(("route", AgencyKind.POLICE), found.previous)] == 5
    marac = found.table("marac")
    # 25 cases in 91 days, for a year, per 10,000 of 50,000 women: 25 x 365.25 / 91 / 5 = 20.07
    assert row_of(marac, "Cases per 10,000 women aged 16 and over (a year's rate)")[1] == "20.1"
    assert row_of(marac, "Full-time IDVAs the volume implies (one per 100 cases a year)")[1] == "1.0"
    assert row_of(marac, "Coordinators the volume implies (one per 400 cases a year)")[1] == "0.3"
    assert row_of(marac, "Repeat cases")[1:3] == ["8", "32.0%"]
    assert row_of(marac, "Referrals from agencies other than the police")[1:3] == ["8", "32.0%"]
    assert row_of(marac, "Victims who are racially minoritised")[1:3] == ["10", "40.0%"]
    assert row_of(marac, "Victims who are disabled")[1:3] == ["6", "24.0%"]
    assert row_of(marac, "Children in the households of cases heard")[1] == "9"
    for label in ("Victims who are LGBT+", "Victims who are male", "Victims aged 16 or 17",
                  "Perpetrators aged 17 or under"):
        assert row_of(marac, label)[1] == FEWER_THAN_5, label
    assert row_of(marac, "Repeat cases")[5] == "31%"  # the national figure beside it
    routes = found.table("referral-routes")
    assert row_of(routes, "Police")[1:3] == ["17", "68.0%"]
    assert row_of(routes, "Children's social care")[1] == FEWER_THAN_5
    # IDVA's 5 would give away CSC's 3 (8 non-police referrals in all): hidden too, and no percentage
    assert row_of(routes, "IDVA service")[1:3] == [NOT_SHOWN, "–"]


def test_attendance_figures_match_a_hand_count(small):
    found = services.figures_for(small.panel, Q2)
    agencies = found.table("attendance-agencies")
    police, idva, csc, housing = (row_of(agencies, a.name) for a in (small.police, small.idva, small.csc,
                                                                     small.housing))
    assert police[2:] == ["3", "3", "0", "0", "0", "0", "100%", "Not absent"]
    assert idva[2:] == ["3", "1", "1", "1", "0", "0", "67%", "1 of 1"]
    assert csc[2:] == ["3", "1", "0", "0", "1", "1", "33%", "0 of 2"]
    assert housing[1:] == ["Attends when needed", "3", "1", "0", "1", "0", "1", "33% (when needed)", "1 of 2"]
    flagged = {row[0].text for row in agencies.rows if any(cell.flag for cell in row)}
    assert flagged == {small.idva.name, small.csc.name}  # core members below 80%; housing is not rated
    summary = dict((label, cell.text) for label, cell in found.summary)
    # core rows: 9; present or deputy: 3 + 2 + 1 = 6; with IDVA's apologies and information: 7
    assert summary["Attendance of core agencies (present or deputy)"] == "67%"
    assert summary["Core agency engagement (present, deputy or information sent)"] == "78%"
    assert summary["Meetings held"] == "3"  # neither the cancelled nor the unheld meeting
    assert summary["Attendees who agreed to the confidentiality statement"] == "8 of 9"
    assert summary["Meetings where every attendee agreed"] == "2 of 3"
    register = found.table("attendance-register")
    assert [row[0].text for row in register.rows] == ["15 April 2025", "13 May 2025", "10 June 2025"]
    idva_column = register.columns.index(small.idva.short_name)
    assert [row[idva_column].short for row in register.rows] == ["P", "D", "AI"]
    assert [row[idva_column].text for row in register.rows] == ["Present", "Deputy sent", "Apologies, information sent"]
    assert any(small.csc.name in flag and "33%" in flag for flag in found.flags)


def test_actions_research_and_timeliness_match_a_hand_count(small):
    found = services.figures_for(small.panel, Q2)
    actions = found.table("actions")
    assert row_of(actions, small.police.name)[1:] == ["4", "2", "1", "1", "0", "0", "0", "50%"]
    assert row_of(actions, small.idva.name)[1:] == ["3", "0", "0", "0", "0", "1", "2", "0%"]
    assert row_of(actions, small.csc.name)[1:] == ["2", "1", "0", "0", "1", "0", "0", "50%"]
    assert row_of(actions, "All agencies")[1:] == ["9", "3", "1", "1", "1", "1", "2", "33%"]
    idva_not_done = [row for row in actions.rows if row[0].text == small.idva.name][0][7]
    assert idva_not_done.flag == "Repeated"
    assert any(small.idva.name in flag and "not do 2" in flag for flag in found.flags)
    research = found.table("research")
    # 26 cases listed (one deferred) and every agency on each register: 26 expected of each
    assert row_of(research, small.police.name)[1:] == ["26", "20", "2", "4", "77%"]
    assert row_of(research, small.idva.name)[1:] == ["26", "10", "0", "16", "38%"]
    assert row_of(research, small.csc.name)[1:] == ["26", "0", "0", "26", "0%"]
    assert row_of(research, small.housing.name)[1:] == ["26", "0", "5", "21", "0%"]
    timeliness = found.table("timeliness")
    assert row_of(timeliness, "Agenda published by its deadline")[1] == "2 of 3 (67%)"
    assert row_of(timeliness, "Minutes finalised within 3 working days")[1] == "2 of 3 (67%)"
    assert row_of(timeliness, "Research returned by the deadline")[1] == "29%"  # 30 of 104
    summary = found.table("summary")
    assert row_of(summary, "Actions completed on time")[1:] == ["33%", "100%"]


def test_referral_to_first_hearing_counts_working_days_across_bank_holidays(small):
    """6 cases took 10 working days; 13 took 9 (1 to 15 April; 29 April to 13 May across the early May
    bank holiday, 10 weekdays); 6 took 14 (20 May to 10 June across the spring bank holiday). The
    median of 25 is the 13th: 9. Counting weekdays only it would be 10."""
    found = services.figures_for(small.panel, Q2)
    assert row_of(found.table("timeliness"), "Referral to first hearing, median working days")[1:] == ["9", "–"]
    weekdays = sum(1 for n in range(1, 15) if (dt.date(2025, 4, 29) + dt.timedelta(days=n)).weekday() < 5)
    assert weekdays == 10


def test_the_trend_has_eight_quarters_ending_with_the_period(small):
    found = services.figures_for(small.panel, Q2)
    trend = found.table("trend")
    assert [row[0].text for row in trend.rows][-2:] == ["January to March 2025", "April to June 2025"]
    assert len(trend.rows) == 8
    assert [row[1].text for row in trend.rows][-2:] == ["1", "3"]
    assert [row[2].text for row in trend.rows][-2:] == ["5", "25"]
    assert trend.rows[-1][3].text == "32.0%"
    assert trend.rows[-2][3].text == "–"  # 5 cases: no percentage on fewer than 10
    chart = found.charts["heard"]
    assert chart.title == "Cases heard rose from 5 in January to March 2025 to 25 in April to June 2025"


# --- the page ------------------------------------------------------------------------------------

def people_texts(response):
    return [cell.get_text(" ", strip=True) for cell in soup(response).select("[data-people]")]


def assert_no_small_count(texts, where):
    small_numbers = [t for t in texts if re.fullmatch(r"[1-4]", t)]
    assert not small_numbers, f"{where} shows counts of people from 1 to 4: {small_numbers}"


def test_the_steering_member_sees_the_quarter_with_small_numbers_suppressed(app, small):
    client = signed_in(app, small.users["steering"])
    for args in (QUARTER_ARGS, RANGE_ARGS):
        response = client.get(f"/panels/{small.panel.id}/statistics{args}")
        assert response.status_code == 200
        text = page_text(response)
        assert "April to June 2025" in text or "1 April 2025 to 30 June 2025" in text
        assert "Cases heard 25" in text
        texts = people_texts(response)
        assert FEWER_THAN_5 in texts and NOT_SHOWN in texts
        assert_no_small_count(texts, f"the page {args}")
    page = client.get(f"/panels/{small.panel.id}/statistics{QUARTER_ARGS}")
    text = page_text(page)
    assert f"{small.csc.name} attended 33% of the meetings it was expected at, below the panel's 80%." in text
    assert "Below 80%" in text and "Repeated" in text
    # charts: an image with its title and text alternative, no script
    svgs = soup(page).select("svg[role=img]")
    assert {svg.find("title").get_text() for svg in svgs} >= {found_title(small)}
    assert all(svg.find("desc").get_text().strip() for svg in svgs)
    assert not soup(page).select("script:not([nonce])")


def found_title(small):
    return services.figures_for(small.panel, Q2).charts["attendance"].title


def test_the_default_period_is_the_last_complete_quarter(app, small):
    client = signed_in(app, small.users["manager"])
    response = client.get(f"/panels/{small.panel.id}/statistics")
    assert response.status_code == 200
    assert figures.last_complete_quarter(today()).label in page_text(response)


@pytest.mark.parametrize("args, message", [
    ("?period=range", "Enter the date the period starts"),
    ("?period=range&start-day=1&start-month=4&start-year=2025", "Enter the date the period ends"),
    ("?period=range&start-day=31&start-month=2&start-year=2025&end-day=1&end-month=3&end-year=2025",
     "From must be a real date"),
    ("?period=range&start-day=1&start-month=6&start-year=2025&end-day=1&end-month=4&end-year=2025",
     "The end date must be the same as or after the start date"),
    ("?period=range&start-day=1&start-month=1&start-year=2001&end-day=1&end-month=1&end-year=2020",
     "Choose a period of ten years or less"),
    ("?period=range&start-day=1&start-month=1&start-year=2025&end-day=1&end-month=1&end-year=2999",
     "To must be today or in the past"),
    ("?period=quarter&quarter=1999-Q9", "Choose a quarter from the list"),
    ("?period=financial_year&year=abc", "Choose a financial year from the list"),
])
def test_a_period_that_cannot_be_used_is_explained(app, small, args, message):
    client = signed_in(app, small.users["steering"])
    response = client.get(f"/panels/{small.panel.id}/statistics{args}")
    assert response.status_code == 200  # the page, with the errors, and the last complete quarter's figures
    summary = soup(response).select_one(".govuk-error-summary")
    assert summary is not None and message in summary.get_text()
    assert soup(response).title.get_text().startswith("Error: ")
    # what was typed stays in the boxes
    if "start-year=2001" in args:
        assert soup(response).find("input", attrs={"name": "start-year"})["value"] == "2001"


@pytest.mark.parametrize("args", ["?period=bogus", "?quarter=%3Cscript%3E", "?period=range&start-day=%00&end-month=x",
                                  "?period=financial_year&year=99999999999999999999"])
def test_junk_in_the_query_string_never_breaks_the_page(app, small, args):
    client = signed_in(app, small.users["steering"])
    response = client.get(f"/panels/{small.panel.id}/statistics{args}")
    assert response.status_code == 200
    assert "<script>" not in response.get_data(as_text=True).split("</head>", 1)[1].replace(
        "<script nonce", "").split("<script type=\"module\" nonce")[0]


# --- who may see it --------------------------------------------------------------------------------

READERS = {Role.STEERING, Role.MANAGER, Role.CHAIR}
PATHS = ["/statistics" + QUARTER_ARGS, "/statistics/tables/marac.csv" + QUARTER_ARGS,
         "/statistics/tables/summary.xlsx" + QUARTER_ARGS, "/statistics/all-tables.xlsx" + QUARTER_ARGS,
         "/statistics/safelives-return.csv" + QUARTER_ARGS]


@pytest.mark.parametrize("kind", ["admin", "manager", "chair", "representative", "steering", "nonmember"])
def test_only_steering_members_the_manager_and_the_chair_see_the_statistics(app, small, kind):
    client = signed_in(app, small.users[kind])
    for path in PATHS:
        response = client.get(f"/panels/{small.panel.id}{path}")
        assert response.status_code == (200 if kind in READERS else 403), (kind, path)
    settings = client.get(f"/panels/{small.panel.id}/statistics/settings")
    assert settings.status_code == (200 if kind == Role.MANAGER else 403)


def test_a_steering_member_still_cannot_open_a_case_a_meeting_or_an_action(app, small):
    from marac.actions.models import Action
    from marac.meetings.models import AgendaItem

    client = signed_in(app, small.users["steering"])
    meeting = small.meetings[1]
    action = db.session.execute(db.select(Action).limit(1)).scalar_one()
    item = db.session.execute(db.select(AgendaItem).where(AgendaItem.meeting_id == meeting.id).limit(1)).scalar_one()
    for url in (f"/cases/{item.case_id}", f"/meetings/{meeting.id}", f"/actions/{action.id}",
                f"/panels/{small.panel.id}/cases", f"/panels/{small.panel.id}/meetings",
                f"/agenda-items/{item.id}/research", f"/meetings/{meeting.id}/register"):
        assert client.get(url).status_code in (403, 404), url
    # and the statistics link is on their home page, without links to cases or meetings
    home = client.get("/")
    hrefs = [a["href"] for a in soup(home).find_all("a", href=True)]
    assert f"/panels/{small.panel.id}/statistics" in hrefs
    assert f"/panels/{small.panel.id}/cases" not in hrefs


def test_an_unknown_table_or_a_return_for_another_kind_of_panel_is_not_found(app, small):
    client = signed_in(app, small.users["steering"])
    bad = client.get(f"/panels/{small.panel.id}/statistics/tables/marac.csv?period=range&start-day=31&start-month=2&start-year=2025")
    assert bad.status_code == 400 and "From must be a real date" in page_text(bad)  # the page, not a file
    assert client.get(f"/panels/{small.panel.id}/statistics/tables/nothing.csv").status_code == 404
    assert client.get(f"/panels/{small.panel.id}/statistics/tables/marac.pdf").status_code == 404
    mace = PanelFactory(kind=PanelKind.MACE)
    PanelRoleFactory(panel=mace, user=small.users["steering"], role=Role.STEERING)
    assert client.get(f"/panels/{mace.id}/statistics").status_code == 200
    assert client.get(f"/panels/{mace.id}/statistics/safelives-return.csv").status_code == 404


# --- exports -------------------------------------------------------------------------------------

def read_csv(data):
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


def test_each_table_exports_as_csv_and_xlsx_as_the_page_shows_it_and_is_audited(app, small):
    client = signed_in(app, small.users["steering"])
    found = services.figures_for(small.panel, Q2)
    for table in found.tables.values():
        response = client.get(f"/panels/{small.panel.id}/statistics/tables/{table.key}.csv{QUARTER_ARGS}")
        assert response.status_code == 200
        disposition = response.headers["Content-Disposition"]
        assert disposition == (f'attachment; filename="OFFICIAL-SENSITIVE_MARAC_statistics_2025-04-01_to_2025-06-30_'
                               f'{table.key}.csv"')
        rows = read_csv(response.data)
        assert rows[0] == ["OFFICIAL-SENSITIVE"] and rows[1] == [table.title]
        header = rows.index(table.columns)
        body = rows[header + 1:header + 1 + len(table.rows)]
        assert [r[0] for r in body] == [row[0].text for row in table.rows]
        for written, row in zip(body, table.rows):
            for text, cell in zip(written, row):
                assert text.startswith(cell.text.lstrip("'")), (table.key, text, cell.text)
        response = client.get(f"/panels/{small.panel.id}/statistics/tables/{table.key}.xlsx{QUARTER_ARGS}")
        assert response.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
        assert sheet["A1"].value == "OFFICIAL-SENSITIVE" and sheet["A2"].value == table.title
        labels = [sheet.cell(row=6 + n, column=1).value for n in range(len(table.rows))]
        assert labels == [row[0].text for row in table.rows]
    events = audit_events("stats.exported", small.panel.id)
    assert len(events) == 2 * len(found.tables)
    assert {(e.detail["what"], e.detail["format"]) for e in events} == {
        (key, fmt) for key in found.tables for fmt in ("csv", "xlsx")}
    assert all(e.detail["from"] == "2025-04-01" and e.detail["to"] == "2025-06-30" for e in events)
    assert all(e.actor_user_id == small.users["steering"].id for e in events)


def test_the_marac_table_in_a_file_shows_the_same_suppressed_figures(app, small):
    client = signed_in(app, small.users["steering"])
    rows = read_csv(client.get(f"/panels/{small.panel.id}/statistics/tables/referral-routes.csv{QUARTER_ARGS}").data)
    by_label = {row[0]: row for row in rows if row}
    assert by_label["Police"][1:3] == ["17", "68.0%"]
    assert by_label["IDVA service"][1] == NOT_SHOWN
    assert by_label["Children's social care"][1] == FEWER_THAN_5
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(
        f"/panels/{small.panel.id}/statistics/tables/referral-routes.xlsx{QUARTER_ARGS}").data))
    values = {row[0]: row for row in workbook.active.iter_rows(min_row=6, values_only=True) if row[0]}
    assert values["Police"][1] == 17 and abs(values["Police"][2] - 0.68) < 1e-9
    assert values["Children's social care"][1] == FEWER_THAN_5


def test_the_safelives_return_has_a_row_per_meeting_then_the_period(app, small):
    client = signed_in(app, small.users["manager"])
    response = client.get(f"/panels/{small.panel.id}/statistics/safelives-return.csv{QUARTER_ARGS}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('_safelives-return.csv"')
    rows = read_csv(response.data)
    header = next(i for i, row in enumerate(rows) if row and row[0] == "Meeting date")
    columns = rows[header]
    body = rows[header + 1:header + 5]
    assert [row[0] for row in body] == ["2025-04-15", "2025-05-13", "2025-06-10",
                                        "All meetings, 1 April 2025 to 30 June 2025"]
    heard, police = columns.index("Cases discussed"), columns.index("Referred by Police")
    # the period's totals are the page's; each meeting's count is its hand count or hidden
    assert (body[3][heard], body[3][police]) == ("25", "17")
    by_hand = {"Cases discussed": ["6", "13", "6"], "Repeat cases": ["2", "4", "2"], "Referred by Police": ["4", "9", "4"],
               "Children in the households": ["2", "6", "1"]}
    for column, counts in by_hand.items():
        for row, count in zip(body[:3], counts):
            assert row[columns.index(column)] in (count, FEWER_THAN_5, NOT_SHOWN), (column, row[0])
    for row in body[:3]:  # per meeting, most counts are small
        assert_no_small_count(row[1:], "the SafeLives return")
    [event] = audit_events("stats.exported", small.panel.id)
    assert event.detail["what"] == "safelives-return"


def test_the_report_is_an_accessible_pdf_with_the_pages_figures(app, small):
    client = signed_in(app, small.users["chair"])
    response = client.get(f"/panels/{small.panel.id}/statistics/report.pdf{QUARTER_ARGS}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].endswith('_report.pdf"')
    pdf = response.data
    assert pdf_ua_failures(pdf) == []
    text = " ".join(pdf_text(pdf).split())
    assert "Steering group report" in text and "OFFICIAL-SENSITIVE" in text
    assert "Repeat cases 8 32.0%" in text
    assert "Victims who are male fewer than 5" in text
    assert "IDVA service not shown" in text
    [event] = audit_events("stats.exported", small.panel.id)
    assert event.detail["what"] == "report" and len(event.detail["sha256"]) == 64


def xlsx_text(data):
    """Every string in an XLSX file (its XML parts), for looking for what must not be there."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return " ".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())


def test_no_personal_value_reaches_a_steering_page_or_export(app, small):
    client = signed_in(app, small.users["steering"])
    base = f"/panels/{small.panel.id}/statistics"
    found = services.figures_for(small.panel, Q2)
    outputs = {"page": client.get(base + QUARTER_ARGS).get_data(as_text=True),
               "workbook": xlsx_text(client.get(base + "/all-tables.xlsx" + QUARTER_ARGS).data),
               "return": client.get(base + "/safelives-return.csv" + QUARTER_ARGS).get_data(as_text=True),
               "report": pdf_text(client.get(base + "/report.pdf" + QUARTER_ARGS).data)}
    for key in found.tables:
        outputs[f"{key}.csv"] = client.get(f"{base}/tables/{key}.csv{QUARTER_ARGS}").get_data(as_text=True)
    needles = [*VICTIM.values(), ATTENDEE, *small.references, small.users["manager"].full_name,
               small.users["chair"].full_name, "1987", "Invented action"]
    for name, output in outputs.items():
        for needle in needles:
            assert needle.lower() not in output.lower(), f"{name} shows {needle!r}"
    # and no link to a case, a meeting or an action
    links = [a["href"] for a in soup(outputs["page"]).find_all("a", href=True)]
    assert not [href for href in links if re.match(r"/(cases|meetings|actions|agenda-items)/", href)]


# --- settings ------------------------------------------------------------------------------------

def test_the_manager_sets_the_population_threshold_and_local_shares(app, small):
    client = signed_in(app, small.users["manager"])
    url = f"/panels/{small.panel.id}/statistics/settings"
    from tests.helpers import post_form

    response = post_form(client, url, {"women_16_plus": "92000", "attendance_threshold": "60", "minutes_days": "4",
                                       "local_minoritised_share": "39.8", "local_lgbt_share": "5%",
                                       "local_disabled_share": "", "local_male_share": "48.6",
                                       "local_aged_16_17_share": "2.3"})
    assert response.status_code == 302
    db.session.expire_all()
    panel = db.session.get(type(small.panel), small.panel.id)
    assert (panel.women_16_plus, panel.attendance_threshold, panel.minutes_days) == (92000, 60, 4)
    assert (panel.local_minoritised_share, panel.local_lgbt_share, panel.local_disabled_share) == (39.8, 5.0, None)
    [event] = audit_events("stats.settings_updated", small.panel.id)
    assert set(event.detail["fields"]) >= {"women_16_plus", "attendance_threshold", "minutes_days"}
    page = page_text(client.get(f"/panels/{small.panel.id}/statistics{QUARTER_ARGS}"))
    # CSC (33%) is still below the new threshold; IDVA (67%) no longer is
    assert f"{small.csc.name} attended 33% of the meetings it was expected at, below the panel's 60%." in page
    assert f"{small.idva.name} attended 67%" not in page
    assert "39.8%" in page and "Minutes finalised within 4 working days" in page


@pytest.mark.parametrize("field, value, message", [
    ("attendance_threshold", "", "Enter the attendance threshold, for example 80"),
    ("attendance_threshold", "0", "The attendance threshold must be between 1 and 100"),
    ("attendance_threshold", "eighty", "Attendance threshold (per cent) must be a whole number, like 3"),
    ("women_16_plus", "12", "Women aged 16 and over must be between 1,000 and 10,000,000"),
    ("minutes_days", "21", "Working days must be between 1 and 20"),
    ("local_lgbt_share", "101", "LGBT+ (per cent) must be between 0 and 100"),
    ("local_lgbt_share", "1.25", "LGBT+ (per cent) can have one decimal place at most, like 14.1"),
    ("local_lgbt_share", "a lot", "LGBT+ (per cent) must be a number, like 14.1"),
    ("local_lgbt_share", "NaN", "LGBT+ (per cent) must be between 0 and 100"),
])
def test_settings_that_cannot_be_used_are_explained_and_kept(app, small, field, value, message):
    from tests.helpers import input_value, post_form

    client = signed_in(app, small.users["manager"])
    data = {"women_16_plus": "50000", "attendance_threshold": "80", "minutes_days": "3", field: value}
    response = post_form(client, f"/panels/{small.panel.id}/statistics/settings", data)
    assert response.status_code == 200
    assert message in soup(response).select_one(".govuk-error-summary").get_text()
    assert (input_value(response, field) or "") == value
    assert audit_events("stats.settings_updated", small.panel.id) == []


# --- MACE and ASB ----------------------------------------------------------------------------------

def test_mace_and_asb_pages_count_their_own_figures(app, small):
    from marac.cases.models import RiskLevel, risk_levels
    from marac.cases.questions import AsbCategory, ExploitationType

    steering = small.users["steering"]
    client = signed_in(app, steering)
    for kind in (PanelKind.MACE, PanelKind.ASB):
        panel = PanelFactory(kind=kind)
        PanelMemberFactory(panel=panel, agency=small.police)
        PanelRoleFactory(panel=panel, user=steering, role=Role.STEERING)
        meeting = HeldMeetingFactory(panel=panel, meets_on=dt.date(2025, 5, 6))
        # 13 cases heard: risk or priority high for 6, medium for 2, standard for 5
        for n in range(13):
            codes = ({"exploitation_types": [ExploitationType.CRIMINAL] + ([ExploitationType.SEXUAL] if n < 2 else [])}
                     if kind == PanelKind.MACE else {"categories": [AsbCategory.DRUGS], "response_days": 3})
            lowest = risk_levels(kind)[0]  # MACE grades low / medium / high; ASB standard / medium / high
            level = RiskLevel.HIGH if n < 6 else RiskLevel.MEDIUM if n < 8 else lowest
            case = CaseFactory(panel=panel, referrer=small.users["chair"], status=CaseStatus.ACCEPTED,
                               referred_on=dt.date(2025, 4, 28), codes=codes, risk_level=level,
                               screened_at=_at(dt.date(2025, 4, 30)))
            role = PartyRole.YOUNG_PERSON if kind == PanelKind.MACE else PartyRole.COMPLAINANT
            CasePartyFactory(case=case, person=PersonFactory(), role=role)
            AgendaItemFactory(meeting=meeting, case=case)
        db.session.commit()
        found = services.figures_for(panel, Q2)
        if kind == PanelKind.MACE:
            types = found.table("mace-exploitation")
            assert row_of(types, ExploitationType.CRIMINAL.label)[1:3] == ["13", "100.0%"]
            assert row_of(types, ExploitationType.SEXUAL.label)[1] == FEWER_THAN_5
            levels = found.table("mace-risk")
        else:
            assert row_of(found.table("asb-kinds"), AsbCategory.DRUGS.label)[1] == "13"
            levels = found.table("asb-priority")
            # referred Monday 28 April, decided Wednesday 30 April: 2 working days, within 3
            assert row_of(found.table("asb-response"), "Decided within the response time")[1] == "13"
        # medium's 2 would follow from 13 - 6 - 5: the smaller of the others (standard's 5) is hidden too
        assert [row_of(levels, level.label)[1] for level in (RiskLevel.HIGH, RiskLevel.MEDIUM, lowest)] \
            == ["6", FEWER_THAN_5, NOT_SHOWN]
        assert row_of(levels, "All heard")[1] == "13"
        response = client.get(f"/panels/{panel.id}/statistics{QUARTER_ARGS}")
        assert response.status_code == 200
        assert_no_small_count(people_texts(response), f"the {kind} page")


UNPICKLED = []


def _unpickled():
    UNPICKLED.append(True)


class _Forged:
    """What an intruder with write access to Redis might plant: unpickling it would run _unpickled."""

    def __reduce__(self):
        return _unpickled, ()


def test_figures_are_worked_out_once_for_every_worker_through_redis(app, small, monkeypatch, clock):
    """With REDIS_URL, the figures one worker worked out are found by the next (whose own memory is
    empty), with the time the first worked them out, and without the counts behind the suppressed
    cells. Grown old, they are worked out again by one worker while the others show the copy they find;
    with no copy, the others wait for it. An entry not signed by the service, or signed for another
    name, is never unpickled; another version of the code does not take them for its own; and a Redis
    that does not answer costs the page nothing but the figures being worked out."""
    import pickle

    import redis

    from marac.core import shared_cache

    redis_or_skip()
    now = utcnow()  # 10:00 on a day, so that the five minutes below stay within it (the day is in the key)
    clock(seconds=(dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(10), now.tzinfo) - now).total_seconds())
    monkeypatch.setitem(app.config, "STATS_CACHE_SECONDS", 300)
    store = redis.Redis.from_url(REDIS_TEST_URL)
    monkeypatch.setitem(app.extensions, "marac_shared_cache", store)
    loads, names = [], []
    real_load, real_put, real_claim = services.load, shared_cache.put, shared_cache.claim
    monkeypatch.setattr(services, "load", lambda *args: loads.append(1) or real_load(*args))
    monkeypatch.setattr(shared_cache, "put", lambda namespace, key, *rest: names.append(
        (key, shared_cache._name(namespace, key))) or real_put(namespace, key, *rest))
    client = signed_in(app, small.users["steering"])
    url = f"/panels/{small.panel.id}/statistics{QUARTER_ARGS}"

    def another_worker():
        monkeypatch.setattr(services, "_RECENT", {})
        return page_text(client.get(url))

    first = another_worker()
    second = another_worker()
    assert len(loads) == 1 and first == second and "Figures worked out at" in second
    [(key, name)] = names
    kept = shared_cache.get("statistics", key)
    assert kept.protection is None and kept.tables  # what the page shows, not the counts behind it
    # The claim ended when the figures were put: the next worker to find them old may claim them.
    assert real_claim("statistics", key, 60) and not real_claim("statistics", key, 60)
    store.delete(name + ":claim")

    # Grown old: while another worker works them out again, the others show the copy they find.
    clock(seconds=301)
    monkeypatch.setattr(shared_cache, "claim", lambda *args: False)
    assert another_worker() == second and len(loads) == 1
    monkeypatch.setattr(shared_cache, "claim", real_claim)
    third = another_worker()
    assert len(loads) == 2 and third != second and "Figures worked out at" in third

    # None kept and another worker at it: this one waits for them, then works them out if they never come.
    store.delete(name)
    waited = []
    monkeypatch.setattr(shared_cache, "claim", lambda *args: False)
    monkeypatch.setattr(shared_cache, "wait_for", lambda *args: waited.append(args) or None)
    assert "Figures worked out at" in another_worker()
    assert len(waited) == 1 and len(loads) == 3
    monkeypatch.setattr(shared_cache, "claim", real_claim)

    # Signed with another key, or moved from another name: neither is unpickled.
    store.set(name, b"\0" * 32 + pickle.dumps(_Forged()), ex=60)
    assert "Figures worked out at" in another_worker()
    assert len(loads) == 4 and UNPICKLED == []
    shared_cache.put("statistics", "another panel's figures", _Forged(), 60)
    store.set(name, store.get(shared_cache._name("statistics", "another panel's figures")), ex=60)
    assert shared_cache.get("statistics", key) is None
    assert "Figures worked out at" in another_worker()
    assert len(loads) == 5 and UNPICKLED == []

    monkeypatch.setattr(services, "code_version", lambda: "another version")  # a deployment rolling out
    assert "Figures worked out at" in another_worker()
    assert len(loads) == 6
    monkeypatch.setitem(app.extensions, "marac_shared_cache",
                        redis.Redis(host="127.0.0.1", port=1, socket_timeout=0.5, socket_connect_timeout=0.5))
    assert "Figures worked out at" in another_worker()
    assert len(loads) == 7


def test_figures_are_kept_a_few_minutes_and_say_when_they_were_worked_out(app, small, monkeypatch):
    """With STATS_CACHE_SECONDS set, a panel's figures are worked out once for a period and day and shown
    again until they are that old (the page says when they were worked out); a change of the panel's
    settings works them out again; and whether the viewer may see them is decided at every request."""
    monkeypatch.setitem(app.config, "STATS_CACHE_SECONDS", 300)
    monkeypatch.setattr(services, "_RECENT", {})
    loads = []
    real_load = services.load
    monkeypatch.setattr(services, "load", lambda *args: loads.append(1) or real_load(*args))
    client = signed_in(app, small.users["steering"])
    first = page_text(client.get(f"/panels/{small.panel.id}/statistics{QUARTER_ARGS}"))
    second = page_text(client.get(f"/panels/{small.panel.id}/statistics{QUARTER_ARGS}"))
    assert len(loads) == 1 and first == second
    assert "Figures worked out at" in first and "worked out again once they are 5 minutes old" in first
    panel = db.session.get(Panel, small.panel.id)
    threshold = panel.attendance_threshold
    panel.attendance_threshold = threshold + 1
    db.session.commit()
    try:
        assert client.get(f"/panels/{small.panel.id}/statistics{QUARTER_ARGS}").status_code == 200
        assert len(loads) == 2
    finally:
        db.session.get(Panel, small.panel.id).attendance_threshold = threshold
        db.session.commit()
    outsider = signed_in(app, small.users["nonmember"])
    assert outsider.get(f"/panels/{small.panel.id}/statistics{QUARTER_ARGS}").status_code in (403, 404)
    assert "Figures worked out" not in page_text(outsider.get(f"/panels/{small.panel.id}/statistics{QUARTER_ARGS}"))
    monkeypatch.setitem(app.config, "STATS_CACHE_SECONDS", 0)
    client.get(f"/panels/{small.panel.id}/statistics{QUARTER_ARGS}")
    assert len(loads) == 3
