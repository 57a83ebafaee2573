"""Working days in England and Wales: weekends and bank holidays are skipped, including the
substitute days when Christmas, Boxing Day or New Year's Day fall at a weekend; and the agenda and
minutes deadlines of a meeting, counted in the panel's working days."""
import datetime as dt

import pytest

from marac.core.workdays import add_working_days, is_working_day, working_days_between
from marac.meetings.models import Meeting
from tests.factories import MeetingFactory, PanelFactory

D = dt.date

BANK_HOLIDAYS = [
    D(2026, 1, 1),                      # New Year's Day (Thursday)
    D(2026, 4, 3), D(2026, 4, 6),       # Good Friday, Easter Monday
    D(2026, 5, 4),                      # Early May bank holiday
    D(2026, 5, 25),                     # Spring bank holiday
    D(2026, 8, 31),                     # Summer bank holiday
    D(2026, 12, 25),                    # Christmas Day (Friday)
    D(2026, 12, 28),                    # Boxing Day falls on Saturday: substitute Monday
    D(2027, 1, 1),                      # New Year's Day (Friday)
    D(2027, 3, 26), D(2027, 3, 29),     # Good Friday, Easter Monday
    D(2027, 12, 27), D(2027, 12, 28),   # Christmas (Saturday) and Boxing Day (Sunday): Monday and Tuesday
    D(2028, 1, 3),                      # New Year's Day falls on Saturday: substitute Monday
]


@pytest.mark.parametrize("day", BANK_HOLIDAYS, ids=str)
def test_bank_holidays_are_not_working_days(day):
    assert day.weekday() < 5, "the list should hold weekday holidays only"
    assert not is_working_day(day)


@pytest.mark.parametrize("day", [D(2026, 12, 24), D(2026, 12, 29), D(2026, 12, 31), D(2027, 12, 24),
                                 D(2027, 12, 29), D(2026, 4, 2), D(2026, 4, 7), D(2026, 5, 5),
                                 D(2027, 3, 25), D(2027, 3, 30), D(2027, 5, 4)], ids=str)
def test_weekdays_around_the_holidays_are_working_days(day):
    assert is_working_day(day)


def test_weekends_are_not_working_days_even_when_christmas_falls_on_them():
    for day in (D(2026, 12, 26), D(2026, 12, 27), D(2027, 12, 25), D(2027, 12, 26), D(2028, 1, 1)):
        assert day.weekday() >= 5 and not is_working_day(day)


@pytest.mark.parametrize("start, count, expected", [
    # Christmas 2026: Friday 25th, Boxing Day Saturday, substitute Monday 28th.
    (D(2026, 12, 24), 1, D(2026, 12, 29)),
    (D(2026, 12, 23), 2, D(2026, 12, 29)),
    (D(2026, 12, 29), -1, D(2026, 12, 24)),
    # ... then New Year's Day on Friday 1 January 2027.
    (D(2026, 12, 24), 4, D(2027, 1, 4)),
    (D(2026, 12, 31), 1, D(2027, 1, 4)),
    (D(2027, 1, 4), -1, D(2026, 12, 31)),
    (D(2027, 1, 4), -4, D(2026, 12, 24)),
    # Christmas 2027 at the weekend: Monday 27th and Tuesday 28th are both substitute days.
    (D(2027, 12, 24), 1, D(2027, 12, 29)),
    (D(2027, 12, 29), -1, D(2027, 12, 24)),
    (D(2027, 12, 23), 3, D(2027, 12, 30)),
    # New Year's Day 2028 on a Saturday: substitute Monday 3 January.
    (D(2027, 12, 31), 1, D(2028, 1, 4)),
    # Easter 2026: Good Friday 3 April, Easter Monday 6 April.
    (D(2026, 4, 2), 1, D(2026, 4, 7)),
    (D(2026, 4, 7), -1, D(2026, 4, 2)),
    (D(2026, 4, 1), 3, D(2026, 4, 8)),
    # Easter 2027: Good Friday 26 March, Easter Monday 29 March.
    (D(2027, 3, 25), 1, D(2027, 3, 30)),
    (D(2027, 3, 30), -2, D(2027, 3, 24)),
    # Bank-holiday Mondays of 2026.
    (D(2026, 5, 1), 1, D(2026, 5, 5)),
    (D(2026, 5, 5), -1, D(2026, 5, 1)),
    (D(2026, 5, 22), 1, D(2026, 5, 26)),
    (D(2026, 5, 26), -1, D(2026, 5, 22)),
    (D(2026, 8, 28), 1, D(2026, 9, 1)),
    (D(2026, 9, 1), -1, D(2026, 8, 28)),
    # An ordinary fortnight: ten working days.
    (D(2026, 6, 1), 10, D(2026, 6, 15)),
    (D(2026, 6, 15), -10, D(2026, 6, 1)),
    # From a weekend or a holiday, the first step lands on the next working day.
    (D(2026, 12, 25), 1, D(2026, 12, 29)),
    (D(2026, 12, 26), -1, D(2026, 12, 24)),
    # Zero days: the day itself, even when it is a holiday.
    (D(2026, 12, 25), 0, D(2026, 12, 25)),
])
def test_add_working_days(start, count, expected):
    assert add_working_days(start, count) == expected
    assert is_working_day(expected) or count == 0


def test_add_working_days_forwards_then_back_returns_to_a_working_day():
    day = D(2026, 11, 2)
    while day < D(2028, 1, 31):
        if is_working_day(day):
            for count in (1, 3, 8):
                assert add_working_days(add_working_days(day, count), -count) == day, (day, count)
        day += dt.timedelta(days=1)


def test_working_days_between():
    assert working_days_between(D(2026, 12, 24), D(2026, 12, 29)) == 1
    assert working_days_between(D(2026, 12, 24), D(2027, 1, 4)) == 4
    assert working_days_between(D(2027, 12, 24), D(2027, 12, 31)) == 3
    assert working_days_between(D(2026, 4, 2), D(2026, 4, 7)) == 1
    assert working_days_between(D(2026, 4, 7), D(2026, 4, 2)) == -1
    assert working_days_between(D(2026, 6, 1), D(2026, 6, 1)) == 0


def meeting_on(day, agenda_lead_days=8, minutes_days=3):
    """An unsaved meeting on this day, of an unsaved panel with these deadlines."""
    panel = PanelFactory.build(agenda_lead_days=agenda_lead_days, minutes_days=minutes_days)
    return MeetingFactory.build(panel=panel, meets_on=day)


@pytest.mark.parametrize("meets_on, lead, expected", [
    # 8 working days before Tuesday 14 April 2026 skips Easter Monday and Good Friday (not 2 April).
    (D(2026, 4, 14), 8, D(2026, 3, 31)),
    # 8 before Tuesday 5 January 2027 skips New Year's Day, the Boxing Day substitute and Christmas.
    (D(2027, 1, 5), 8, D(2026, 12, 21)),
    # 5 before Tuesday 30 March 2027 (the day after Easter Monday) skips the Easter weekend.
    (D(2027, 3, 30), 5, D(2027, 3, 19)),
    # 8 before Wednesday 27 May 2026 skips the spring bank holiday.
    (D(2026, 5, 27), 8, D(2026, 5, 14)),
    # 3 before Thursday 30 December 2027 skips the two substitute days and the weekend.
    (D(2027, 12, 30), 3, D(2027, 12, 23)),
    # An ordinary week in June.
    (D(2026, 6, 16), 8, D(2026, 6, 4)),
])
def test_agenda_deadline_counts_working_days_back(meets_on, lead, expected):
    meeting = meeting_on(meets_on, agenda_lead_days=lead)
    assert meeting.agenda_deadline == expected


@pytest.mark.parametrize("meets_on, days, expected", [
    # Minutes of Thursday 2 April 2026 are due 3 working days later, after Easter: Thursday 9 April.
    (D(2026, 4, 2), 3, D(2026, 4, 9)),
    # Of Wednesday 22 December 2027: Thursday, Friday, then Wednesday 29th after the substitute days.
    (D(2027, 12, 22), 3, D(2027, 12, 29)),
    # Of Wednesday 23 December 2026: Thursday 24th, Tuesday 29th, Wednesday 30th.
    (D(2026, 12, 23), 3, D(2026, 12, 30)),
    # Of Thursday 31 December 2026: New Year's Day is skipped.
    (D(2026, 12, 31), 1, D(2027, 1, 4)),
    # Of Friday 1 May 2026: the May Day Monday is skipped.
    (D(2026, 5, 1), 3, D(2026, 5, 7)),
    # Of Thursday 27 August 2026: the summer bank holiday is skipped.
    (D(2026, 8, 27), 3, D(2026, 9, 2)),
    # Of Thursday 25 March 2027: Good Friday and Easter Monday are skipped.
    (D(2027, 3, 25), 3, D(2027, 4, 1)),
])
def test_minutes_deadline_counts_working_days_forward(meets_on, days, expected):
    meeting = meeting_on(meets_on, minutes_days=days)
    assert meeting.minutes_deadline == expected


def test_deadlines_of_a_stored_meeting_follow_its_panel(world):
    """Read back from the database, with the panel's own settings (and after changing them)."""
    from marac.extensions import db

    panel = world.panel
    panel.agenda_lead_days, panel.minutes_days = 8, 3
    meeting = MeetingFactory(panel=panel, manager=world.users["manager"], meets_on=D(2027, 1, 5))
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Meeting, meeting.id)
    assert (stored.agenda_deadline, stored.minutes_deadline) == (D(2026, 12, 21), D(2027, 1, 8))
    assert stored.research_deadline == D(2027, 1, 4)
    stored.panel.agenda_lead_days, stored.panel.minutes_days = 2, 1
    db.session.commit()
    assert (stored.agenda_deadline, stored.minutes_deadline) == (D(2026, 12, 31), D(2027, 1, 6))
