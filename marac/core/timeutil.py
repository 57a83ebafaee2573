"""Time in one place, so that tests can move the clock (idle and absolute session expiry)."""
from datetime import datetime, timezone

_offset = None


def utcnow():
    """The current time, timezone-aware UTC."""
    now = datetime.now(timezone.utc)
    return now + _offset if _offset is not None else now


def today():
    """Today's date by the same clock."""
    return utcnow().date()


def set_offset(delta):
    """Move the clock by delta (a timedelta), or back to real time with None. For tests only."""
    global _offset
    _offset = delta


def as_utc(value):
    """Treat a naive datetime read back from SQLite as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)
