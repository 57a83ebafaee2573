"""The records of processing (docs/data-protection.md): the generated part, written from what the models
declare, so that it cannot drift from them.

It reads the encrypted attributes (core.crypto.Encrypted.registry), the blind indexes
(core.blind_index.BlindIndex.registry), the plain columns of a person, the values derived from the
answers (cases.models.DERIVED_FROM), the categories of need-to-know and the default sharing rules
(sharing.models), and the answers of each kind of referral (the fields of cases.forms.REFERRAL_FORMS),
each with its category as declared below. Anything a model or a referral form adds without a
declaration here stops the generator (MissingDeclaration), and tests/test_disclosure_report.py fails
until it is declared and the document regenerated (`flask docs data-protection`).
"""
from pathlib import Path

from wtforms import FormField, HiddenField
from wtforms.fields.core import UnboundField

from marac.agencies.models import AgencyKind
from marac.cases.forms import REFERRAL_FORMS
from marac.cases.models import DERIVED_FROM, ROLE_CATEGORIES, PartyRole
from marac.core.blind_index import BlindIndex
from marac.core.crypto import Encrypted
from marac.meetings.models import LawfulBasis
from marac.panels.models import DEFAULT_LAWFUL_BASIS, PanelKind
from marac.people.models import Person
from marac.sharing.models import DEFAULT_RULES, Category

DOCUMENT = Path(__file__).resolve().parent.parent.parent / "docs" / "data-protection.md"
BEGIN = "<!-- BEGIN GENERATED: `flask docs data-protection` writes this part from the models; do not edit by hand -->"
END = "<!-- END GENERATED -->"

C = Category
CASE_RECORD = "the case record"  # shown to everyone who may see the case, whatever their categories

# What each encrypted attribute holds, and the categories it falls in (CASE_RECORD: with the case).
ENCRYPTED_FIELDS = {
    ("cases", "screening_reason"): ("The manager's reason for screening a referral out", "panel manager only"),
    ("cases", "referral"): ("Every answer of the referral as the panel holds it (see the answers below)",
                            "by answer, below"),
    ("cases", "sent_referral"): ("The referral as its referrer sent it", "the referrer (and by answer, below)"),
    ("cases", "closure_reason"): ("The manager's note on why a case was closed", "panel manager only"),
    ("case_changes", "note"): ("The reason given for a step of the case's history (why it was reopened)",
                               "panel manager only"),
    ("case_changes", "old_values"): ("The values an edit replaced (the case's history)", "by answer, below"),
    ("users", "totp_secret"): ("A user's authenticator seed (a secret, not data about a person)", "never shown"),
    ("legal_holds", "reason"): ("Why the manager placed a legal hold on a case", "panel manager only"),
    ("legal_holds", "lift_reason"): ("Why the manager lifted a legal hold", "panel manager only"),
    ("case_transfers", "area"): ("The MARAC a case was sent to or came from (where a victim now lives)",
                                 "panel manager only"),
    ("case_transfers", "contact"): ("That MARAC's coordinator: name, email, telephone", "panel manager only"),
    ("case_transfers", "their_reference"): ("The other MARAC's reference for the case", "panel manager only"),
    ("case_transfers", "packet"): ("The transfer packet sent to the receiving MARAC (PDF)", "panel manager only"),
    ("mace_reviews", "what_changed"): ("What changed since a MACE case's last review", C.NARRATIVE.short_label),
    ("mace_reviews", "disruption_plan"): ("The disruption plan agreed at a MACE review",
                                          C.CRIMINAL_JUSTICE.short_label),
    ("mace_concern_links", "reason"): ("Why a case was linked to or unlinked from a register entry",
                                       C.NARRATIVE.short_label),
    ("mace_concern_links", "name"): ("The person of concern a manual register link names", C.IDENTITY.short_label),
    ("mace_concern_links", "date_of_birth"): ("Their date of birth", C.IDENTITY.short_label),
    ("mace_concern_links", "address"): ("The location of concern a manual register link names",
                                        C.CONTACT.short_label),
    ("mace_concern_links", "postcode"): ("Its postcode", C.CONTACT.short_label),
    ("subject_requests", "subject_name"): ("The name of a person making a subject access request",
                                           "the DPO and the managers of the panels concerned"),
    ("subject_requests", "subject_date_of_birth"): ("Their date of birth, to find their records",
                                                    "the DPO and the managers of the panels concerned"),
    ("subject_requests", "notes"): ("The handler's notes on a subject access request",
                                    "the DPO and the managers of the panels concerned"),
    ("subject_requests", "status_reason"): ("Why a request was refused or withdrawn",
                                            "the DPO and the managers of the panels concerned"),
    ("subject_requests", "extension_reason"): ("Why the deadline of a request was extended",
                                               "the DPO and the managers of the panels concerned"),
    ("subject_responses", "pdf"): ("The redacted response sent to the person (PDF)",
                                   "the DPO and the managers of the panels concerned"),
    ("subject_responses", "json_document"): ("The same response, machine-readable (JSON)",
                                             "the DPO and the managers of the panels concerned"),
    ("subject_rectifications", "reason"): ("Why a person's details were corrected",
                                           "the DPO and the managers of the panels concerned"),
    ("asb_interventions", "note"): ("A note on a step of a respondent's interventions ladder (ASB)",
                                    C.CRIMINAL_JUSTICE.short_label),
    ("asb_case_reviews", "complainant_name"): ("The name of the complainant applying for an ASB Case Review",
                                               C.IDENTITY.short_label),
    ("asb_case_reviews", "complainant_dob"): ("The complainant's date of birth (to count their complaints)",
                                              C.IDENTITY.short_label),
    ("asb_case_reviews", "complainant_contact"): ("How to reach the complainant", C.CONTACT.short_label),
    ("asb_case_reviews", "applicant"): ("Someone applying on the complainant's behalf", C.IDENTITY.short_label),
    ("asb_case_reviews", "summary"): ("What the complainant reports", C.NARRATIVE.short_label),
    ("asb_case_reviews", "decision_reason"): ("Why the threshold was or was not met", C.NARRATIVE.short_label),
    ("asb_case_reviews", "review_notes"): ("What the Case Review meeting found", C.NARRATIVE.short_label),
    ("asb_case_reviews", "appeal_notes"): ("The appeal and its outcome", C.NARRATIVE.short_label),
    ("asb_review_recommendations", "text"): ("A recommendation of an ASB Case Review", C.NARRATIVE.short_label),
    ("actions", "description"): ("What an agency agreed to do", C.NARRATIVE.short_label),
    ("actions", "named_person"): ("The person at the owner agency who will do it", CASE_RECORD),
    ("action_updates", "note"): ("A progress note on an action", C.NARRATIVE.short_label),
    ("agenda_items", "risk_summary"): ("The chair's risk summary at a hearing", C.NARRATIVE.short_label),
    ("agenda_items", "minute"): ("The minute of a hearing", C.NARRATIVE.short_label),
    ("attendees", "name"): ("The name of someone on a meeting's register", "the meeting's register"),
    ("attendees", "role"): ("Their job title and team", "the meeting's register"),
    ("research_returns", "relevant"): ("What an agency holds that is relevant to current risk",
                                       "the agency; the panel once shared"),
    ("research_returns", "to_share"): ("What the agency will share at the meeting", "the agency; the panel once shared"),
    ("research_returns", "withheld"): ("What the agency holds but will not share",
                                       "the agency; the manager once shared"),
    ("research_returns", "withheld_reason"): ("Why it will not share it", "the agency; the manager once shared"),
    ("minute_amendments", "previous_minute"): ("A minute's text before a correction", C.NARRATIVE.short_label),
    ("minute_amendments", "reason"): ("Why the minute was corrected", C.NARRATIVE.short_label),
    ("pack_renders", "pdf"): ("A meeting pack (PDF), per redaction profile", "the categories of its profile"),
    ("people", "first_names"): ("First names", "Identity (Children for a child)"),
    ("people", "last_name"): ("Last name", "Identity (Children for a child)"),
    ("people", "date_of_birth"): ("Date of birth", "Identity (Children for a child)"),
    ("people", "address"): ("Address", C.CONTACT.short_label),
    ("people", "postcode"): ("Postcode", C.CONTACT.short_label),
    ("people", "phone"): ("Phone number", C.CONTACT.short_label),
    ("people", "details"): ("Other details: language, GP, school, social worker, who a child lives with, "
                            "whether it is safe to call", "by answer, below"),
    ("person_names", "full_name"): ("A name or alias (searched by blind index)", "Identity (Children for a child)"),
    ("locations", "description"): ("A location's description", C.CONTACT.short_label),
    ("locations", "address"): ("A location's address", C.CONTACT.short_label),
    ("locations", "postcode"): ("A location's postcode", C.CONTACT.short_label),
}

# The plain (unencrypted) columns of a person: coded values for the statistics.
PLAIN_PERSON_COLUMNS = {
    "gender": ("Gender, coded", C.IDENTITY),
    "ethnic_group": ("Ethnic group, coded (special category: racial or ethnic origin)", C.IDENTITY),
    "disability": ("Disability yes / no / not known (special category: health)", C.HEALTH),
    "sexuality": ("Sexuality, coded (special category: sex life or sexual orientation)", C.IDENTITY),
    "age_band": ("Age band at referral (16-17, 18-24, ...)", C.IDENTITY),
}

# The category of each answer a person's part of a referral holds (the role may add more: ROLE_CATEGORIES).
PERSON_ANSWERS = {
    "first_names": C.IDENTITY, "last_name": C.IDENTITY, "aliases": C.IDENTITY, "date_of_birth": C.IDENTITY,
    "gender": C.IDENTITY, "ethnic_group": C.IDENTITY, "sexuality": C.IDENTITY, "language": C.IDENTITY,
    "interpreter": C.IDENTITY, "relationship": C.IDENTITY,
    "address": C.CONTACT, "postcode": C.CONTACT, "phone": C.CONTACT, "safe_to_call": C.CONTACT,
    "disability": C.HEALTH, "gp": C.HEALTH,
    "lives_with": C.CHILDREN, "school": C.CHILDREN, "social_worker": C.CHILDREN,
}
# The role of the people each part of a referral names.
PERSON_GROUPS = {
    "victim": PartyRole.VICTIM, "perpetrators": PartyRole.PERPETRATOR, "children": PartyRole.CHILD,
    "young_person": PartyRole.YOUNG_PERSON, "persons_of_concern": PartyRole.PERSON_OF_CONCERN,
    "complainant": PartyRole.COMPLAINANT, "respondents": PartyRole.RESPONDENT,
}
# Every other answer (a group's name covers each answer in it), None: part of the case record.
ANSWERS = {
    "referrer_name": None, "referrer_role": None, "referrer_contact": None, "referred_on": None,
    "victim_aware": None, "victim_consents": None, "consent_reason": C.NARRATIVE,
    "dash": C.RISK_CHECKLIST, "criterion": C.RISK_CHECKLIST, "judgement_reasons": C.NARRATIVE,
    "police_incidents": C.CRIMINAL_JUSTICE, "recent_incident": C.NARRATIVE, "history": C.NARRATIVE,
    "crime_reference": C.CRIMINAL_JUSTICE, "bail_conditions": C.CRIMINAL_JUSTICE, "orders": C.CRIMINAL_JUSTICE,
    "exploitation_types": C.NARRATIVE, "indicators": C.RISK_CHECKLIST, "concerns": C.NARRATIVE,
    "locations": C.CONTACT, "categories": C.NARRATIVE, "vulnerability": C.RISK_CHECKLIST, "needs": C.HEALTH,
    "interventions": C.CRIMINAL_JUSTICE, "complaints_6_months": C.NARRATIVE, "description": C.NARRATIVE,
}
NOT_ANSWERS = {"version", "action", "add", "form_token", "csrf_token"}


class MissingDeclaration(Exception):
    """Something the models or the referral forms hold that the records of processing do not declare."""


def _unbound(cls):
    """(name, UnboundField) of a form class's fields, in declaration order."""
    fields = [(name, value) for name in dir(cls) if isinstance(value := getattr(cls, name), UnboundField)]
    return sorted(fields, key=lambda pair: pair[1].creation_counter)


def _form_of(unbound):
    """The form class of a FormField (or of the FormField a list repeats), else None."""
    if issubclass(unbound.field_class, FormField):
        return unbound.args[0]
    inner = unbound.args[0] if unbound.args and isinstance(unbound.args[0], UnboundField) else None
    return inner.args[0] if inner is not None and issubclass(inner.field_class, FormField) else None


def referral_answers(kind):
    """[(answer, label, category or None, role)] of every answer of the referral form of a panel kind."""
    found = []
    for name, unbound in _unbound(REFERRAL_FORMS[kind]):
        if name in NOT_ANSWERS or issubclass(unbound.field_class, HiddenField):
            continue
        listed = not issubclass(unbound.field_class, FormField) and _form_of(unbound) is not None
        path = f"{name}[]" if listed else name
        subform = _form_of(unbound)
        if name in PERSON_GROUPS:
            role = PERSON_GROUPS[name]
            for field, sub in _unbound(subform):
                if field not in PERSON_ANSWERS:
                    raise MissingDeclaration(f"referral answer {path}.{field}: add it to PERSON_ANSWERS in "
                                             "marac/disclosures/processing.py")
                category = PERSON_ANSWERS[field]
                if role == PartyRole.CHILD and category == C.IDENTITY:
                    category = C.CHILDREN  # a child's name and date of birth are the children category
                found.append((f"{path}.{field}", sub.args[0] if sub.args else field, category, role))
            continue
        if name not in ANSWERS:
            raise MissingDeclaration(f"referral answer {name}: add it to ANSWERS in marac/disclosures/processing.py")
        if subform is not None:
            for field, sub in _unbound(subform):
                found.append((f"{path}.{field}", sub.args[0] if sub.args else field, ANSWERS[name], None))
        else:
            found.append((path, unbound.args[0] if unbound.args else name, ANSWERS[name], None))
    for path, _, category, _ in found:
        key = path.split(".")[0].rstrip("[]")
        if key in DERIVED_FROM and DERIVED_FROM[key] != category:
            raise MissingDeclaration(f"referral answer {key} is {category} here but derived from "
                                     f"{DERIVED_FROM[key]} in cases.models.DERIVED_FROM")
    return found


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _category(category, role=None):
    if category is None:
        return "the case record (everyone who may see the case)"
    extra = sorted(set(ROLE_CATEGORIES.get(role, ())) - {category})
    return Category(category).short_label + "".join(f" + {Category(c).short_label}" for c in extra)


def generated():
    """The generated part of the records of processing, as Markdown."""
    out = ["### Categories of case information", "",
           "Every field of a case falls in one of these categories; the panel's sharing rules say which kinds of "
           "agency see which (the manager sees all of their panel's). A withheld category shows as *Withheld*.", "",
           _table(("category", "what it holds"), [(c.short_label, c.label) for c in Category]), ""]

    rows = []
    for model, name in Encrypted.registry:
        table = model.__table__.name
        if (table, name) not in ENCRYPTED_FIELDS:
            raise MissingDeclaration(f"encrypted attribute {table}.{name}: say what it holds in ENCRYPTED_FIELDS "
                                     "of marac/disclosures/processing.py, then run `flask docs data-protection`")
        what, seen = ENCRYPTED_FIELDS[(table, name)]
        descriptor = model.__dict__[name]
        kind = getattr(descriptor.kind, "__name__", str(descriptor.kind))
        rows.append((f"`{table}.{name}`", kind, "yes" if descriptor.personal else "no (a secret)", what, seen))
    stale = set(ENCRYPTED_FIELDS) - {(m.__table__.name, n) for m, n in Encrypted.registry}
    if stale:
        raise MissingDeclaration(f"ENCRYPTED_FIELDS names attributes no model declares: {sorted(stale)}")
    out += ["### Encrypted fields", "",
            f"{len(rows)} attributes, each encrypted on its own (AES-256-GCM, bound to its table, column and row).", "",
            _table(("field", "kind", "personal", "holds", "category or who sees it"), sorted(rows)), ""]

    out += ["### Blind indexes", "",
            "Keyed HMAC-SHA256 of normalised values, for exact matching without decrypting; each index has its "
            "own key.", "",
            _table(("column", "index", "of"), sorted(
                (f"`{e.model.__table__.name}.{e.attr}`", e.index_name,
                 "name + date of birth" if e.index_name == "person_name_dob" else
                 "address + postcode" if e.index_name == "location_address" else e.index_name)
                for e in BlindIndex.registry)), ""]

    encrypted_or_indexed = {name for model, name in Encrypted.registry if model is Person} | {
        e.attr for e in BlindIndex.registry if e.model is Person}
    plain = [c.name for c in Person.__table__.columns
             if c.name not in encrypted_or_indexed and c.name not in ("id", "created_at", "updated_at")]
    for name in plain:
        if name not in PLAIN_PERSON_COLUMNS:
            raise MissingDeclaration(f"plain column people.{name}: declare it in PLAIN_PERSON_COLUMNS of "
                                     "marac/disclosures/processing.py")
    out += ["### Plain columns about a person", "",
            "Coded values kept unencrypted so that statistics need no decryption; on their own they identify no one, "
            "and pages show them under their category like any other field.", "",
            _table(("column", "holds", "category"),
                   [(f"`people.{n}`", PLAIN_PERSON_COLUMNS[n][0], PLAIN_PERSON_COLUMNS[n][1].short_label)
                    for n in plain]), ""]

    out += ["### Values derived from the answers", "",
            "Kept plain (columns, or keys of `cases.codes`) for lists, filters and statistics; each is the category "
            "it is derived from (`cases.models.DERIVED_FROM`), shown, sorted and filtered only for someone who may "
            "see that category.", "",
            _table(("value", "category"), [(f"`{k}`", v.short_label) for k, v in DERIVED_FROM.items()]), ""]

    out += ["### Referral answers by category", "",
            "What each referral form asks (stored encrypted in `cases.referral`, and the people and locations in "
            "their own encrypted rows), and the category each answer is shown under. A person's role can add a "
            "category: whatever is recorded about a child is *Children* too.", ""]
    for kind in PanelKind:
        answers = referral_answers(kind)
        out += [f"#### {kind.label}", "",
                _table(("answer", "question", "category"),
                       [(f"`{path}`", label, _category(category, role)) for path, label, category, role in answers]),
                ""]

    out += ["### Lawful bases recorded", "",
            "Every sharing record carries its panel's lawful basis (by default: "
            f"*{DEFAULT_LAWFUL_BASIS}*). An agency sharing its research at a meeting records one of:", "",
            _table(("code", "lawful basis"), [(f"`{b.value}`", b.label) for b in LawfulBasis]), ""]

    out += ["### Recipients: the default sharing rules", "",
            "Which kinds of agency see which categories of a panel's cases unless its manager sets other rules "
            "(`sharing.models.DEFAULT_RULES`). Panel managers see every category of their panel's cases; chairs and "
            "representatives what their agency's kind may; steering group members aggregates only.", "",
            _table(["agency kind"] + [c.short_label for c in Category],
                   [[kind.label] + ["yes" if c in DEFAULT_RULES.get(kind, ()) else "no" for c in Category]
                    for kind in AgencyKind]), ""]
    return "\n".join(out)


def document_text(current):
    """The document with its generated part replaced by what the models declare now."""
    if BEGIN not in current or END not in current:
        raise MissingDeclaration(f"{DOCUMENT.name} has lost its markers {BEGIN!r} and {END!r}")
    head, rest = current.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n\n{generated()}\n{END}{tail}"


def write(path=DOCUMENT):
    """Regenerate the document's generated part in place; returns whether it changed."""
    current = Path(path).read_text()
    updated = document_text(current)
    if updated != current:
        Path(path).write_text(updated)
    return updated != current
