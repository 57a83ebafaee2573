"""The disclosure report's vocabulary (it has no tables of its own: it reads sharing_records,
audit_events and audit_event_refs)."""
from marac.core.enums import Labelled


class ReportRowKind(Labelled):
    """What a row of the disclosure report is."""

    SHARED = "shared", "Shared"  # a sharing record: a category of a case shown to a user of an agency
    EVENT = "event", "Event"  # an audit event that names the case or something of it
