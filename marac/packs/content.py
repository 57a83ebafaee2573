"""What each meeting pack says, for one redaction profile: pure reads of the models, no writes.

A *redaction profile* is the set of categories (sharing.models.Category) an agency kind may see under
the panel's sharing rules. Agencies whose kinds share a profile get the same text, so a pack is
rendered once per profile (`profiles`) and only the per-recipient marking is stamped on afterwards.
`FULL` is the manager's and the chair's profile.

Redaction happens here, in Python, before the template sees anything: a withheld value is never
handed to Jinja, so no template slip can print it. A withheld field shows `WITHHELD` (which reveals
the rule, never the value). Research returns are never read here, so they cannot reach a pack.

The services audit what they build; this module reads only, in a fixed number of queries per pack
however many cases are listed (`load`). Templates are rendered with the application's Jinja
environment rather than flask.render_template, which needs a request (its context processors read
the session), so that packs also build in a CLI command or a background worker.
"""
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marac.actions.models import Action, ActionStatus, UpdateKind
from marac.cases.models import Case, CaseParty, Criterion, PartyRole, risk_label
from marac.core.formatting import format_date
from marac.extensions import db
from marac.meetings.models import AgendaItem, AttendanceStatus, ItemStatus
from marac.packs.models import PackKind
from marac.panels.models import PanelKind, PanelRole, Role
from marac.sharing.models import Category
from marac.sharing.services import rules_for

FULL = frozenset(Category)
FULL_LABEL = "Panel manager and chair (full pack)"
WITHHELD = "Withheld under the sharing rules"
MARKING = "OFFICIAL-SENSITIVE"
TEMPLATES = {PackKind.AGENDA: "pdf/agenda.html", PackKind.MINUTES: "pdf/minutes.html"}
# How the reviewed actions of a hearing are grouped in the minutes, in this order.
REVIEW_GROUPS = (
    (ActionStatus.DONE, "Done"),
    (ActionStatus.NOT_POSSIBLE, "Not possible (circumstances changed)"),
    (ActionStatus.NOT_DONE, "Not done by the agency"),
    (ActionStatus.OPEN, "Kept open for a later review"),
)


# --- profiles --------------------------------------------------------------------------------

def profile_of(categories):
    """The categories as a frozenset of Category members (stored rules hold plain strings)."""
    return frozenset(Category(c) for c in categories if c in Category.values())


def profiles(meeting):
    """{profile: [member agencies, by name]}: the panel's member agencies grouped by the categories
    their kind may see under the panel's sharing rules, so that each group is rendered once. An
    agency whose kind may see every category shares the FULL profile with the manager and chair."""
    rules = rules_for(meeting.panel)
    grouped = {}
    for member in sorted(meeting.panel.members, key=lambda m: m.agency.name):
        profile = profile_of(rules.get(member.agency.kind, set()))
        grouped.setdefault(profile, []).append(member.agency)
    return grouped


def recipient_label(agencies):
    """The recipient line of a profile's render: the agencies' names ("Housing Services"), or FULL_LABEL
    when none is given (the manager's and chair's pack)."""
    return "; ".join(a.name for a in agencies) if agencies else FULL_LABEL


def pack_title(meeting, kind):
    """The document title (also the PDF's title): marking, panel, pack and date; no personal data."""
    return f"{MARKING}: {meeting.panel.name}, {PackKind(kind).label}, {format_date(meeting.meets_on)}"


# --- loading ---------------------------------------------------------------------------------

def load(meeting):
    """Everything a pack of the meeting reads, in a fixed number of queries: the items with their
    cases, people, earlier cases and minute amendments; the actions on those cases (and on the
    earlier cases they repeat) with their history and the meeting each was agreed at; the chairs.
    Returns a namespace (items, actions_by_case, chairs) for the builders below."""
    items = db.session.execute(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting.id).order_by(AgendaItem.position)
        .options(selectinload(AgendaItem.case).selectinload(Case.parties).joinedload(CaseParty.person),
                 selectinload(AgendaItem.case).selectinload(Case.repeat_of),
                 selectinload(AgendaItem.amendments))).scalars().all()
    case_ids = {i.case_id for i in items} | {i.case.repeat_of_id for i in items if i.case.repeat_of_id}
    actions = db.session.execute(
        select(Action).where(Action.case_id.in_(case_ids)).order_by(Action.due_on, Action.created_at)
        .options(selectinload(Action.updates), selectinload(Action.item).selectinload(AgendaItem.meeting))
    ).scalars().all() if case_ids else []
    actions_by_case = {}
    for action in actions:
        actions_by_case.setdefault(action.case_id, []).append(action)
    chairs = db.session.execute(
        select(PanelRole).where(PanelRole.panel_id == meeting.panel_id, PanelRole.role == Role.CHAIR)
    ).scalars().all()
    return SimpleNamespace(items=items, actions_by_case=actions_by_case,
                           chairs=sorted(r.user.full_name for r in chairs))


# --- ordering --------------------------------------------------------------------------------

def has_children(case):
    """Whether a case has children in the household (MARAC cases name them as PartyRole.CHILD)."""
    return any(p.role == PartyRole.CHILD for p in case.parties)


def agenda_group(case):
    """-1: an incoming transfer from another area's MARAC; 0: a new case with children in the household;
    1: another new case; 2: a case 12 months on (a repeat referral)."""
    if case.is_transfer_in:
        return -1
    if case.is_repeat:
        return 2
    return 0 if has_children(case) else 1


def agenda_order(items):
    """The items in SafeLives' order: incoming transfers first, then new cases with children in the
    household, then the other new cases, then cases 12 months on (repeats); within each group, the
    manager's agenda order (position). Every pack of a meeting numbers its cases the same way,
    whatever it may show."""
    return sorted(items, key=lambda item: (agenda_group(item.case), item.position))


def agenda_sections(numbered, categories):
    """[(heading, [case views])] of the agenda's case sections for a profile. The headings split the
    order only where the profile may know why: children in the household need `children`, and the
    repeat flag needs `identity` (a repeat is matched by name and date of birth). So a profile
    without them sees one longer section, in the same order and with the same numbers. Incoming
    transfers head the agenda in their own section for every profile. Empty sections are left out."""
    transfers = [v for v in numbered if v.group == -1]
    groups = [[v for v in numbered if v.group == g] for g in (0, 1, 2)]
    children, identity = Category.CHILDREN in categories, Category.IDENTITY in categories
    if children and identity:
        sections = [("New cases with children in the household", groups[0]), ("Other new cases", groups[1]),
                    ("Cases 12 months on (repeat referrals)", groups[2])]
    elif identity:
        sections = [("New cases", groups[0] + groups[1]), ("Cases 12 months on (repeat referrals)", groups[2])]
    elif children:
        sections = [("Cases with children in the household", groups[0]), ("Further cases", groups[1] + groups[2])]
    else:
        sections = [("Cases", groups[0] + groups[1] + groups[2])]
    # An incoming transfer says nothing of the person: every profile sees that section.
    sections = [("Incoming transfers from other areas", transfers)] + sections
    return [(heading, views) for heading, views in sections if views]


# --- what a profile may see of a case --------------------------------------------------------

def age_on(date_of_birth, on):
    """Age in whole years on a date; None without a date of birth."""
    if date_of_birth is None:
        return None
    return on.year - date_of_birth.year - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))


def _named(person, on):
    """ "Name (date of birth)" of a person, as far as recorded."""
    name = person.full_name or "Name not given"
    if person.date_of_birth:
        return f"{name} (born {format_date(person.date_of_birth)}, age {age_on(person.date_of_birth, on)})"
    return name


def _shown(category, categories, value):
    """The value when the profile may see the category, else WITHHELD."""
    return value if category in categories else WITHHELD


def case_rows(case, categories, meeting):
    """[(label, value)] describing a listed case to a profile: a value is a string, a list of strings
    or WITHHELD. The reference heads the case (it is not a row). Subject and the other people with
    `identity`; the subject's address with `contact`; risk level and criterion with `risk_checklist`;
    repeat flag and earlier reference with `identity`; children in the household with `children`
    (no row at all without it); the research deadline always. A withheld row is there whether or not
    a value is recorded, so that it reveals the rule and nothing else."""
    on = meeting.meets_on
    subject = case.subject
    identity = Category.IDENTITY in categories
    rows = [(PartyRole.label_of(case.subject_role),
             _shown(Category.IDENTITY, categories, _named(subject, on) if subject else "Not given"))]
    address = ", ".join(part for part in (subject.address, subject.postcode) if part) if subject else ""
    rows.append(("Address", _shown(Category.CONTACT, categories, address or "Not given")))
    others = [p for p in case.parties if p.person is not subject and p.role != PartyRole.CHILD]
    if not identity:
        rows.append(("Other people named", WITHHELD))
    for role in dict.fromkeys(p.role for p in others) if identity else ():
        rows.append((PartyRole.label_of(role), [_named(p.person, on) for p in others if p.role == role]))
    rows.append(("Risk level", _shown(Category.RISK_CHECKLIST, categories,
                                      risk_label(case.panel.kind, case.risk_level) if case.risk_level else "Not assessed")))
    rows.append(("Criterion", _shown(Category.RISK_CHECKLIST, categories,
                                     Criterion.label_of(case.criterion) if case.criterion else "Not given")))
    if case.is_repeat and case.repeat_of is not None:
        repeat = f"Yes: a further referral within 12 months of {case.repeat_of.reference}"
    else:
        repeat = "Yes" if case.is_repeat else "No"
    rows.append(("Repeat referral", _shown(Category.IDENTITY, categories, repeat)))
    if Category.CHILDREN in categories and meeting.panel.kind == PanelKind.MARAC:
        children = [_named(p.person, on) for p in case.parties if p.role == PartyRole.CHILD]
        rows.append(("Children in the household", children or "None recorded"))
    rows.append(("Research due by", format_date(meeting.research_deadline, "weekday")))
    return rows


def _action_view(action, categories, note=None):
    """An action as a profile may see it: its text (and a review note) only with `narrative`."""
    narrative = Category.NARRATIVE in categories
    agreed = action.item.meeting.meets_on if action.item is not None else None
    return SimpleNamespace(owner=action.owner_agency.name,
                           description=(action.description or "") if narrative else WITHHELD,
                           due_on=format_date(action.due_on, "short"),
                           agreed_on=format_date(agreed, "short"),
                           named_person=action.named_person or "",
                           note=((note or "") if narrative else WITHHELD) if note else "")


def _case_actions(loaded, case, categories):
    """The actions on the case, and on the earlier case it repeats when the profile may know of the
    repeat (`identity`)."""
    found = list(loaded.actions_by_case.get(case.id, []))
    if case.repeat_of_id and Category.IDENTITY in categories:
        found += loaded.actions_by_case.get(case.repeat_of_id, [])
    return found


def _numbered(loaded):
    """The meeting's items in agenda order with their number and group."""
    return [SimpleNamespace(number=n, item=item, case=item.case, group=agenda_group(item.case))
            for n, item in enumerate(agenda_order(loaded.items), start=1)]


def _shared_context(meeting, categories, loaded, recipient, kind):
    """What the cover and page furniture of either pack show."""
    categories = profile_of(categories)
    return {
        "meeting": meeting, "panel": meeting.panel, "kind": PackKind(kind), "title": pack_title(meeting, kind),
        "marking": MARKING, "recipient": recipient, "categories": categories, "chairs": loaded.chairs, "withheld": WITHHELD,
        "shown": [c.short_label for c in Category if c in categories],
        "not_shown": [c.short_label for c in Category if c not in categories],
    }


def _render(name, context):
    """Render a pack template with the application's Jinja environment (globals and filters included)."""
    return current_app.jinja_env.get_template(name).render(**context)


# --- the packs -------------------------------------------------------------------------------

def agenda_context(meeting, categories, recipient, loaded=None):
    """The agenda pack's content for a profile: open actions from earlier hearings to review, then
    the case sections (agenda_sections), each case as case_rows."""
    loaded = loaded or load(meeting)
    categories = profile_of(categories)
    numbered = _numbered(loaded)
    this_meeting = {i.id for i in loaded.items}
    to_review = []
    for view in numbered:
        earlier = [a for a in _case_actions(loaded, view.case, categories)
                   if a.status == ActionStatus.OPEN and a.agenda_item_id not in this_meeting]
        if earlier:
            to_review.append(SimpleNamespace(number=view.number, reference=view.case.reference,
                                             actions=[_action_view(a, categories) for a in earlier]))
    for view in numbered:
        view.rows = case_rows(view.case, categories, meeting)
    return {**_shared_context(meeting, categories, loaded, recipient, PackKind.AGENDA),
            "to_review": to_review, "sections": agenda_sections(numbered, categories)}


def agenda_html(meeting, categories, recipient_label, loaded=None):
    """The agenda pack's HTML for one profile (a set of categories), addressed to recipient_label.
    Pass `loaded` (from load) to render several profiles of one meeting from a single read."""
    return _render(TEMPLATES[PackKind.AGENDA], agenda_context(meeting, categories, recipient_label, loaded))


def _reviewed_at(meeting, actions, categories):
    """[(heading, [action views])] of the actions reviewed at this meeting's hearing, grouped by
    outcome (REVIEW_GROUPS), empty groups left out. A review belongs to the meeting when it was
    recorded while the meeting ran (reviews are only recorded then)."""
    start, end = meeting.opened_at, meeting.closed_at
    grouped = {status: [] for status, _ in REVIEW_GROUPS}
    for action in actions:
        for update in action.updates:
            if (update.kind == UpdateKind.REVIEW and start is not None and update.at >= start
                    and (end is None or update.at <= end) and update.status in grouped):
                grouped[update.status].append(_action_view(action, categories, note=update.note))
    return [(heading, grouped[status]) for status, heading in REVIEW_GROUPS if grouped[status]]


def register(meeting):
    """The register: (agency name, attendance label, core member) by agency name; the attendees for
    agencies and the observers, each (name, role, agency name, confidentiality agreed)."""
    attendances = sorted(meeting.attendances, key=lambda a: a.agency.name)
    rows = [SimpleNamespace(agency=a.agency.name, status=AttendanceStatus.label_of(a.status),
                            core="Core member" if a.is_core else "When needed") for a in attendances]
    people = [SimpleNamespace(name=p.name, role=p.role or "", agency=p.agency.name if p.agency else "",
                              agreed="Yes" if p.confidentiality_agreed_at else "No", observer=p.is_observer)
              for p in meeting.attendees]
    return (rows, [p for p in people if not p.observer], [p for p in people if p.observer])


def minutes_context(meeting, categories, recipient, loaded=None):
    """The minutes pack's content for a profile: the register, then each listed case in agenda order
    with its outcome, its risk summary and minute (`narrative`; else withheld), when it was amended,
    the actions reviewed at the hearing by outcome and the new actions agreed there."""
    loaded = loaded or load(meeting)
    categories = profile_of(categories)
    narrative = Category.NARRATIVE in categories
    cases = []
    for view in _numbered(loaded):
        item, case = view.item, view.case
        subject = case.subject
        actions = _case_actions(loaded, case, categories)
        heard = item.status == ItemStatus.HEARD
        cases.append(SimpleNamespace(
            number=view.number, reference=case.reference, heard=heard,
            outcome={ItemStatus.HEARD: "Heard", ItemStatus.DEFERRED: "Deferred to a later meeting"}.get(
                item.status, "Not heard"),
            subject=_shown(Category.IDENTITY, categories,
                           _named(subject, meeting.meets_on) if subject else "Not given"),
            subject_label=PartyRole.label_of(case.subject_role),
            risk_summary=(item.risk_summary or "Not recorded") if narrative else WITHHELD,
            minute=(item.minute or "Not recorded") if narrative else WITHHELD,
            amended=[format_date(a.at) for a in item.amendments],
            reviewed=_reviewed_at(meeting, actions, categories) if heard else [],
            new_actions=[_action_view(a, categories) for a in actions if a.agenda_item_id == item.id],
        ))
    attendances, attendees, observers = register(meeting)
    return {**_shared_context(meeting, categories, loaded, recipient, PackKind.MINUTES),
            "attendances": attendances, "attendees": attendees, "observers": observers, "cases": cases,
            "finalised_on": format_date(meeting.minutes_finalised_at),
            "last_amended": format_date(max((a.at for i in loaded.items for a in i.amendments), default=None))}


def minutes_html(meeting, categories, recipient_label, loaded=None):
    """The minutes and action plan pack's HTML for one profile, addressed to recipient_label (and
    `loaded` as for agenda_html)."""
    return _render(TEMPLATES[PackKind.MINUTES], minutes_context(meeting, categories, recipient_label, loaded))


def pack_html(kind, meeting, categories, recipient_label, loaded=None):
    """The HTML of either pack (PackKind)."""
    build = agenda_html if kind == PackKind.AGENDA else minutes_html
    return build(meeting, categories, recipient_label, loaded)

