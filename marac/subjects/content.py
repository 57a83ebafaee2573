"""What a subject access response says: everything held about the subject on the confirmed cases,
with third parties redacted and each redaction marked. Pure reads of the models, no writes.

One document (a dict of plain values) is written here and both the PDF (through
templates/pdf/subject_access.html) and the JSON are made from it, so the two cannot differ.

What is redacted, and why (UK GDPR Art. 15(4), DPA 2018 Sch. 2 para. 16: another person's data is
disclosed only with their consent or where reasonable):
- other people on the case (perpetrators, respondents, children and other family members, persons of
  concern, and the victim when the subject is not the victim): their whole entry, and their names,
  addresses, postcodes and phone numbers wherever free text repeats them; the answers of the risk
  checklist that are about the abuser (their substance misuse, mental health, suicide threats,
  offending) unless the subject is the perpetrator; bail conditions and orders (the perpetrator's);
- locations of concern: they describe places linked to others (a hotspot, a respondent's flat);
- agency staff: the names and direct contacts of the referrer, of a person named on an action and of
  the staff who viewed the record. Agencies, job roles and what each agency did are kept: the subject
  is entitled to know who holds and receives their data, but in this field a named practitioner can be
  put at risk by the person they reported on. Free text is scrubbed of the staff names held;
- research an agency recorded but did not share, and what it withheld: each agency is the controller of
  its own records and answers for them (the response says so).
Free text is redacted by matching the names and contact details the case holds; a name the record does
not hold cannot be found, so the handler reads the response before it is sent (the cover says so).
"""
import datetime as dt
import re
from collections import Counter

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marac.actions.models import Action, ActionStatus, UpdateKind
from marac.cases import questions
from marac.cases.models import CaseStatus, Criterion, PartyRole
from marac.cases.services import party_slots
from marac.core.formatting import format_date
from marac.extensions import db
from marac.meetings.models import AgendaItem, LawfulBasis, ResearchReturn
from marac.people.models import EthnicGroup, Gender, Sexuality, YesNoUnknown
from marac.sharing.models import Category, SharingRecord
from marac.subjects.models import Redaction

MARKING = "OFFICIAL-SENSITIVE"
TEMPLATE = "pdf/subject_access.html"

# What a third party's role makes their redaction say, seen from the subject.
ROLE_REDACTION = {
    PartyRole.PERPETRATOR: Redaction.PERPETRATOR,
    PartyRole.RESPONDENT: Redaction.RESPONDENT,
    PartyRole.CHILD: Redaction.FAMILY,
    PartyRole.VICTIM: Redaction.OTHER_PERSON,
    PartyRole.YOUNG_PERSON: Redaction.OTHER_PERSON,
    PartyRole.PERSON_OF_CONCERN: Redaction.OTHER_PERSON,
    PartyRole.COMPLAINANT: Redaction.OTHER_PERSON,
}
# The details of a person, in the order shown, and their labels.
PERSON_LABELS = {
    "first_names": "First names", "last_name": "Last name", "aliases": "Other names",
    "date_of_birth": "Date of birth", "address": "Address", "postcode": "Postcode", "phone": "Phone",
    "safe_to_call": "Safe to call", "language": "Language", "interpreter": "Interpreter needed", "gp": "GP",
    "gender": "Gender", "ethnic_group": "Ethnic group", "disability": "Disability", "sexuality": "Sexuality",
    "school": "School", "social_worker": "Social worker", "lives_with": "Lives with",
    "relationship": "Relationship to the victim",
}
CODED = {"gender": Gender, "ethnic_group": EthnicGroup, "disability": YesNoUnknown, "sexuality": Sexuality,
         "safe_to_call": YesNoUnknown, "lives_with": questions.LivesWith, "relationship": questions.Relationship}
# Contact details that identify whoever they belong to, redacted in free text too.
IDENTIFYING = ("first_names", "last_name", "aliases", "address", "postcode", "phone")
# Answers of the referral, other than people, in the order shown, and their labels.
ANSWER_LABELS = {
    "referred_on": "Referred on", "referrer_role": "Referrer's role", "referrer_name": "Referrer",
    "referrer_contact": "Referrer's contact details", "victim_aware": "The victim knows of the referral",
    "victim_consents": "The victim consents", "consent_reason": "Why not", "criterion": "Criterion met",
    "judgement_reasons": "Reasons for professional judgement", "police_incidents": "Police incidents in 12 months",
    "recent_incident": "The most recent incident", "history": "History", "crime_reference": "Crime reference",
    "bail_conditions": "Bail conditions", "orders": "Orders", "exploitation_types": "Kinds of exploitation",
    "concerns": "Concerns", "categories": "Kinds of behaviour", "description": "What has happened",
    "needs": "Needs", "interventions": "Interventions used", "complaints_6_months": "Complaints in 6 months",
}
STAFF_KEYS = {"referrer_name", "referrer_contact"}
PERPETRATOR_KEYS = {"bail_conditions", "orders"}  # a MARAC referral's: the abuser's bail and orders
CODED_ANSWERS = {"victim_aware": YesNoUnknown, "victim_consents": YesNoUnknown, "criterion": Criterion,
                 "exploitation_types": questions.ExploitationType, "categories": questions.AsbCategory,
                 "needs": questions.Need, "interventions": questions.Intervention}
# Checklist answers about the abuser rather than the victim.
ABUSER_QUESTIONS = {"substance_misuse", "abuser_mental_health", "abuser_suicide", "breach", "criminal_history",
                    "hurt_others"}
CHECKLISTS = (("dash", "Risk checklist", questions.DASH_QUESTIONS, YesNoUnknown),
              ("indicators", "Screening indicators", questions.MACE_INDICATORS, questions.MaceScore),
              ("vulnerability", "Vulnerability assessment", questions.ASB_QUESTIONS, YesNoUnknown))
SKIPPED = {"locations", "dash", "indicators", "vulnerability"}
POLICY = [
    "Other people's details are left out: perpetrators and respondents, children and other family members, "
    "and anyone else the record names. Each place where something was left out is marked, with whose data it is.",
    "The names and direct contact details of agency staff are left out. The agencies and what each did are shown.",
    "Research that an agency recorded but did not share with the panel is that agency's own record: ask the "
    "agency for it.",
    "Free text is checked against the names and contact details the record holds. The person handling the "
    "request reads the response before it is sent.",
]


class Redactor:
    """Marks what is left out and counts it; scrubs free text of the third parties' names and details."""

    def __init__(self):
        self.counts = Counter()
        self.terms = {}  # lower-cased term -> Redaction
        self.own = set()
        self._pattern = None

    def mark(self, redaction):
        """The marker for one redaction, counted."""
        self.counts[redaction.value] += 1
        return redaction.marker

    def keep_own(self, values):
        """The subject's own words: never redacted from free text, even when a third party shares them
        (a child's surname)."""
        for value in values:
            self.own |= {word.casefold() for word in re.findall(r"\w+", value or "")}
            if value:
                self.own.add(value.strip().casefold())

    def add(self, values, redaction):
        """Terms (names, an address, a phone number) to be redacted from free text as `redaction`."""
        for value in values:
            for term in {value, *(value.split(";") if value else ())}:
                term = (term or "").strip()
                if len(term) >= 2 and term.casefold() not in self.own:
                    self.terms.setdefault(term.casefold(), redaction)
        self._pattern = None

    def text(self, value):
        """Free text with every term replaced by its marker."""
        if not value:
            return value
        if self._pattern is None:
            ordered = sorted(self.terms, key=len, reverse=True)
            self._pattern = re.compile("|".join(rf"(?<!\w){re.escape(t)}(?!\w)" for t in ordered),
                                       re.IGNORECASE) if ordered else False
        if not self._pattern:
            return value
        return self._pattern.sub(lambda m: self.mark(self.terms[m.group(0).casefold()]), value)


def _label(value, vocabulary):
    if isinstance(value, list):
        return "; ".join(vocabulary.label_of(v) if v in vocabulary.values() else str(v) for v in value)
    if value in vocabulary.values():
        return vocabulary.label_of(value)
    return value


def _shown(value):
    if value in (None, "", [], {}):
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return format_date(dt.date.fromisoformat(value))
    if isinstance(value, dt.date):
        return format_date(value)
    return str(value)


def _person_rows(group):
    rows = []
    for key, label in PERSON_LABELS.items():
        value = group.get(key)
        value = _label(value, CODED[key]) if key in CODED else value
        if _shown(value) is not None:
            rows.append({"label": label, "value": _shown(value)})
    return rows


def _words(group):
    names = [group.get("first_names"), group.get("last_name")]
    full = " ".join(part for part in names if part)
    return [full, *names, *(group.get("aliases") or "").split(";"),
            *(group.get(key) for key in ("address", "postcode", "phone"))]


def case_section(link, redactor_for_request):
    """The part of the response about one confirmed case (a SubjectCase)."""
    case = link.case
    answers = case.referral or {}
    slots = party_slots(case.panel.kind, answers)
    redactor = Redactor()
    position = link.position if link.position < len(slots) else 0
    subject_role = slots[position][0] if slots else link.role
    own, others = {}, []
    for number, (role, key, index, _) in enumerate(slots):
        group = answers.get(key) if index is None else answers[key][index]
        if number == position:
            own = group or {}
        else:
            others.append((role, group or {}))
    redactor.keep_own(_words(own))
    for role, group in others:
        redactor.add(_words(group), ROLE_REDACTION[role])
    staff = [answers.get("referrer_name"), answers.get("referrer_contact")]
    for location in answers.get("locations") or []:
        redactor.add([location.get("address"), location.get("postcode")], Redaction.LOCATION)
    items = db.session.execute(
        select(AgendaItem).where(AgendaItem.case_id == case.id).options(selectinload(AgendaItem.returns))
    ).scalars().all()
    actions = db.session.execute(
        select(Action).where(Action.case_id == case.id).options(selectinload(Action.updates))
        .order_by(Action.due_on)).scalars().all()
    staff += [a.named_person for a in actions]
    records = db.session.execute(
        select(SharingRecord).where(SharingRecord.case_id == case.id).options(
            selectinload(SharingRecord.agency), selectinload(SharingRecord.user))
        .order_by(SharingRecord.shared_at)).scalars().all()
    staff += list({r.user.full_name for r in records if r.user is not None})
    redactor.add([s for s in staff if s], Redaction.STAFF)

    referral = []
    for key, label in ANSWER_LABELS.items():
        value = answers.get(key)
        if _shown(value) is None:
            continue
        if key in STAFF_KEYS:
            shown = redactor.mark(Redaction.STAFF)
        elif key in PERPETRATOR_KEYS and subject_role != PartyRole.PERPETRATOR:
            shown = redactor.mark(Redaction.PERPETRATOR)
        elif key in CODED_ANSWERS:
            shown = _shown(_label(value, CODED_ANSWERS[key]))
        elif isinstance(value, str) and key not in ("referred_on",):
            shown = redactor.text(value)
        else:
            shown = _shown(value)
        referral.append({"label": label, "value": shown})
    checklists = []
    for key, title, asked, vocabulary in CHECKLISTS:
        given = answers.get(key)
        if not isinstance(given, dict) or not given:
            continue
        rows = []
        for code, question in asked:
            about = PartyRole.PERPETRATOR if key == "dash" and code in ABUSER_QUESTIONS else None
            if about is not None and subject_role != about:
                rows.append({"question": question, "answer": redactor.mark(Redaction.PERPETRATOR)})
            elif key == "dash" and about is None and subject_role != PartyRole.VICTIM:
                rows.append({"question": question, "answer": redactor.mark(Redaction.OTHER_PERSON)})
            else:
                rows.append({"question": question, "answer": _shown(_label(given.get(code), vocabulary)) or "Not answered"})
        checklists.append({"title": title, "rows": rows})

    hearings = []
    for item in sorted(items, key=lambda i: i.meeting.meets_on):
        if item.risk_summary or item.minute:
            hearings.append({"meeting_on": format_date(item.meeting.meets_on),
                             "risk_summary": redactor.text(item.risk_summary), "minute": redactor.text(item.minute)})
    research = []
    for item in items:
        for ret in sorted(item.returns, key=lambda r: r.agency.name):
            if not ret.is_shared:
                continue
            research.append({"meeting_on": format_date(item.meeting.meets_on), "agency": ret.agency.name,
                             "shared": "Nothing held" if ret.nothing_held else redactor.text(ret.to_share),
                             "lawful_basis": LawfulBasis.label_of(ret.lawful_basis) if ret.lawful_basis else None})
    action_rows = [{
        "agency": action.owner_agency.name, "description": redactor.text(action.description),
        "named_person": redactor.mark(Redaction.STAFF) if action.named_person else None,
        "due_on": format_date(action.due_on), "status": ActionStatus.label_of(action.status),
        "updates": [{"at": format_date(u.at, "date"), "kind": UpdateKind.label_of(u.kind), "note": redactor.text(u.note)}
                    for u in action.updates],
    } for action in actions]
    disclosures = {}
    for record in records:
        key = (record.shared_at.date(), record.agency.name, record.purpose)
        disclosures.setdefault(key, set()).add(record.category)
    seen_by = [{"on": format_date(day), "agency": agency, "who": redactor.mark(Redaction.STAFF), "purpose": purpose,
                "categories": [Category(c).short_label for c in sorted(categories) if c in Category.values()]}
               for (day, agency, purpose), categories in disclosures.items()]
    redactor_for_request.counts.update(redactor.counts)
    return {
        "panel": case.panel.name, "panel_kind": case.panel.kind_label, "reference": case.reference,
        "referred_on": _shown(case.referred_on), "status": CaseStatus.label_of(case.status),
        "role": PartyRole.label_of(subject_role), "referring_agency": case.referring_agency.name,
        "your_details": _person_rows(own),
        "other_people": [{"role": PartyRole.label_of(role), "details": redactor.mark(ROLE_REDACTION[role])}
                         for role, _ in others],
        "locations": [redactor.mark(Redaction.LOCATION) for _ in answers.get("locations") or []],
        "referral": referral, "checklists": checklists, "hearings": hearings, "actions": action_rows,
        "research": research, "seen_by": seen_by,
    }


def document(request, links, now):
    """The whole response for the request over these confirmed cases (SubjectCase rows)."""
    total = Redactor()
    cases = [case_section(link, total) for link in links]
    return {
        "marking": MARKING,
        "reference": request.reference,
        "title": title(request),
        "received_on": format_date(request.received_on),
        "generated_on": format_date(now, "date"),
        "subject": {"name": request.subject_name,
                    "date_of_birth": format_date(request.subject_date_of_birth) if request.subject_date_of_birth else None},
        "how_redacted": POLICY,
        "redactions": {Redaction(code).label: count for code, count in sorted(total.counts.items())},
        "redaction_count": sum(total.counts.values()),
        "cases": cases,
    }


def title(request):
    """The document title (also the PDF's only metadata): no personal data."""
    return f"{MARKING}: subject access response {request.reference}"


def html(doc):
    """The HTML of the PDF, rendered with the application's Jinja environment (no request needed)."""
    return current_app.jinja_env.get_template(TEMPLATE).render(doc=doc, marking=MARKING)
