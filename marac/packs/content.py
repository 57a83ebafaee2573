"""What each pack says (stand-in, replaced at merge by the content engineer's module).

profiles(meeting) groups the member agencies by what they may see; agenda_html and minutes_html write
the HTML of one pack for one set of categories (FULL: everything, for the manager and the chair).
"""
from html import escape

from marac.core.formatting import format_date
from marac.sharing.models import Category
from marac.sharing.services import rules_for

FULL = frozenset(Category)


def profiles(meeting):
    """{frozenset of categories: [member agencies]}: one render serves every agency of a profile."""
    rules = rules_for(meeting.panel)
    grouped = {}
    for member in sorted(meeting.panel.members, key=lambda m: m.agency.name):
        grouped.setdefault(frozenset(rules.get(member.agency.kind, set())), []).append(member.agency)
    return grouped


def _page(meeting, title, recipient_label, body):
    panel = meeting.panel
    return (f"<!DOCTYPE html><html lang='en-GB'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            "<style>@page { size: A4; margin: 2cm; @top-center { content: 'OFFICIAL-SENSITIVE' }"
            " @bottom-center { content: 'OFFICIAL-SENSITIVE - Page ' counter(page) ' of ' counter(pages) } }"
            " body { font-family: sans-serif; font-size: 10pt } .case { break-before: page }</style></head><body>"
            f"<p>OFFICIAL-SENSITIVE</p><h1>{escape(panel.name)}: {escape(title)}</h1>"
            f"<p>{escape(format_date(meeting.meets_on, 'weekday'))}, {escape(format_date(meeting.starts_at, 'time'))}</p>"
            f"<p>Issued to {escape(recipient_label)}. Do not copy or forward.</p>"
            f"<p>{escape(panel.confidentiality_statement)}</p>{body}</body></html>")


def _case(item, categories):
    case, parts = item.case, []
    parts.append(f"<section class='case'><h2>{escape(case.reference or '')}</h2>")
    subject = case.subject
    if subject is not None and Category.IDENTITY in categories:
        parts.append(f"<p>{escape(subject.full_name)}</p>")
    if subject is not None and Category.CONTACT in categories and subject.address:
        parts.append(f"<p>{escape(subject.address)}</p>")
    if Category.RISK_CHECKLIST in categories and case.risk_level:
        parts.append(f"<p>Risk: {escape(case.risk_level)}</p>")
    return parts


def agenda_html(meeting, categories, recipient_label):
    """The agenda pack for one profile of categories, addressed to `recipient_label`."""
    body = []
    for item in meeting.items:
        body += _case(item, categories) + ["</section>"]
    return _page(meeting, "Agenda pack", recipient_label, "".join(body))


def minutes_html(meeting, categories, recipient_label):
    """The minutes and action plan pack for one profile of categories, addressed to `recipient_label`."""
    body = []
    for item in meeting.items:
        body += _case(item, categories)
        if Category.NARRATIVE in categories:
            body.append(f"<p>{escape(item.risk_summary or '')}</p><p>{escape(item.minute or '')}</p>")
        body.append("</section>")
    return _page(meeting, "Minutes and action plan", recipient_label, "".join(body))
