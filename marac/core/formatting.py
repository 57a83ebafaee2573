"""How dates and times are written on pages and in messages: one filter, a few named styles."""
import datetime as dt

STYLES = {
    "date": "%d %B %Y",                 # 05 March 2026
    "short": "%d %b %Y",                # 05 Mar 2026
    "weekday": "%A %d %B %Y",           # Thursday 05 March 2026
    "short_weekday": "%a %d %b %Y",     # Thu 05 Mar 2026
    "day_month": "%d %b",               # 05 Mar
    "datetime": "%d %b %Y %H:%M",       # 05 Mar 2026 14:30
    "long_datetime": "%d %B %Y %H:%M",  # 05 March 2026 14:30
    "seconds": "%d %b %Y %H:%M:%S",     # 05 Mar 2026 14:30:59
    "time": "%H:%M",                    # 14:30
}


def format_date(value, style="date"):
    """A date, datetime or time in one of STYLES; "" for None."""
    if value is None:
        return ""
    if not isinstance(value, (dt.date, dt.time)):
        raise TypeError(f"format_date takes a date, datetime or time, not {type(value).__name__}")
    return value.strftime(STYLES[style])
