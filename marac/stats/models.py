"""The statistics' vocabularies. Statistics keep no tables of their own: every figure is an SQL
aggregate over the plain coded columns of meetings, cases, people and actions."""
from marac.core.enums import Labelled


class PeriodKind(Labelled):
    """The periods a statistics page covers."""

    QUARTER = "quarter", "A quarter"
    TWELVE_MONTHS = "12_months", "The last 12 months"
    FINANCIAL_YEAR = "financial_year", "A financial year"
    RANGE = "range", "Dates you choose"


class ExportFormat(Labelled):
    """The file formats a statistics table is exported in."""

    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"
