"""Charts as SVG drawn on the server: no JavaScript and no charting service.

Each chart has a short active title (what it shows, as a sentence) and a text alternative (every
value, in words) as its SVG <title> and <desc>, a zero baseline, the Analysis Function palette, and a
label on every bar, so that colour is never the only cue: bars picked out (below a threshold, the
police) are also hatched, and the legend says so. The same figures are in the table beside it.
A suppressed value has no bar, only its words ("fewer than 5"). Presentation attributes only (no
style attribute), so the page's Content-Security-Policy needs no 'unsafe-inline'.
"""
import base64
import math

from markupsafe import Markup, escape

# Analysis Function colours for charts (https://analysisfunction.civilservice.gov.uk/policy-store/data-visualisation-colours-in-charts/)
DARK_BLUE = "#12436D"
DARK_PINK = "#801650"
DARK_GREY = "#3D3D3D"
TEXT = "#0B0C0C"
GRID = "#B1B4B6"
WEB_FONT = "arial, sans-serif"
FONT_SIZE = 14
PDF_FONT = "DejaVu Sans, sans-serif"


def nice_ceiling(value):
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above value (1 at least)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover


def _ticks(top):
    step = top / 4
    return [step * n for n in range(5)]


def _number(value, unit):
    text = f"{value:,.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}"
    return text + unit


def _text(x, y, content, font, size=12, anchor="start", weight=None, fill=TEXT, halo=False):
    bold = f' font-weight="{weight}"' if weight else ""
    # A white outline behind a value label keeps it legible over a grid or reference line.
    outline = ' stroke="#FFFFFF" stroke-width="4" stroke-linejoin="round" paint-order="stroke"' if halo else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-family="{font}" font-size="{size}" fill="{fill}" '
            f'text-anchor="{anchor}"{bold}{outline}>{escape(content)}</text>')


def _hatch(pattern_id):
    """Diagonal dark pink lines on white: the "picked out" fill."""
    return (f'<pattern id="{pattern_id}" patternUnits="userSpaceOnUse" width="8" height="8" '
            f'patternTransform="rotate(45)"><rect width="8" height="8" fill="#FFFFFF"/>'
            f'<line x1="0" y1="0" x2="0" y2="8" stroke="{DARK_PINK}" stroke-width="5"/></pattern>')


def _wrap(label, width):
    """Split a label into lines of about `width` characters (at most two)."""
    words, lines = label.split(), [""]
    for word in words:
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width and len(lines) < 2:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}".strip()
    return lines


def svg(chart, font=WEB_FONT, prefix="chart", halo=True):
    """The chart (figures.Chart) as an SVG element, with role="img", its title and its description.
    `halo` outlines value labels in white (browsers; the PDF renderer draws no paint-order)."""
    ident = f"{prefix}-{chart.key}"
    if chart.horizontal:
        body, width, height = _horizontal(chart, font, ident, halo)
    else:
        body, width, height = _vertical(chart, font, ident, halo)
    legend, x = "", 0
    for highlighted, label in chart.legend:
        fill = f"url(#{ident}-hatch)" if highlighted else DARK_BLUE
        legend += (f'<rect x="{x}" y="4" width="16" height="16" fill="{fill}" '
                   f'stroke="{DARK_PINK if highlighted else DARK_BLUE}" stroke-width="1.5"/>'
                   + _text(x + 22, 17, label, font, FONT_SIZE))
        x += 34 + 7.6 * len(label)
    if chart.reference:
        legend += (f'<line x1="{x}" x2="{x + 24}" y1="12" y2="12" stroke="{DARK_PINK}" stroke-width="2.5" '
                   f'stroke-dasharray="8 4"/>' + _text(x + 30, 17, chart.reference[1], font, FONT_SIZE))
    markup = (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{ident}-title {ident}-desc" '
              f'viewBox="0 0 {width} {height + 28}" width="100%" class="app-chart" focusable="false">'
              f'<title id="{ident}-title">{escape(chart.title)}</title>'
              f'<desc id="{ident}-desc">{escape(chart.description)}</desc>'
              f'<defs>{_hatch(ident + "-hatch")}</defs>{legend}'
              f'<g transform="translate(0 28)">{body}</g></svg>')
    return Markup(markup)


def data_uri(chart, font=PDF_FONT):
    """The chart as a data: URI of an SVG image (for the PDF report, whose <img> carries the alt text)."""
    return "data:image/svg+xml;base64," + base64.b64encode(str(svg(chart, font, "pdf", halo=False)).encode()).decode()


def _vertical(chart, font, ident, halo):
    width, height = 640, 320
    left, right, top, bottom = 60, 8, 24, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _l, v, _t, _h in chart.bars if v is not None]
    top_value = nice_ceiling(max(values + [chart.reference[0] if chart.reference else 0, 1]))
    y = lambda v: top + plot_h - plot_h * v / top_value  # noqa: E731
    parts = []
    for tick in _ticks(top_value):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="{GRID}" '
                     f'stroke-width="1"/>')
        parts.append(_text(left - 6, y(tick) + 5, _number(tick if tick % 1 else int(tick), chart.unit), font, FONT_SIZE,
                           "end"))
    if chart.reference:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(chart.reference[0]):.1f}" '
                     f'y2="{y(chart.reference[0]):.1f}" stroke="{DARK_PINK}" stroke-width="2.5" stroke-dasharray="8 4"/>')
    slot = plot_w / max(len(chart.bars), 1)
    bar_w = slot * 0.6
    for index, (label, value, text, highlighted) in enumerate(chart.bars):
        x = left + slot * index + (slot - bar_w) / 2
        centre = x + bar_w / 2
        if value is not None:
            fill = f"url(#{ident}-hatch)" if highlighted else DARK_BLUE
            stroke = DARK_PINK if highlighted else DARK_BLUE
            parts.append(f'<rect x="{x:.1f}" y="{y(value):.1f}" width="{bar_w:.1f}" height="{y(0) - y(value):.1f}" '
                         f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>')
            parts.append(_text(centre, y(value) - 6, text, font, FONT_SIZE, "middle", "bold", halo=halo))
        else:
            for line_no, line in enumerate(_wrap(text, 8)):
                parts.append(_text(centre, y(0) - 8 - 16 * (len(_wrap(text, 8)) - 1 - line_no), line, font,
                                   FONT_SIZE - 1, "middle", fill=DARK_GREY))
        for line_no, line in enumerate(_wrap(label, 8)):
            parts.append(_text(centre, y(0) + 20 + 16 * line_no, line, font, FONT_SIZE, "middle"))
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="{TEXT}" '
                 f'stroke-width="2"/>')
    return "".join(parts), width, height


def _horizontal(chart, font, ident, halo):
    row = 32
    width = 640
    left, right, top, bottom = 170, 60, 12, 30
    height = top + bottom + row * max(len(chart.bars), 1)
    plot_w = width - left - right
    values = [v for _l, v, _t, _h in chart.bars if v is not None]
    top_value = 100 if chart.unit == "%" else nice_ceiling(max(values + [1]))
    x = lambda v: left + plot_w * v / top_value  # noqa: E731
    parts = []
    for tick in _ticks(top_value):
        parts.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top}" y2="{height - bottom}" stroke="{GRID}" '
                     f'stroke-width="1"/>')
        parts.append(_text(x(tick), height - bottom + 18, _number(tick if tick % 1 else int(tick), chart.unit), font,
                           FONT_SIZE, "middle"))
    if chart.reference:
        parts.append(f'<line x1="{x(chart.reference[0]):.1f}" x2="{x(chart.reference[0]):.1f}" y1="{top - 6}" '
                     f'y2="{height - bottom}" stroke="{DARK_PINK}" stroke-width="2.5" stroke-dasharray="8 4"/>')
    for index, (label, value, text, highlighted) in enumerate(chart.bars):
        y = top + row * index
        parts.append(_text(left - 8, y + row / 2 + 5, label if len(label) <= 22 else label[:21] + "…", font, FONT_SIZE,
                           "end"))
        if value is not None:
            fill = f"url(#{ident}-hatch)" if highlighted else DARK_BLUE
            stroke = DARK_PINK if highlighted else DARK_BLUE
            parts.append(f'<rect x="{x(0):.1f}" y="{y + 5:.1f}" width="{x(value) - x(0):.1f}" height="{row - 10}" '
                         f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>')
            parts.append(_text(x(value) + 5, y + row / 2 + 5, text, font, FONT_SIZE, "start", "bold", halo=halo))
        else:
            parts.append(_text(x(0) + 5, y + row / 2 + 5, text, font, FONT_SIZE - 1, "start", fill=DARK_GREY))
    parts.append(f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top}" y2="{height - bottom}" stroke="{TEXT}" '
                 f'stroke-width="2"/>')
    return "".join(parts), width, height
