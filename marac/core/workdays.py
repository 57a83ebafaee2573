"""Working days in England and Wales: weekdays that are not bank holidays (the `holidays` package,
whose data ships with it, so no network is needed)."""
import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _bank_holidays(year):
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day):
    """A weekday that is not a bank holiday in England and Wales."""
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def why_not_a_working_day(day):
    """Why the day is not a working day, in words ("a Saturday", "a bank holiday (Christmas Day)"), or
    None for a working day."""
    if day.weekday() >= 5:
        return f"a {day.strftime('%A')}"
    if day in _bank_holidays(day.year):
        name = holidays.country_holidays("GB", subdiv="ENG", years=day.year).get(day)
        return f"a bank holiday ({name})" if name else "a bank holiday"
    return None


def add_working_days(day, count):
    """The date `count` working days after `day` (before it when count is negative)."""
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    while remaining:
        day += dt.timedelta(days=step)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start, end):
    """Working days after `start` up to and including `end` (negative when end is earlier)."""
    if end < start:
        return -working_days_between(end, start)
    return sum(1 for n in range(1, (end - start).days + 1) if is_working_day(start + dt.timedelta(days=n)))
