"""The demo's steering group sees a year of its panel's figures, and one quarter of them matches a
count made by hand: here, by walking the demo's meetings, hearings, cases, people, registers and
actions through the ORM, one object at a time, without the statistics code."""
import pytest
from sqlalchemy import select

from marac.actions.models import Action, ActionStatus
from marac.agencies.models import AgencyKind
from marac.cases.models import PartyRole
from marac.core.timeutil import today
from marac.demo.services import seed
from marac.extensions import db
from marac.meetings.models import ATTENDED, AttendanceStatus, ItemStatus, Meeting, MeetingStatus
from marac.panels.models import Panel, Role
from marac.people.models import EthnicGroup, Gender, Sexuality, YesNoUnknown
from marac.stats import figures, services
from marac.stats.suppression import FEWER_THAN_5, NOT_SHOWN
from tests.factories import PanelRoleFactory, UserFactory
from tests.helpers import page_text, signed_in, soup


@pytest.fixture
def demo(app):
    seed()
    db.session.commit()
    return db.session.execute(select(Panel).where(Panel.name == "Camden MARAC")).scalar_one()


def hand_count(panel, quarter):
    """The quarter's figures, counted one hearing, person and register line at a time."""
    meetings = [m for m in db.session.execute(select(Meeting).where(Meeting.panel_id == panel.id)).scalars()
                if m.status == MeetingStatus.HELD and quarter.contains(m.meets_on)]
    items = [i for m in meetings for i in m.items if i.status == ItemStatus.HEARD]
    victims = [next(p.person for p in i.case.parties if p.role == PartyRole.VICTIM) for i in items]
    count = {
        "meetings": len(meetings),
        "heard": len(items),
        "repeat": sum(1 for i in items if i.case.is_repeat),
        "police": sum(1 for i in items if i.case.referring_agency.kind == AgencyKind.POLICE),
        "minoritised": sum(1 for v in victims if v.ethnic_group in (EthnicGroup.ASIAN, EthnicGroup.BLACK,
                                                                   EthnicGroup.MIXED, EthnicGroup.OTHER)),
        "lgbt": sum(1 for v in victims if v.sexuality in (Sexuality.GAY_LESBIAN, Sexuality.BISEXUAL, Sexuality.OTHER)
                    or v.gender == Gender.NON_BINARY),
        "disabled": sum(1 for v in victims if v.disability == YesNoUnknown.YES),
        "male": sum(1 for v in victims if v.gender == Gender.MALE),
        "aged_16_17": sum(1 for v in victims if v.age_band == "16-17"),
        "children": sum(1 for i in items for p in i.case.parties if p.role == PartyRole.CHILD),
    }
    count["nonpolice"] = count["heard"] - count["police"]
    attendance = {}
    for meeting in meetings:
        for line in meeting.attendances:
            seen = attendance.setdefault(line.agency.name, [0, 0, line.is_core])
            seen[0] += 1
            seen[1] += line.status in ATTENDED
    core = [v for v in attendance.values() if v[2]]
    count["core attendance"] = round(100 * sum(v[1] for v in core) / sum(v[0] for v in core))
    engaged = sum(1 for m in meetings for line in m.attendances
                  if line.is_core and (line.status in ATTENDED or line.status == AttendanceStatus.APOLOGIES_INFO))
    count["core engagement"] = round(100 * engaged / sum(v[0] for v in core))
    count["attendance"] = {name: round(100 * v[1] / v[0]) for name, v in attendance.items()}
    actions = [a for a in db.session.execute(select(Action)).scalars() if a.item.meeting in meetings]
    count["actions agreed"] = len(actions)
    count["actions on time"] = sum(1 for a in actions if a.status == ActionStatus.DONE
                                   and a.closed_at.date() <= a.due_on)
    return count


def test_a_quarter_of_the_demo_matches_a_hand_count(app, demo):
    quarter = figures.last_complete_quarter(today())
    found = services.figures_for(demo, quarter)
    by_hand = hand_count(demo, quarter)
    assert by_hand["meetings"] >= 6 and by_hand["heard"] >= 30  # the demo holds a fortnightly MARAC
    values = found.protection.values
    for measure in ("heard", "repeat", "nonpolice", "minoritised", "lgbt", "disabled", "male", "aged_16_17",
                    "children"):
        assert values[(measure, quarter.key)] == by_hand[measure], measure
    assert values[(("route", AgencyKind.POLICE), quarter.key)] == by_hand["police"]
    # what the page shows is the hand count, or a suppression marker
    shown = {row[0].text: row[1] for row in found.table("marac").rows}
    for label, measure in (("Cases heard", "heard"), ("Repeat cases", "repeat"),
                           ("Victims who are racially minoritised", "minoritised"), ("Victims who are male", "male"),
                           ("Children in the households of cases heard", "children")):
        assert shown[label].text in (f"{by_hand[measure]:,}", FEWER_THAN_5, NOT_SHOWN), label
        if 0 < by_hand[measure] < 5:
            assert shown[label].text in (FEWER_THAN_5, NOT_SHOWN)
    summary = dict((label, cell.text) for label, cell in found.summary)
    assert summary["Meetings held"] == str(by_hand["meetings"])
    assert summary["Attendance of core agencies (present or deputy)"] == f"{by_hand['core attendance']}%"
    assert summary["Core agency engagement (present, deputy or information sent)"] == f"{by_hand['core engagement']}%"
    rates = {row[0].text: row[8].value for row in found.table("attendance-agencies").rows}
    assert {name: round(rate) for name, rate in rates.items()} == by_hand["attendance"]
    actions = {row[0].text: row for row in found.table("actions").rows}["All agencies"]
    assert (actions[1].value, actions[2].value) == (by_hand["actions agreed"], by_hand["actions on time"])


def test_the_demo_steering_group_sees_a_year_and_exports_it(app, demo):
    steering = UserFactory()
    PanelRoleFactory(panel=demo, user=steering, role=Role.STEERING)
    client = signed_in(app, steering)
    response = client.get(f"/panels/{demo.id}/statistics?period=12_months")
    assert response.status_code == 200
    held = {row[0].text: row[1].text for row in services.figures_for(demo, figures.twelve_months(today()))
            .table("summary").rows}["Meetings held"]
    assert int(held) >= 20  # a year of fortnightly meetings (the demo's first is a year ago)
    assert f"Meetings held {held}" in page_text(response)
    assert soup(response).select("svg[role=img]")
    for path in ("/statistics/all-tables.xlsx", "/statistics/safelives-return.csv", "/statistics/report.pdf"):
        assert client.get(f"/panels/{demo.id}{path}?period=12_months").status_code == 200, path
    # the demo's own steering account (in the README) holds the role too, and the population is set
    from marac.panels.models import PanelRole
    from marac.users.models import User

    emails = db.session.execute(select(User.email).join(PanelRole, PanelRole.user_id == User.id).where(
        PanelRole.panel_id == demo.id, PanelRole.role == Role.STEERING)).scalars().all()
    assert "marac.steering@example.org" in emails
    assert db.session.get(Panel, demo.id).women_16_plus == 92_000
