"""The meeting packs' vocabulary (PackKind)."""
from marac.core.enums import Labelled


class PackKind(Labelled):
    """Which pack of a meeting: the agenda pack before it, the minutes and action plan after it."""

    AGENDA = "agenda", "Agenda pack"
    MINUTES = "minutes", "Minutes and action plan"
