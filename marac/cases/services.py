"""Referrals and cases: saving answers, submitting, repeat detection, screening, history, lists, search.

The referral's answers (Case.referral, encrypted) are the record of what was said; the Person,
PersonName and Location rows are rebuilt from them at every save after submission, so that repeat
detection and search can work through blind indexes without decrypting anything. Those rows belong to
their case alone: no Person or Location is shared between cases (what one referrer typed never shows
on another's case); cases naming the same person or address are linked by blind index only. What the
referrer sent (Case.sent_referral) is kept beside the record: it is what the referrer sees of the
case, and what they edit until screening; their changes are carried into the record.
"""
import copy
import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy import Date, String, and_, cast, func, or_, select
from sqlalchemy.orm import defer, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from marac.audit.services import record
from marac.cases import questions
from marac.cases.models import (DRAFTS_FIRST, VISIBLE_TO_PANEL, Case, CaseChange, CaseLocation, CaseParty, CaseSort,
                                CaseStatus, ChangeAction, ClosureOutcome, LegalHold, PartyRole, ReferenceCounter,
                                RISK_ORDER, RiskLevel, ScreeningDecision, closure_outcomes, roles_visible)
from marac.core.blind_index import matching
from marac.core.pagination import keyset_page
from marac.core.steps import StepRefused, check_version
from marac.core.timeutil import today, utcnow
from marac.core.workdays import add_working_days
from marac.extensions import db
from marac.panels.models import PanelKind
from marac.people.models import Location, LocationKind, Person, PersonName, YesNoUnknown
from marac.people.services import (build_location, build_person, name_dob_condition, name_indexes,
                                   sounds_like_condition)
from marac.sharing.models import Category
from marac.sharing.services import disclose, panel_categories, visible_categories

REPEAT_WINDOW = dt.timedelta(days=365)
# Keys of a referral form's data that are controls, not answers.
CONTROLS = {"csrf_token", "version", "action", "add"}


def _jsonable(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def answers_from(form):
    """The form's data as plain JSON values, blank list entries dropped."""
    answers = _jsonable({key: value for key, value in form.data.items() if key not in CONTROLS})
    for key, value in list(answers.items()):
        if isinstance(value, list) and value and isinstance(value[0], dict):
            answers[key] = [entry for entry in value if any(v not in (None, "", False, "0") for v in entry.values())]
    return answers


def new_case(actor, panel):
    """A referral not yet saved, by the actor to the panel (it is added to the session when saved)."""
    return Case(panel_id=panel.id, panel=panel, status=CaseStatus.DRAFT, referrer_user_id=actor.id,
                referring_agency_id=actor.agency_id, codes={}, referral={})


def indicator_score(answers):
    """The MACE screening score: the sum of the indicators' scores."""
    indicators = answers.get("indicators") or {}
    return sum(int(indicators.get(key) or 0) for key, _ in questions.MACE_INDICATORS)


def vulnerability_score(answers):
    """The ASB vulnerability score: how many questions were answered yes."""
    vulnerability = answers.get("vulnerability") or {}
    return sum(1 for key, _ in questions.ASB_QUESTIONS if vulnerability.get(key) == YesNoUnknown.YES)


def _derive(case, answers):
    """Plain columns computed from the answers: dates, criterion, scores, risk, coded lists."""
    kind = case.panel.kind
    case.referred_on = dt.date.fromisoformat(answers["referred_on"]) if answers.get("referred_on") else None
    if kind == PanelKind.MARAC:
        case.criterion = answers.get("criterion") or None
        case.risk_score = questions.dash_score(answers.get("dash"))
        case.police_incidents = answers.get("police_incidents")
        case.risk_level = RiskLevel.HIGH
        case.codes = {"children": len(answers.get("children") or [])}
    elif kind == PanelKind.MACE:
        score = indicator_score(answers)
        case.risk_score = score
        case.risk_level = (RiskLevel.HIGH if score >= questions.MACE_HIGH_SCORE else
                           RiskLevel.MEDIUM if score >= questions.MACE_MEDIUM_SCORE else RiskLevel.LOW)
        case.codes = {"exploitation_types": sorted(answers.get("exploitation_types") or [])}
    else:
        score = vulnerability_score(answers)
        case.risk_score = score
        _, case.risk_level, days = next(p for p in questions.ASB_PRIORITIES if score >= p[0])
        case.codes = {"categories": sorted(answers.get("categories") or []), "needs": sorted(answers.get("needs") or []),
                      "interventions": sorted(answers.get("interventions") or []), "response_days": days,
                      "complaints_6_months": answers.get("complaints_6_months"),
                      "response_due_on": add_working_days(case.referred_on, days).isoformat() if case.referred_on
                      else None}


def _changed_fields(old, new, prefix=""):
    changed = {}
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            changed.update(_changed_fields(a, b, f"{prefix}{key}."))
        elif a != b:
            changed[f"{prefix}{key}"] = a
    return changed


def _carry(record, before, after):
    """The record with the changes from `before` to `after` made to it: a group of answers (a person)
    answer by answer, anything else (a list, a single answer) whole. So a referrer's edit of their own
    version changes what they changed, and keeps what the manager changed elsewhere."""
    carried = dict(record)
    for key in set(before) | set(after):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict) and isinstance(carried.get(key), dict):
            carried[key] = _carry(carried[key], old, new)
        elif key in after:
            carried[key] = new
        else:
            carried.pop(key, None)
    return carried


def _history(case, actor, action, fields=(), old_values=None, note=None):
    """Add an entry (ChangeAction) to the case's history, with the reason given for it (`note`)."""
    change = CaseChange(case_id=case.id, user_id=actor.id if actor else None, at=utcnow(), action=action,
                        status=case.status, fields=list(fields))
    change.old_values = old_values or None
    change.note = note
    db.session.add(change)


def may_save_draft(case):
    """Whether the referral may still be saved as a draft: only until it is sent."""
    return case.status == CaseStatus.DRAFT


def save_referral(actor, case, form, draft):
    """Save a draft (when may_save_draft), or submit or edit a referral from its form. Refuses with
    StaleEdit if the case moved on since the form was loaded."""
    expected = form.version.data
    if may_save_draft(case) and not expected:
        expected = None  # a new referral, or a draft posted without its version: nothing to be stale against
    return save_answers(actor, case, answers_from(form), submit=not (draft and may_save_draft(case)),
                        expected_version=expected)


def answers_to_edit(actor, case):
    """The answers an edit form starts from: the panel's record for its manager (and a draft), else
    the referral as the referrer sent it (Case.edits_record): a referrer never reads others' edits."""
    if case.edits_record(actor):
        return dict(case.referral or {})
    return dict(case.sent_referral or {})


def save_answers(actor, case, answers, submit, expected_version=None, now=None):
    """save_referral for answers already in plain form (the demo data uses it directly). The answers
    are the record's, or, from a referrer editing before screening (answers_to_edit), their own
    version: it becomes the referral as sent, and its changes are carried into the record."""
    check_version(case, expected_version)
    old = case.referral or {}
    was_draft = case.status == CaseStatus.DRAFT
    sent = answers
    if not was_draft and not case.edits_record(actor):
        answers = _carry(old, case.sent_referral or {}, sent)
    changed = _changed_fields(old, answers)
    case.referral = answers
    if case.is_referrer(actor) and ((was_draft and submit) or case.status == CaseStatus.SUBMITTED):
        case.sent_referral = sent
    _derive(case, answers)
    submitting = was_draft and submit
    if submitting:
        case.status = CaseStatus.SUBMITTED
        case.submitted_at = now or utcnow()
        case.reference = next_reference(case.panel.kind, case.submitted_at.year)
    if case.status != CaseStatus.DRAFT:
        rebuild_parties(case, answers)
        if submitting:
            # Once, when the referral is sent: an edit never checks again, so that the check cannot be
            # run over and over with guessed names (the manager confirms or drops the link at screening).
            detect_repeat(actor, case)
    db.session.add(case)
    db.session.flush()
    if not was_draft:
        _history(case, actor, ChangeAction.EDITED, changed.keys(), changed)
        action = "case.edited"
    elif case.status == CaseStatus.SUBMITTED:
        _history(case, actor, ChangeAction.SUBMITTED)
        action = "referral.submitted"
    else:
        _history(case, actor, ChangeAction.DRAFT_SAVED)
        action = "referral.draft_saved"
    record(action, actor, case, detail={"status": case.status, "fields_changed": len(changed)})
    if submitting and case.is_transfer_in and case.panel.is_manager(actor):
        accept_transfer_in(actor, case)
    return case


def accept_transfer_in(actor, case):
    """A case received from another area's MARAC (transfers), sent by its manager: accepted as it is,
    since the sending MARAC screened it; it then waits first for the next agenda."""
    case.status = CaseStatus.ACCEPTED
    case.screened_at = utcnow()
    case.screened_by_id = actor.id
    _history(case, actor, ChangeAction.TRANSFERRED_IN)
    db.session.flush()
    record("case.accepted", actor, case, detail={"transfer_in": True})


def reserve_references(kind, year, count=1):
    """The first of `count` consecutive reference numbers of the kind and year, taken from its counter
    under a row lock (next_reference takes one; a bulk load takes many)."""
    counter = db.session.execute(
        select(ReferenceCounter).where(ReferenceCounter.prefix == kind, ReferenceCounter.year == year)
        .with_for_update()).scalar_one_or_none()
    if counter is None:
        counter = ReferenceCounter(prefix=kind, year=year, last=0)
        db.session.add(counter)
    first = counter.last + 1
    counter.last += count
    db.session.flush()
    return first


def next_reference(kind, year):
    """The next reference for the panel kind and year, e.g. MARAC-2026-0042 (under a row lock)."""
    return f"{kind}-{year}-{reserve_references(kind, year):04d}"


# The answers of each kind of referral that name a person, in the order rebuild_parties adds them
# (so CaseParty.position is the index into party_slots): (role, key of the answers, whether the key
# holds a list, the keys kept in Person.details).
PARTY_ANSWERS = {
    PanelKind.MARAC: ((PartyRole.VICTIM, "victim", False, ("safe_to_call", "language", "interpreter", "gp")),
                      (PartyRole.PERPETRATOR, "perpetrators", True, ()),
                      (PartyRole.CHILD, "children", True, ("lives_with",))),
    PanelKind.MACE: ((PartyRole.YOUNG_PERSON, "young_person", False, ("school", "social_worker")),
                     (PartyRole.PERSON_OF_CONCERN, "persons_of_concern", True, ())),
    PanelKind.ASB: ((PartyRole.COMPLAINANT, "complainant", False, ()),
                    (PartyRole.RESPONDENT, "respondents", True, ())),
}


def party_slots(kind, answers):
    """[(role, key, index or None, detail keys)] of the people the answers name, in CaseParty.position
    order: the subject's group (always present), then each entry of each list."""
    slots = []
    for role, key, is_list, detail_keys in PARTY_ANSWERS[kind]:
        if not is_list:
            slots.append((role, key, None, detail_keys))
        else:
            slots += [(role, key, index, detail_keys) for index in range(len(answers.get(key) or []))]
    return slots


def party_answers(case, position):
    """(role, the answers about the person at this position of the case's record), or None."""
    answers = case.referral or {}
    slots = party_slots(case.panel.kind, answers)
    if not 0 <= position < len(slots):
        return None
    role, key, index, _ = slots[position]
    group = answers.get(key) if index is None else answers[key][index]
    return role, dict(group or {})


def _slot_path(key, index, field):
    return f"{key}.{field}" if index is None else f"{key}.{index}.{field}"


def rectify_party(actor, case, position, changes):
    """Correct the details (`changes`: {answer key: new value}) of the person at this position of the
    case's record, and of the referral as sent when it names them at the same place: the people and
    their blind indexes are rebuilt, the old values kept encrypted in the case's history. Returns the
    answer paths changed (none when nothing differed)."""
    answers = copy.deepcopy(case.referral or {})
    slots = party_slots(case.panel.kind, answers)
    if not 0 <= position < len(slots):
        raise StepRefused("This person is no longer on the case. Find them again.")
    _, key, index, _ = slots[position]
    group = answers[key] if index is None else answers[key][index]
    old = {}
    for field, value in changes.items():
        if group.get(field) != value:
            old[_slot_path(key, index, field)] = group.get(field)
            group[field] = value
    if not old:
        return []
    case.referral = answers
    sent = copy.deepcopy(case.sent_referral or {})
    entry = sent.get(key)
    if index is not None:
        entry = entry[index] if isinstance(entry, list) and index < len(entry) else None
    if isinstance(entry, dict):
        entry.update(changes)
        case.sent_referral = sent
    rebuild_parties(case, answers)
    _history(case, actor, ChangeAction.RECTIFIED, old.keys(), old)
    db.session.flush()
    record("case.rectified", actor, case, detail={"fields": sorted(old)})
    return sorted(old)


def rebuild_parties(case, answers):
    """Replace the case's people and locations with new ones built from the answers. Every row is the
    case's own (none is shared with another case), so the old ones are simply deleted."""
    old = [party.person for party in case.parties] + [link.location for link in case.locations]
    case.parties = []
    case.locations = []
    db.session.flush()
    for record_ in old:
        db.session.delete(record_)
    on = case.referred_on
    kind = case.panel.kind
    position = 0

    def add(role, person, relationship=None):
        nonlocal position
        case.parties.append(CaseParty(person=person, role=role, relationship_to_subject=relationship,
                                      position=position))
        position += 1

    for role, key, index, detail_keys in party_slots(kind, answers):
        group = answers[key] if index is None else answers[key][index]
        add(role, build_person(group, on, detail_keys),
            (group.get("relationship") or None) if role == PartyRole.PERPETRATOR else None)
    default_kind = LocationKind.ADDRESS if kind == PanelKind.ASB else LocationKind.HOTSPOT
    for location_answers in answers.get("locations") or []:
        case.locations.append(CaseLocation(location=build_location(location_answers, default_kind)))
    db.session.flush()


def earlier_cases_of_subject(case):
    """Earlier cases of the same panel whose subject has a name or alias and date of birth in common
    with this case's subject: the candidates for a repeat. Uses blind indexes only."""
    subject = case.subject
    indexes = name_indexes(subject) if subject else set()
    if not indexes or case.referred_on is None:
        return []
    same_subject = (select(CaseParty.case_id).join(PersonName, PersonName.person_id == CaseParty.person_id)
                    .where(CaseParty.role == case.subject_role, PersonName.name_dob_index.in_(indexes)))
    return db.session.execute(
        select(Case).where(Case.panel_id == case.panel_id, Case.id != case.id, Case.status.in_(VISIBLE_TO_PANEL),
                           Case.id.in_(same_subject), Case.referred_on <= case.referred_on)
        .order_by(Case.referred_on.desc())
    ).scalars().all()


def detect_repeat(actor, case):
    """Link the case to the latest earlier case of the same subject referred within 12 months, and
    audit that the check ran. The event says nothing of the result: the audit trail is read by
    administrators, who may not see either case (the result shows only through Case.repeat_shown)."""
    window_start = case.referred_on - REPEAT_WINDOW if case.referred_on else None
    repeat_of = next((c for c in earlier_cases_of_subject(case)
                      if c.status != CaseStatus.SCREENED_OUT and window_start and c.referred_on >= window_start), None)
    case.repeat_of_id = repeat_of.id if repeat_of else None
    case.is_repeat = repeat_of is not None
    record("case.repeat_checked", actor, case, detail={"window_days": REPEAT_WINDOW.days})
    return repeat_of


def earlier_cases_for(actor, case):
    """earlier_cases_of_subject, for the panel manager only (others see no other case through this
    one), and of those only the ones they may see."""
    if not case.panel.is_manager(actor):
        return []
    return [earlier for earlier in earlier_cases_of_subject(case) if earlier.can_view(actor)]


def linked_cases(actor, case):
    """{location or person id: [other cases]}: the other cases of the same panel at the same address
    (Location.address_index) as each of this case's locations, and naming the same person of concern
    (a name or alias with the date of birth, PersonName.name_dob_index). Blind indexes only, two
    queries. Shown only to someone who may see, by their role on the panel (not as a referrer), the
    category that makes the link (contact for an address, identity for a name) and who may see the
    other case: a referrer with no role learns nothing of other cases through their own."""
    by_panel = panel_categories(case.panel, actor)
    found = {}
    others = (Case.panel_id == case.panel_id, Case.id != case.id, Case.status.in_(VISIBLE_TO_PANEL))
    locations = {link.location.address_index: link.location_id for link in case.locations
                 if link.location.address_index}
    if Category.CONTACT in by_panel and locations:
        for index, other in db.session.execute(
                select(Location.address_index, Case).join(CaseLocation, CaseLocation.location_id == Location.id)
                .join(Case, Case.id == CaseLocation.case_id)
                .where(Location.address_index.in_(list(locations)), *others).order_by(Case.referred_on.desc())):
            found.setdefault(locations[index], []).append(other)
    people = {}
    for party in case.parties:
        if party.role == PartyRole.PERSON_OF_CONCERN:
            for index in name_indexes(party.person):
                people[index] = party.person_id
    if Category.IDENTITY in by_panel and people:
        for index, other in db.session.execute(
                select(PersonName.name_dob_index, Case).join(CaseParty, CaseParty.person_id == PersonName.person_id)
                .join(Case, Case.id == CaseParty.case_id)
                .where(CaseParty.role == PartyRole.PERSON_OF_CONCERN, PersonName.name_dob_index.in_(list(people)),
                       *others)
                .order_by(Case.referred_on.desc())):
            found.setdefault(people[index], []).append(other)
    return {record_id: [c for c in dict.fromkeys(cases) if c.can_view(actor)] for record_id, cases in found.items()}


def screen(actor, case, decision, reason, confirm_repeat, expected_version):
    """Accept the referral for a meeting or screen it out (with the reason); keep or drop the repeat link."""
    check_version(case, expected_version)
    if case.status != CaseStatus.SUBMITTED:
        raise StepRefused("Only a referral awaiting screening can be screened.")
    accept = decision == ScreeningDecision.ACCEPT
    case.status = CaseStatus.ACCEPTED if accept else CaseStatus.SCREENED_OUT
    case.screened_at = utcnow()
    case.screened_by_id = actor.id
    case.screening_reason = (reason or "").strip() or None
    if case.repeat_of_id and not confirm_repeat:
        case.is_repeat, case.repeat_of_id = False, None
    _history(case, actor, ChangeAction.ACCEPTED if accept else ChangeAction.SCREENED_OUT)
    db.session.flush()
    # No repeat flag in the event: administrators read the trail and may not see the earlier case.
    record(f"case.{case.status}", actor, case)


# Checks of higher layers that can stop a case from closing: each takes the case and returns the reason
# it cannot close now, or None. Meetings adds one (a case listed at a meeting still to be held), so that
# this layer need not know agendas.
closure_blockers = []


def close_case(actor, case, outcome, reason, expected_version=None):
    """Close an accepted case with an outcome (ClosureOutcome; "other" needs the reason in words). A
    closed case leaves the waiting list; its record, hearings and actions stay."""
    check_version(case, expected_version)
    if case.status != CaseStatus.ACCEPTED:
        raise StepRefused("Only an accepted case can be closed.")
    if outcome not in closure_outcomes(case.panel.kind):
        raise StepRefused("Choose why the case is closing", field="outcome")
    reason = (reason or "").strip() or None
    if outcome == ClosureOutcome.OTHER and not reason:
        raise StepRefused("Give the reason for closing the case", field="reason")
    for blocker in closure_blockers:
        why = blocker(case)
        if why:
            raise StepRefused(why)
    case.status = CaseStatus.CLOSED
    case.closed_at = utcnow()
    case.closure_outcome = outcome
    case.closure_reason = reason
    _history(case, actor, ChangeAction.CLOSED)
    db.session.flush()
    record("case.closed", actor, case, detail={"outcome": outcome})


def reopen_case(actor, case, reason, expected_version=None):
    """Reopen a closed case (the reason is kept, encrypted, in its history); it waits for a meeting again.
    The closure it undoes stays in the history as its old values."""
    check_version(case, expected_version)
    if case.status != CaseStatus.CLOSED:
        raise StepRefused("Only a closed case can be reopened.")
    reason = (reason or "").strip()
    if not reason:
        raise StepRefused("Give the reason for reopening the case", field="reason")
    old = {"closure_outcome": case.closure_outcome, "closure_reason": case.closure_reason,
           "closed_at": case.closed_at.isoformat() if case.closed_at else None}
    case.status = CaseStatus.ACCEPTED
    case.closed_at = case.closure_outcome = case.closure_reason = None
    _history(case, actor, ChangeAction.REOPENED, ["status"], old, note=reason)
    db.session.flush()
    record("case.reopened", actor, case)


def mark_transferred_out(actor, case):
    """The case's status once it is sent to another area's MARAC (transfers.services.transfer_out, which
    closes its actions and takes it off agendas): only an accepted case is transferred. It is closed at
    the same time (closed_at, outcome moved area), and unlike a closure it cannot be reopened."""
    if case.status != CaseStatus.ACCEPTED:
        raise StepRefused("Only an accepted case can be transferred to another area.")
    case.status = CaseStatus.TRANSFERRED_OUT
    # Closed here as far as retention and the statistics go: from now, having moved out of the area.
    case.closed_at = utcnow()
    case.closure_outcome = ClosureOutcome.MOVED_AREA
    _history(case, actor, ChangeAction.TRANSFERRED_OUT)
    db.session.flush()


# --- the case's chronology ------------------------------------------------------------------------

@dataclass
class ChronologyEntry:
    """One step of a case's story: when, what (its stage, ChronologyStage), a sentence, and the
    (label, value) details the viewer may see (a withheld value is WITHHELD)."""

    at: dt.datetime
    stage: str
    text: str
    details: list = field(default_factory=list)
    link: str | None = None


class ChronologyStage:
    """The stages a case moves through, as the chronology tags them."""

    REFERRAL, SCREENING, LISTING, HEARING, ACTION, REVIEW, CLOSURE = (
        "Referral", "Screening", "Listed", "Heard", "Action", "Review", "Closure")


# The chronology's entries that higher layers know (listings and hearings, actions and their reviews,
# MACE reviews, transfers...): each source takes (case, viewer, categories) and returns entries the
# viewer may see. Meetings and actions add theirs; this layer knows only the case's own history.
chronology_sources = []

_HISTORY_STAGES = {ChangeAction.ACCEPTED: ChronologyStage.SCREENING, ChangeAction.SCREENED_OUT: ChronologyStage.SCREENING,
                   ChangeAction.CLOSED: ChronologyStage.CLOSURE, ChangeAction.REOPENED: ChronologyStage.CLOSURE,
                   ChangeAction.TRANSFERRED_IN: ChronologyStage.SCREENING,
                   ChangeAction.TRANSFERRED_OUT: ChronologyStage.CLOSURE}


def chronology(case, viewer, categories, history=None):
    """The case's story, oldest first: its referral, screening, every listing and hearing, its actions
    and their reviews, and its closures, as far as the viewer may see each (their categories). Pass the
    viewer's history_of the case when it is read already."""
    entries = []
    if case.submitted_at:
        entries.append(ChronologyEntry(case.submitted_at, ChronologyStage.REFERRAL,
                                       f"Referred by {case.referring_agency.name}"))
    closing = None  # the latest closure entry, whose outcome a later reopening remembers
    for change in reversed(history_of(case, viewer) if history is None else history):
        stage = _HISTORY_STAGES.get(change.action)
        if stage is None:
            continue
        entry = ChronologyEntry(change.at, stage, ChangeAction.label_of(change.action))
        if change.action == ChangeAction.CLOSED:
            closing = entry
            if case.status == CaseStatus.CLOSED and case.closure_outcome:
                entry.details = [("Outcome", ClosureOutcome.label_of(case.closure_outcome))]
        elif change.action == ChangeAction.REOPENED and closing is not None:
            outcome = (change.old_values or {}).get("closure_outcome")
            closing.details = [("Outcome", ClosureOutcome.label_of(outcome))] if outcome else []
        entries.append(entry)
    for source in chronology_sources:
        entries.extend(source(case, viewer, categories))
    return sorted(entries, key=lambda e: e.at)
def place_hold(actor, case, reason):
    """Place a legal hold on the case (the manager, with a reason, kept encrypted): while it is in force
    the case is never deleted under the retention schedule. One hold at a time."""
    if not case.can_hold(actor):
        raise StepRefused("Only the panel manager can place a legal hold on this case.")
    if case.active_hold is not None:
        raise StepRefused("The case is already under a legal hold.")
    reason = (reason or "").strip()
    if not reason:
        raise StepRefused("Give the reason for the legal hold", field="reason")
    hold = LegalHold(id=uuid.uuid4(), case=case, placed_by_id=actor.id, placed_at=utcnow())
    hold.reason = reason
    db.session.add(hold)
    db.session.flush()
    record("case.hold_placed", actor, case, detail={"hold": str(hold.id)})
    return hold


def lift_hold(actor, hold, reason):
    """Lift a legal hold (the manager, with a reason, kept encrypted): the case follows its retention
    schedule again. The hold stays in the case's record, lifted."""
    if not hold.can_update(actor):
        raise StepRefused("This legal hold has been lifted already, or you cannot lift it.")
    reason = (reason or "").strip()
    if not reason:
        raise StepRefused("Give the reason for lifting the legal hold", field="reason")
    hold.lifted_at, hold.lifted_by_id = utcnow(), actor.id
    hold.lift_reason = reason
    db.session.flush()
    record("case.hold_lifted", actor, hold.case, detail={"hold": str(hold.id)})


def holds_of(panel, page, per_page=50):
    """The legal holds in force on the panel's cases, oldest first, a page at a time (the manager's list)."""
    stmt = (select(LegalHold).join(Case, Case.id == LegalHold.case_id)
            .where(Case.panel_id == panel.id, LegalHold.lifted_at.is_(None)).order_by(LegalHold.placed_at, LegalHold.id)
            # the list shows each hold's case reference and who placed it: loaded with the page
            .options(selectinload(LegalHold.case), selectinload(LegalHold.placed_by)))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)
# Parts of the case page that higher layers add (MACE reviews, ...): name -> part(actor, case, categories),
# which returns what its include (templates/<package>/_<name>.html) needs, or None when it shows nothing to
# this viewer. Registered by those layers' services, so that this layer need not know them.
case_page_parts = {}


def case_page_loads():
    """Loader options for the case page: its people with their names and aliases, and its locations,
    in three queries however many people it names (not one for each person's names)."""
    return (selectinload(Case.parties).joinedload(CaseParty.person).selectinload(Person.names),
            selectinload(Case.locations))


def case_page_context(actor, case, categories):
    """{part name: its context or None} of the case page's added parts (case_page_parts)."""
    return {name: part(actor, case, categories) for name, part in case_page_parts.items()}


def record_view(actor, case):
    """Record that the actor opened the case page (audit event and sharing log); returns the
    categories of the panel's record shown to them (none to a referrer without a role, who sees their
    referral as sent: every category of it, recorded too)."""
    categories = visible_categories(case, actor) if case.can_view_record(actor) else set()
    disclose(actor, [case], set(Category), action="case.viewed", target=case, purpose="case page viewed",
             shown_of=lambda c: _shown_to(actor, c, categories))
    return categories


def _shown_to(actor, case, record_categories):
    """What a page about the case shows the actor: the record's categories their role allows, and every
    category of their referral as sent if they made it."""
    return set(record_categories) | (set(Category) if case.can_view_sent(actor) else set())


def record_form_view(actor, case, action="case.form_viewed", purpose="case form viewed"):
    """Declare a page that shows the case to someone who may edit or screen it: the manager (every
    category) or the referrer (their referral as sent)."""
    categories = visible_categories(case, actor) if case.can_view_record(actor) else set()
    return disclose(actor, [case], set(Category), action=action, target=case, purpose=purpose,
                    shown_of=lambda c: _shown_to(actor, c, categories))[case.id]


def list_disclosed(actor, panel, cases, action, purpose, detail=None):
    """Declare a list of the panel's cases shown to the actor (names and risk, as the rules allow);
    returns {case id: the categories shown}."""
    return disclose(actor, cases, {Category.IDENTITY, Category.RISK_CHECKLIST}, action=action, target=panel,
                    purpose=purpose, detail=detail)


def referral_as_sent(actor, case):
    """The referral as the actor sent it (their draft before they send it), for the referrer
    (Case.can_view_sent); None for anyone else."""
    if not case.can_view_sent(actor):
        return None
    if case.status == CaseStatus.DRAFT:
        return case.referral or {}
    return case.sent_referral or {}


# A referrer's list: drafts first, then newest first (served by the index ix_cases_referrals_of).
_DRAFTS_FIRST = ((DRAFTS_FIRST, False), (Case.created_at, True), (Case.id, True))


def referrals_of(actor, at, per_page=50):
    """One page of the actor's own referrals from the Cursor `at`, drafts first, newest first: a keyset
    page (an IDVA refers thousands of cases over the years)."""
    stmt = select(Case).where(Case.referrer_user_id == actor.id, Case.status != CaseStatus.DELETED)
    return keyset_page(stmt, _DRAFTS_FIRST, Case.id, at, per_page, options=(selectinload(Case.panel),))


def member_agencies(panel):
    """The panel's member agencies by name (the referring agencies a case list can filter on)."""
    return sorted((m.agency for m in panel.members), key=lambda a: a.name)


# The case list's orders: (expression, descending), each ending with the id (core.pagination.keyset_page);
# each is served by an index of its own (Case.__table_args__). References sort as numbers.
_BY_REFERENCE = ((Case.reference_year, False), (Case.reference_number, False), (Case.id, False))
_NEWEST = ((Case.referred_on, True), (Case.reference_year, True), (Case.reference_number, True), (Case.id, True))
SORTS = {
    CaseSort.REFERRED_DESC: _NEWEST,
    CaseSort.REFERRED_ASC: tuple((e, False) for e, _ in _NEWEST),
    CaseSort.REFERENCE: _BY_REFERENCE,
    CaseSort.RISK: ((RISK_ORDER, True),) + _NEWEST,
}


def case_list(panel, filters, sort, at, per_page=50):
    """One page of the panel's cases from the Cursor `at`, filtered on plain columns only (no decryption
    needed); a keyset page, so page 2,000 costs what page 1 does."""
    stmt = select(Case).where(Case.panel_id == panel.id, Case.status.in_(VISIBLE_TO_PANEL))
    if filters.get("status"):
        stmt = stmt.where(Case.status == filters["status"])
    if filters.get("risk_level"):
        stmt = stmt.where(Case.risk_level == filters["risk_level"])
    if filters.get("agency_id"):
        stmt = stmt.where(Case.referring_agency_id == filters["agency_id"])
    if filters.get("date_from"):
        stmt = stmt.where(Case.referred_on >= filters["date_from"])
    if filters.get("date_to"):
        stmt = stmt.where(Case.referred_on <= filters["date_to"])
    if filters.get("repeat") is not None:
        stmt = stmt.where(Case.is_repeat.is_(filters["repeat"]))
    if filters.get("response_missed"):
        stmt = stmt.where(response_missed_condition(today()))
    page = keyset_page(stmt, SORTS.get(sort, SORTS[CaseSort.REFERRED_DESC]), Case.id, at, per_page, options=(
        *listed_only(), selectinload(Case.referring_agency), selectinload(Case.repeat_of).options(*listed_only())))
    for case in page.items:  # each is the panel's: Case.panel answers without a lookup a row
        set_committed_value(case, "panel", panel)
    with_subjects(page.items)
    return page


def listed_only():
    """Loader options for a list, which shows none of a case's encrypted values (its subject's name is
    read by with_subjects): they are not loaded, and reading one is an error, not a query a row."""
    return tuple(defer(getattr(Case, f"_enc_{name}"), raiseload=True)
                 for name in ("referral", "sent_referral", "screening_reason", "closure_reason"))


def with_subjects(cases):
    """Read the subjects of a list of cases in one query, for Case.subject to answer from: each case's
    subject Person only, not its other parties nor the CaseParty rows (a 50-row page read 150 of each).
    Returns the cases."""
    roles = {case.id: case.subject_role for case in cases}
    if not roles:
        return cases
    found = {}
    for case_id, role, person in db.session.execute(
            select(CaseParty.case_id, CaseParty.role, Person).join(Person, CaseParty.person_id == Person.id)
            .where(CaseParty.case_id.in_(roles), CaseParty.role.in_(set(roles.values())))
            .order_by(CaseParty.position)):
        if role == roles[case_id]:
            found.setdefault(case_id, person)
    for case in cases:
        case.keep_subject(found.get(case.id))
    return cases


def response_missed_condition(on):
    """Cases whose ASB response time was missed as of the day `on` (Case.response_missed in SQL): not
    screened by the end of the due day, whether screened later or still waiting after it."""
    due = Case.codes["response_due_on"].as_string()  # an ISO date: text compares as dates do
    screened_on = (func.date(Case.screened_at) if db.session.get_bind().dialect.name == "sqlite"
                   else cast(cast(Case.screened_at, Date), String))
    return and_(due.is_not(None), or_(
        and_(Case.screened_at.is_(None), due < on.isoformat()),
        and_(Case.screened_at.is_not(None), screened_on > due)))


def search_condition(panel, reference=None, name=None, date_of_birth=None, postcode=None,
                     categories=frozenset(Category), sounds_like=None, birth_year=None):
    """The condition on Case of a search of the panel's cases by a reference, a name (or alias) with date
    of birth, a name that sounds like (or starts like) one with a year of birth, or a postcode of anyone
    in the case or of one of its locations; blind indexes only. None when nothing was given.

    A person counts only when `categories` hold the category of what was searched by and those their
    role adds (roles_visible: a child's name needs `children` as well as `identity`); a location's
    postcode needs `contact`. The filter is part of the query, so a match that may not be told is
    exactly a miss. Each criterion is one semi-join (`IN (…)`), the postcode's over the union of people
    and locations, so the database reads the index entries that match and no case that does not."""
    conditions = []
    if reference:
        conditions.append(Case.reference == reference.strip().upper())  # given in capitals (next_reference)
    if name and date_of_birth:
        conditions.append(Case.id.in_(
            select(CaseParty.case_id).join(PersonName, PersonName.person_id == CaseParty.person_id)
            .where(CaseParty.role.in_(roles_visible(Category.IDENTITY, categories)),
                   name_dob_condition(name, date_of_birth))))
    if sounds_like and birth_year:
        conditions.append(Case.id.in_(
            select(CaseParty.case_id).join(PersonName, PersonName.person_id == CaseParty.person_id)
            .where(CaseParty.role.in_(roles_visible(Category.IDENTITY, categories)),
                   sounds_like_condition(sounds_like, birth_year))))
    if postcode:
        by_postcode = (select(CaseParty.case_id).join(Person, Person.id == CaseParty.person_id)
                       .where(CaseParty.role.in_(roles_visible(Category.CONTACT, categories)),
                              matching(Person.postcode_index, "postcode", postcode)))
        if Category.CONTACT in categories:
            by_postcode = by_postcode.union(
                select(CaseLocation.case_id).join(Location, Location.id == CaseLocation.location_id)
                .where(matching(Location.postcode_index, "postcode", postcode)))
        conditions.append(Case.id.in_(by_postcode))
    return and_(*conditions) if conditions else None


def search(panel, page=1, per_page=50, **criteria):
    """One page of the panel's cases matching the search (search_condition's criteria), newest referral
    first, with their true count; None when no criterion was given."""
    condition = search_condition(panel, **criteria)
    if condition is None:
        return None
    stmt = (select(Case).where(Case.panel_id == panel.id, Case.status.in_(VISIBLE_TO_PANEL), condition)
            .order_by(*[e.desc() for e, _ in _NEWEST])
            .options(selectinload(Case.parties), selectinload(Case.referring_agency)))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def search_visible(actor, panel, page=1, **criteria):
    """search() for the actor: a person (or location) matched counts only where the actor's role on the
    panel lets them see its category (identity for a name, contact for a postcode, and children as
    well for a child's), so that a hit they may not be told of gives the same page as a miss. Search is
    a tool of the panel, for those who may list its cases: it answers under the panel's rules, also on
    cases the actor referred (those are in "Your referrals"). Records the search (what it was by, the
    page and how many results, never what was searched for) and what the page's results disclose.
    Returns (the page of results or None, {case id: the categories shown})."""
    if not panel.can_list_cases(actor):
        return None, {}
    results = search(panel, page, categories=panel_categories(panel, actor), **criteria)
    if results is None:
        return None, {}
    by = ("reference" if criteria.get("reference") else "name_dob" if criteria.get("name")
          else "sounds_like" if criteria.get("sounds_like") else "postcode")
    return results, list_disclosed(actor, panel, results.items, "case.searched", "case search",
                                   detail={"by": by, "results": results.total, "page": results.page})


def history_of(case, viewer=None):
    """The case's history, newest first; only the entries the viewer may see (CaseChange.can_view)
    when one is given."""
    changes = db.session.execute(select(CaseChange).where(CaseChange.case_id == case.id)
                                 .order_by(CaseChange.at.desc())).scalars().all()
    return [c for c in changes if viewer is None or c.can_view(viewer)]
