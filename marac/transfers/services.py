"""MARAC-to-MARAC transfers and one family across panels.

Out: the panel manager records the receiving MARAC and transfers the case: its status becomes
transferred out, its open actions are closed as transferred, it leaves the agendas of meetings still
to be held (and so the waiting list), and a background job builds the transfer packet (the referral,
the risk history, the minutes of its hearings and its action plans) as meeting packs are built: HTML
rendered by core.pdf, the PDF encrypted at rest, its SHA-256 audited, its download declared.

In: the manager records a case received from another area (the originating MARAC, the date and their
reference) and enters the case from the packet through the panel's referral form; sent, it is accepted
at once (cases.services.accept_transfer_in) and waits first for the next agenda.

Across panels: the people of a case matched by name and date of birth (the blind index) to people of
other panels' cases, shown only to someone who sees the panel's record of both cases and the identity
of both people (children's too where a child is named), and audited when shown.
"""
import io
import re
import uuid

import pikepdf
from flask import current_app, g
from sqlalchemy import func, select
from sqlalchemy.orm import aliased, selectinload

from marac.actions import services as actions
from marac.actions.models import Action, ActionStatus, UpdateKind
from marac.audit.services import record
from marac.cases import services as cases
from marac.cases.forms import referral_summary
from marac.cases.models import (ROLE_CATEGORIES, VISIBLE_TO_PANEL, Case, CaseParty, CaseStatus, Criterion, PartyRole,
                                RiskLevel)
from marac.core.formatting import format_date
from marac.core.pdf import render_pdf, sha256_of
from marac.core.steps import StepRefused, check_version
from marac.core.timeutil import utcnow
from marac.extensions import db
from marac.jobs.services import checkpoint, enqueue
from marac.meetings import services as meetings
from marac.meetings.models import AgendaItem, ItemStatus
from marac.panels.models import PanelKind, PanelRole
from marac.people.models import PersonName
from marac.sharing.models import Category
from marac.sharing.services import disclose, panel_categories
from marac.transfers.models import DETAIL_CATEGORY, CaseTransfer, PacketStatus, TransferDirection
from marac.users.models import User

MARKING = "OFFICIAL-SENSITIVE"
RUN_PACKET = "marac.transfers.services:build_packet"
PACKET_TEMPLATE = "pdf/transfer.html"


def _clean(value):
    return (value or "").strip() or None


# --- out -------------------------------------------------------------------------------------

def transfer_out(actor, case, area, contact, transferred_on, expected_version):
    """Transfer an accepted MARAC case to another area's MARAC (Case.can_transfer: its manager).
    Irreversible. Returns the CaseTransfer; its packet is built by a job (build_packet)."""
    check_version(case, expected_version)
    if not case.can_transfer(actor):
        raise StepRefused("Only the panel manager can transfer an accepted MARAC case.")
    if not _clean(area):
        raise StepRefused("Enter the receiving MARAC", field="area")
    if not _clean(contact):
        raise StepRefused("Enter how to reach the receiving MARAC's coordinator", field="contact")
    withdrawn = meetings.withdraw_from_agendas(actor, case)
    cases.mark_transferred_out(actor, case)
    closed = actions.close_on_transfer(actor, case)
    transfer = CaseTransfer(case_id=case.id, direction=TransferDirection.OUT, transferred_on=transferred_on,
                            recorded_by_id=actor.id, packet_status=PacketStatus.QUEUED)
    transfer.area, transfer.contact = _clean(area), _clean(contact)
    db.session.add(transfer)
    db.session.flush()
    record("case.transferred_out", actor, case, detail={"transfer_id": str(transfer.id), "actions_closed": closed,
                                                        "agendas_left": withdrawn})
    enqueue(RUN_PACKET, str(transfer.id))
    return transfer


def build_packet(transfer_id):
    """The job: write the transfer packet of a case sent out, render it, store it encrypted with its
    SHA-256 and page count, and audit it. A failure is kept as the exception's class (never its message)
    and the manager may build it again."""
    transfer = db.session.get(CaseTransfer, _uuid(transfer_id))
    if transfer is None or not transfer.is_out or transfer.packet_status != PacketStatus.QUEUED:
        return None
    actor = db.session.get(User, transfer.recorded_by_id) if transfer.recorded_by_id else None
    try:
        html = packet_html(transfer)
        title = packet_title(transfer.case)
        checkpoint()
        pdf = render_pdf(html, title=title)
        with pikepdf.open(io.BytesIO(pdf)) as document:
            pages = len(document.pages)
    except Exception as error:
        transfer_key = transfer.id
        if g.get("marac_job"):
            db.session.rollback()
        transfer = db.session.get(CaseTransfer, transfer_key)
        transfer.packet_status, transfer.packet_error = PacketStatus.FAILED, type(error).__name__[:64]
        db.session.flush()
        record("transfer.packet_failed", actor, transfer, detail={"error": transfer.packet_error})
        checkpoint()
        return transfer
    transfer.packet = pdf
    transfer.packet_sha256, transfer.packet_pages = sha256_of(pdf), pages
    transfer.packet_status, transfer.packet_built_at, transfer.packet_error = PacketStatus.BUILT, utcnow(), None
    db.session.flush()
    record("transfer.packet_built", actor, transfer, detail={"case_id": str(transfer.case_id),
                                                             "sha256": transfer.packet_sha256, "pages": pages})
    checkpoint()
    return transfer


def rebuild_packet(actor, transfer):
    """Build a packet that failed again (the manager's button)."""
    if not transfer.is_out or transfer.packet_status != PacketStatus.FAILED:
        raise StepRefused("The transfer packet is ready or being prepared already.")
    transfer.packet_status, transfer.packet_error = PacketStatus.QUEUED, None
    db.session.flush()
    record("transfer.packet_requested", actor, transfer)
    enqueue(RUN_PACKET, str(transfer.id))
    return transfer


def packet_file_name(transfer):
    """OFFICIAL-SENSITIVE_MARAC_transfer_<case reference>_<date>.pdf: no personal data."""
    reference = re.sub(r"[^A-Za-z0-9-]+", "-", transfer.case.reference or "case").strip("-")
    return f"{MARKING}_MARAC_transfer_{reference}_{transfer.transferred_on.isoformat()}.pdf"


def download_packet(actor, transfer):
    """The packet's bytes for the manager who sends it, the download declared (a sharing record per
    category: the packet holds the whole record) and audited with its SHA-256. Returns (name, bytes)."""
    pdf = transfer.packet if transfer.packet_ready else None
    if pdf is None:
        raise StepRefused("The transfer packet is not ready.")
    disclose(actor, [transfer.case], set(Category), action="transfer.packet_downloaded", target=transfer,
             purpose="transfer packet", detail={"sha256": transfer.packet_sha256})
    return packet_file_name(transfer), pdf


# --- what the packet says --------------------------------------------------------------------

def packet_title(case):
    """The document title (the PDF's only metadata): marking, panel, reference; no personal data."""
    return f"{MARKING}: {case.panel.name}, transfer packet, {case.reference}"


def _hearings(case):
    """The case's hearings, oldest first, with their meetings, amendments and the actions agreed at each
    (each with its history): a fixed number of queries."""
    items = db.session.execute(
        select(AgendaItem).where(AgendaItem.case_id == case.id, AgendaItem.status == ItemStatus.HEARD)
        .options(selectinload(AgendaItem.meeting), selectinload(AgendaItem.amendments))).scalars().all()
    found = db.session.execute(
        select(Action).where(Action.case_id == case.id).order_by(Action.due_on, Action.created_at)
        .options(selectinload(Action.updates), selectinload(Action.item))).scalars().all()
    by_item = {}
    for action in found:
        by_item.setdefault(action.agenda_item_id, []).append(action)
    return sorted(items, key=lambda i: (i.meeting.meets_on, i.position)), by_item


def packet_context(transfer):
    """Everything the packet shows: the transfer, the referral as the panel holds it, the risk at
    referral and at each hearing, and each hearing's minute with the actions agreed there."""
    case = transfer.case
    items, by_item = _hearings(case)
    hearings = []
    for item in items:
        agreed = []
        for action in by_item.get(item.id, []):
            notes = [f"{format_date(u.at, 'short')}: {UpdateKind.label_of(u.kind)}" + (f": {u.note}" if u.note else "")
                     for u in action.updates if u.kind != UpdateKind.CREATED]
            agreed.append({"owner": action.owner_agency.name, "description": action.description or "",
                           "named_person": action.named_person or "", "due_on": format_date(action.due_on, "short"),
                           "status": ActionStatus.label_of(action.status), "history": notes})
        hearings.append({"meets_on": format_date(item.meeting.meets_on), "risk_summary": item.risk_summary or "Not recorded",
                         "minute": item.minute or "Not recorded",
                         "amended": [format_date(a.at) for a in item.amendments], "actions": agreed})
    risk = [("At referral", format_date(case.referred_on) if case.referred_on else "Not given",
             "; ".join(part for part in (
                 RiskLevel.label_of(case.risk_level) if case.risk_level else None,
                 f"risk checklist {case.risk_score} 'yes'" if case.risk_score is not None else None,
                 Criterion.label_of(case.criterion) if case.criterion else None,
                 f"{case.police_incidents} police-reported incidents in 12 months"
                 if case.police_incidents is not None else None) if part) or "Not assessed")]
    risk += [("At the hearing", h["meets_on"], h["risk_summary"]) for h in hearings]
    return {"title": packet_title(case), "marking": MARKING, "withheld": None, "panel": case.panel, "case": case,
            "transfer": transfer, "transferred_on": format_date(transfer.transferred_on),
            "referred_on": format_date(case.referred_on) if case.referred_on else "Not given",
            "subject": _named(case.subject), "subject_label": PartyRole.label_of(case.subject_role),
            "referral": referral_summary(case.panel, case.referral or {}), "risk": risk, "hearings": hearings}


def _named(person):
    """A person's name with their date of birth, as far as recorded."""
    if person is None:
        return "Not given"
    name = person.full_name or "Name not given"
    return f"{name} (born {format_date(person.date_of_birth)})" if person.date_of_birth else name


def packet_html(transfer):
    """The packet's HTML, rendered with the application's Jinja environment (it builds in a job too)."""
    return current_app.jinja_env.get_template(PACKET_TEMPLATE).render(**packet_context(transfer))


# --- in --------------------------------------------------------------------------------------

def receive_transfer(actor, panel, area, contact, their_reference, transferred_on):
    """Record a case received from another area's MARAC: a new case of the panel (a draft the manager
    completes from the packet through the referral form; sent, it is accepted as it is) with its origin.
    The manager of a MARAC panel only. Returns the case."""
    if panel.kind != PanelKind.MARAC or not panel.is_manager(actor):
        raise StepRefused("Only the manager of a MARAC panel can receive a transfer.")
    if not _clean(area):
        raise StepRefused("Enter the MARAC the case comes from", field="area")
    case = cases.new_case(actor, panel)
    case.is_transfer_in = True
    case.referral = {"referrer_name": actor.full_name, "referrer_role": actor.job_title,
                     "referrer_contact": actor.email, "referred_on": transferred_on.isoformat()}
    db.session.add(case)
    db.session.flush()
    transfer = CaseTransfer(case_id=case.id, direction=TransferDirection.IN, transferred_on=transferred_on,
                            recorded_by_id=actor.id)
    transfer.area, transfer.contact, transfer.their_reference = _clean(area), _clean(contact), _clean(their_reference)
    db.session.add(transfer)
    db.session.flush()
    record("case.transfer_received", actor, case, detail={"transfer_id": str(transfer.id)})
    return case


# --- reading ---------------------------------------------------------------------------------

def transfers_shown(actor, case):
    """The case's transfers the actor may see (CaseTransfer.can_view), each with whether its details
    (the other area, contact, reference) may be shown: where a case came from with `identity`, where
    it went with `contact` (the manager's alone). The case page's declaration covers them."""
    if case.status == CaseStatus.DRAFT and not case.is_transfer_in:
        return []
    found = db.session.execute(select(CaseTransfer).where(CaseTransfer.case_id == case.id)
                               .order_by(CaseTransfer.transferred_on)).scalars().all()
    visible = [t for t in found if t.can_view(actor)]
    categories = panel_categories(case.panel, actor) if visible else set()
    return [(t, DETAIL_CATEGORY[TransferDirection(t.direction)] in categories) for t in visible]


def open_actions_of(case):
    """How many of the case's actions are open (closed as transferred if it is sent out)."""
    return db.session.execute(select(func.count()).select_from(Action).where(
        Action.case_id == case.id, Action.status == ActionStatus.OPEN)).scalar_one()


def record_transfer_view(actor, transfer):
    """Declare the transfer page: the other area and its coordinator, of the case's category for them."""
    disclose(actor, [transfer.case], {DETAIL_CATEGORY[TransferDirection(transfer.direction)]},
             action="transfer.viewed", target=transfer, purpose="transfer viewed")


def _uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


# --- one family across panels ----------------------------------------------------------------

def family_links(actor, case):
    """[(party of this case, [(other case, the person's role there)])]: the people of this case named
    (name or alias with date of birth: PersonName.name_dob_index) in cases of the panels, other than
    this one, on which the actor holds a role. One query for every person of the case. A link is kept
    only when the actor sees the panel's record of both cases and, on both, the identity of the person
    in their role there (a child's needs `children` too); anything else is as if there were no link.
    Links shown are declared: a sharing record of identity (and children) of each other case, and one
    audit event naming them. Returns [] when there is nothing the actor may be shown."""
    if case.status == CaseStatus.DRAFT or not case.can_view_record(actor):
        return []
    mine, theirs, their_party = aliased(PersonName), aliased(PersonName), aliased(CaseParty)
    own_panels = select(PanelRole.panel_id).where(PanelRole.user_id == actor.id)
    rows = db.session.execute(
        select(CaseParty.id, their_party.role, Case)
        .join(mine, mine.person_id == CaseParty.person_id)
        .join(theirs, theirs.name_dob_index == mine.name_dob_index)
        .join(their_party, their_party.person_id == theirs.person_id)
        .join(Case, Case.id == their_party.case_id)
        .where(CaseParty.case_id == case.id, mine.name_dob_index.is_not(None), Case.panel_id != case.panel_id,
               Case.panel_id.in_(own_panels), Case.status.in_(VISIBLE_TO_PANEL))
        .order_by(Case.referred_on.desc(), Case.reference)
        .options(selectinload(Case.panel))).all()
    if not rows:
        return []
    here = panel_categories(case.panel, actor)
    parties = {party.id: party for party in case.parties}
    links, shown, categories_of = {}, {}, {}
    for party_id, role, other in rows:
        party = parties[party_id]
        there = categories_of.setdefault(other.panel_id, panel_categories(other.panel, actor))
        if not (other.can_view_record(actor) and _identity_visible(party.role, here)
                and _identity_visible(role, there)):
            continue
        entry = links.setdefault(party_id, {})
        entry.setdefault((other.id, role), (other, role))
        shown.setdefault(other.id, (other, set()))[1].update({Category.IDENTITY} | ROLE_CATEGORIES[PartyRole(role)])
    if not links:
        return []
    disclose(actor, [other for other, _ in shown.values()], set(Category), action="case.family_viewed", target=case,
             purpose="same person on another panel",
             shown_of=lambda other: shown[other.id][1])
    return [(party, list(links[party.id].values())) for party in case.parties if party.id in links]


def _identity_visible(role, categories):
    """Whether a viewer who may see `categories` of a case may see who plays `role` in it."""
    return {Category.IDENTITY} | ROLE_CATEGORIES[PartyRole(role)] <= set(categories)
