"""The statistics as files: each table as CSV or XLSX (openpyxl), every table in one workbook, and the
steering group's report as a PDF (core.pdf.render_pdf, the meeting packs' renderer).

Files are written from the same `suppression.Table`s as the page, cell by cell, so they show exactly
what the page shows: a suppressed count is "fewer than 5" or "not shown" in every format. File names
carry the marking, the kind of panel, the dates and the table, never personal data. Services audit
each export; nothing here writes to the database.
"""
import csv
import io
import re

from flask import current_app
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from marac.core.formatting import format_date
from marac.core.pdf import render_pdf
from marac.core.timeutil import utcnow
from marac.stats import charts
from marac.stats.models import ExportFormat

MARKING = "OFFICIAL-SENSITIVE"
MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
PDF = "application/pdf"
REPORT_TEMPLATE = "pdf/statistics.html"


def file_name(panel, found, what, extension):
    """OFFICIAL-SENSITIVE_<KIND>_statistics_<start>_to_<end>_<what>.<ext>: no personal data."""
    what = re.sub(r"[^a-z0-9-]+", "-", what.lower()).strip("-")
    return (f"{MARKING}_{panel.kind}_statistics_{found.period.start.isoformat()}_to_{found.period.end.isoformat()}_"
            f"{what}.{extension}")


def cell_text(cell):
    """A cell as a file writes it: its text, and its flag in brackets (70% (below 80%))."""
    return f"{cell.text} ({cell.flag.lower()})" if cell.flag else cell.text


def _safe(text):
    """Text a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _heading(panel, found, table):
    return [MARKING, table.title, f"{panel.name}: {found.period.label} ({found.period.dates})"]


def csv_bytes(panel, found, table):
    """One table as CSV: the marking, title and period, a blank line, the table, then its notes."""
    out = io.StringIO()
    writer = csv.writer(out)
    for line in _heading(panel, found, table):
        writer.writerow([_safe(line)])
    writer.writerow([])
    writer.writerow([_safe(c) for c in table.columns])
    for row in table.rows:
        writer.writerow([_safe(cell_text(cell)) for cell in row])
    if table.notes:
        writer.writerow([])
        for note in table.notes:
            writer.writerow([_safe(note)])
    return out.getvalue().encode("utf-8")


def _sheet(workbook, panel, found, table, first=False):
    sheet = workbook.active if first else workbook.create_sheet()
    sheet.title = table.key[:31]
    for number, line in enumerate(_heading(panel, found, table), start=1):
        sheet.cell(row=number, column=1, value=line).font = Font(bold=number <= 2)
    header = 5
    for column, heading in enumerate(table.columns, start=1):
        cell = sheet.cell(row=header, column=column, value=heading)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for offset, row in enumerate(table.rows, start=1):
        for column, cell in enumerate(row, start=1):
            target = sheet.cell(row=header + offset, column=column)
            value = cell.value
            if isinstance(value, (int, float)) and not isinstance(value, bool) and column > 1 and not cell.flag:
                if cell.text.endswith("%"):
                    target.value = value / 100
                    target.number_format = "0.0%" if "." in cell.text else "0%"
                elif cell.text.replace(",", "").replace(".", "", 1).isdigit():
                    target.value = value
                else:
                    target.value = _safe(cell_text(cell))
            else:
                target.value = _safe(cell_text(cell))
    last = header + len(table.rows) + 2
    for number, note in enumerate(table.notes):
        sheet.cell(row=last + number, column=1, value=_safe(note))
    sheet.column_dimensions["A"].width = 48
    for column in range(2, len(table.columns) + 1):
        sheet.column_dimensions[sheet.cell(row=header, column=column).column_letter].width = 18
    return sheet


def xlsx_bytes(panel, found, tables):
    """Tables as an XLSX workbook, one sheet each, headed by the marking, title and period."""
    workbook = Workbook()
    workbook.properties.creator = "marac"
    workbook.properties.title = f"{MARKING} {panel.kind} statistics {found.period.label}"
    for index, table in enumerate(tables):
        _sheet(workbook, panel, found, table, first=index == 0)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def table_file(panel, found, table, fmt):
    """(file name, bytes, media type) of one table in a format (ExportFormat)."""
    if fmt == ExportFormat.CSV:
        return file_name(panel, found, table.key, "csv"), csv_bytes(panel, found, table), MEDIA_TYPES[fmt]
    return file_name(panel, found, table.key, "xlsx"), xlsx_bytes(panel, found, [table]), MEDIA_TYPES[fmt]


def workbook_file(panel, found, tables):
    """(file name, bytes, media type) of every table in one workbook."""
    return (file_name(panel, found, "all-tables", "xlsx"), xlsx_bytes(panel, found, tables),
            MEDIA_TYPES[ExportFormat.XLSX])


def report_title(panel, found):
    """The report's title (and the PDF's only metadata): marking, panel, period; no personal data."""
    return f"{MARKING}: {panel.name} steering group report, {found.period.label}"


def report_html(panel, found):
    """The report's HTML: the page's figures, tables and charts (as images with their text
    alternative), for the print stylesheet."""
    images = {key: {"src": charts.data_uri(chart), "alt": f"{chart.title}. {chart.description}", "chart": chart}
              for key, chart in found.charts.items()}
    context = {"panel": panel, "figures": found, "title": report_title(panel, found), "marking": MARKING,
               "charts": images, "made_on": format_date(utcnow(), "date")}
    return current_app.jinja_env.get_template(REPORT_TEMPLATE).render(**context)


def report_file(panel, found):
    """(file name, PDF bytes, media type) of the steering group's report (PDF/UA-1)."""
    pdf = render_pdf(report_html(panel, found), title=report_title(panel, found))
    return file_name(panel, found, "report", "pdf"), pdf, PDF
