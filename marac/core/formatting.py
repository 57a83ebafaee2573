"""How dates and times are written on pages and in messages: one filter, a few named styles, UK time
(Europe/London, with British Summer Time) and days without a leading zero, as GOV.UK writes them."""
import datetime as dt
from zoneinfo import ZoneInfo

from marac.core.timeutil import as_utc

UK = ZoneInfo("Europe/London")

STYLES = {
    "date": "%d %B %Y",                 # 5 March 2026
    "short": "%d %b %Y",                # 5 Mar 2026
    "weekday": "%A %d %B %Y",           # Thursday 5 March 2026
    "short_weekday": "%a %d %b %Y",     # Thu 5 Mar 2026
    "day_month": "%d %b",               # 5 Mar
    "datetime": "%d %b %Y %H:%M",       # 5 Mar 2026 14:30
    "long_datetime": "%d %B %Y %H:%M",  # 5 March 2026 14:30
    "seconds": "%d %b %Y %H:%M:%S",     # 5 Mar 2026 14:30:59
    "time": "%H:%M",                    # 14:30
}


def uk_time(value):
    """A moment (a datetime stored in UTC; naive ones from SQLite are UTC) as UK local time."""
    return as_utc(value).astimezone(UK)


def format_date(value, style="date"):
    """A date, datetime or time in one of STYLES; "" for None. A datetime is a moment, shown in UK
    time; a date or a time of day (a meeting's start) is shown as it is. The day has no leading zero."""
    if value is None:
        return ""
    if not isinstance(value, (dt.date, dt.time)):
        raise TypeError(f"format_date takes a date, datetime or time, not {type(value).__name__}")
    if isinstance(value, dt.datetime):
        value = uk_time(value)
    pattern = STYLES[style]
    if isinstance(value, dt.date):
        pattern = pattern.replace("%d", str(value.day))
    return value.strftime(pattern)
