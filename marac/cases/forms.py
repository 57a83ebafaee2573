"""Referral forms for MARAC, MACE and the ASB taskforce, and the screening, list filter and search forms."""
import datetime as dt
import re
import uuid

from flask import g
from wtforms import (BooleanField, FieldList, Form, FormField, HiddenField, RadioField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from marac.cases import questions
from marac.cases.models import (DERIVED_FROM, VISIBLE_TO_PANEL, CaseSort, CaseStatus, Criterion, RiskLevel,
                                ScreeningDecision, closure_outcomes)
from marac.core.formatting import format_date
from marac.core.forms import (AppForm, CheckboxesField, DateInputField, EntryList, OnceForm, Postcode, RadiosField,
                              Required, VersionField, WholeNumberField)
from marac.panels.models import PanelKind
from marac.people.models import EthnicGroup, Gender, LocationKind, Sexuality, YesNoUnknown
from marac.sharing.models import Category

SHORT, MEDIUM, LONG = 120, 300, 5000
REFERENCE_RE = re.compile(r"[A-Za-z0-9-]+")


# Optional fields get no Optional() validator: it would stop the chain on an empty field, so the
# form's own validate_<field> checks ("required when ...") would never run.
def text(label, required=None, max_length=SHORT, **kwargs):
    """A one-line text field with a length limit, required when `required` (its message) is given."""
    validators = [Required(required)] if required else []
    validators.append(Length(max=max_length, message=f"{label} must be {max_length} characters or fewer"))
    return StringField(label, validators=validators, **kwargs)


def long_text(label, required=None, max_length=LONG, **kwargs):
    """A textarea with a length limit, required when `required` (its message) is given."""
    validators = [Required(required)] if required else []
    validators.append(Length(max=max_length, message=f"{label} must be {max_length} characters or fewer"))
    return TextAreaField(label, validators=validators, **kwargs)


def select(label, vocabulary, required=None, **kwargs):
    """A select of a Labelled vocabulary, with a "Choose" prompt first."""
    validators = [Required(required)] if required else []
    return SelectField(label, choices=[("", "Choose")] + vocabulary.choices(), validators=validators, default="",
                       **kwargs)


def radios(label, vocabulary, required=None, **kwargs):
    """GOV.UK radios of a Labelled vocabulary."""
    validators = [Required(required)] if required else []
    return RadiosField(label, choices=vocabulary.choices(), validators=validators, **kwargs)


def validate_postcode(form, field):
    """The inline validator of every postcode box (normalises it too)."""
    Postcode()(form, field)


class AliasesMixin:
    """Other names, separated by semicolons."""

    def validate_aliases(self, field):
        """No more than 10 other names."""
        if field.data and len([a for a in field.data.split(";") if a.strip()]) > 10:
            raise ValidationError("Give no more than 10 other names")


class PersonBase(Form, AliasesMixin):
    """Names and date of birth: who someone is."""

    first_names = text("First names")
    last_name = text("Last name")
    aliases = text("Other names or aliases", max_length=MEDIUM,
                   description="Separate names with a semicolon, for example: Jo Bloggs; Joanne Smith")
    date_of_birth = DateInputField("Date of birth")

    def has_any(self):
        """Whether anything was typed in the entry."""
        return any([self.first_names.data, self.last_name.data, self.aliases.data, self.date_of_birth.data])


def named_subject(label_prefix):
    """The main person of a referral: a name and date of birth are required."""

    class Subject(PersonBase):
        """The subject of a referral."""

        first_names = text("First names", required=f"Enter the {label_prefix}'s first names")
        last_name = text("Last name", required=f"Enter the {label_prefix}'s last name")
        date_of_birth = DateInputField("Date of birth", validators=[
            Required(f"Enter the {label_prefix}'s date of birth")])
        address = long_text("Address", max_length=MEDIUM)
        postcode = text("Postcode", max_length=10)
        phone = text("Phone number", max_length=30)
        gender = select("Gender", Gender)
        ethnic_group = select("Ethnic group", EthnicGroup)
        disability = select("Disability", YesNoUnknown)
        validate_postcode = validate_postcode

        def validate_phone(self, field):
            if field.data and not all(c.isdigit() or c in " +()-" for c in field.data):
                raise ValidationError("Enter a phone number using digits, spaces and + ( ) - only")

    return Subject


class VictimForm(named_subject("victim")):
    """The victim of a MARAC referral."""

    safe_to_call = radios("Is it safe to call the victim on this number?", YesNoUnknown)
    language = text("Preferred language", max_length=60)
    interpreter = BooleanField("An interpreter is needed")
    sexuality = select("Sexuality", Sexuality)
    gp = text("GP surgery", max_length=MEDIUM)


class PerpetratorForm(PersonBase):
    """A perpetrator of a MARAC referral."""

    relationship = select("Relationship to the victim", questions.Relationship)
    gender = select("Gender", Gender)


class ChildForm(PersonBase):
    """A child in the household of a MARAC referral."""

    lives_with = select("Lives with", questions.LivesWith)


class DashAnswers(Form):
    """The risk checklist: one yes / no / not known question per DASH topic."""

    pass


for _number, (_key, _question) in enumerate(questions.DASH_QUESTIONS, start=1):
    setattr(DashAnswers, _key, RadioField(f"{_number}. {_question}", choices=YesNoUnknown.choices(),
                                          validators=[Required(f"Answer question {_number} of the risk checklist")]))


class ReferralBase(OnceForm):
    """What every referral asks about the referrer, and the form controls."""

    version = VersionField()
    action = HiddenField()  # the button pressed: CaseStatus.DRAFT saves a draft, anything else submits
    add = HiddenField()  # an "add another" button: the name of the list to add an entry to
    referrer_name = text("Your name", required="Enter your name")
    referrer_role = text("Your role", required="Enter your role")
    referrer_contact = text("Your phone number or email address", required="Enter how the panel can contact you",
                            max_length=MEDIUM)
    referred_on = DateInputField("Date of referral", validators=[Required("Enter the date of the referral")])

    def add_entry(self):
        """Add an entry to the list an "add another" button named. False when no such button was pressed."""
        if self.add.data not in LISTS or not hasattr(self, self.add.data):
            return False
        field = getattr(self, self.add.data)
        if len(field.entries) < field.max_entries:
            field.append_entry()
        return True

    def validate_as(self, draft):
        """Validate the answers; a draft passes with required answers missing (they are asked on submit)."""
        g.saving_draft = draft
        try:
            return self.validate()
        finally:
            g.saving_draft = False


class MaracReferralForm(ReferralBase):
    """A MARAC referral: victim, consent, perpetrators, children, risk checklist, criterion."""

    victim = FormField(VictimForm)
    victim_aware = radios("Does the victim know about this referral?", YesNoUnknown,
                          required="Say whether the victim knows about the referral")
    victim_consents = radios("Has the victim consented to the referral?", YesNoUnknown,
                             required="Say whether the victim has consented")
    consent_reason = long_text("If not, why are you referring without the victim's knowledge or consent?",
                               max_length=MEDIUM * 4)
    perpetrators = EntryList(FormField(PerpetratorForm), min_entries=1, max_entries=5)
    children = EntryList(FormField(ChildForm), min_entries=0, max_entries=10)
    dash = FormField(DashAnswers)
    criterion = radios("Which criterion does the case meet?", Criterion,
                       required="Choose the criterion the case meets")
    judgement_reasons = long_text("Reasons for your professional judgement")
    police_incidents = WholeNumberField("Police-reported incidents in the last 12 months", validators=[
        Optional(), NumberRange(min=0, max=365, message="Incidents must be between 0 and 365")])
    recent_incident = long_text("The most recent incident", required="Describe the most recent incident")
    history = long_text("History of abuse")
    crime_reference = text("Police crime reference", max_length=40)
    bail_conditions = long_text("Bail conditions", max_length=MEDIUM * 2)
    orders = long_text("Orders in place (non-molestation, restraining, DVPO, ...)", max_length=MEDIUM * 2)

    def validate_consent_reason(self, field):
        if (YesNoUnknown.YES != self.victim_aware.data or YesNoUnknown.YES != self.victim_consents.data) \
                and not (field.data or "").strip():
            Required("Explain why you are referring without the victim's knowledge or consent")(self, field)

    def validate_criterion(self, field):
        if g.get("saving_draft"):
            return  # a draft may be saved before the checklist and the criterion agree
        score = questions.dash_score(self.dash.data)
        if field.data == Criterion.VISIBLE_HIGH_RISK and score < questions.VISIBLE_HIGH_RISK_SCORE:
            raise ValidationError(f"Visible high risk needs {questions.VISIBLE_HIGH_RISK_SCORE} or more 'yes' answers; "
                                  f"the checklist has {score}. Choose another criterion or check the answers")
        if field.data == Criterion.POTENTIAL_ESCALATION and (self.police_incidents.data or 0) < questions.POTENTIAL_ESCALATION_INCIDENTS:
            raise ValidationError(f"Potential escalation needs {questions.POTENTIAL_ESCALATION_INCIDENTS} or more "
                                  "police-reported incidents in the last 12 months")

    def validate_judgement_reasons(self, field):
        if self.criterion.data == Criterion.PROFESSIONAL_JUDGEMENT and not (field.data or "").strip():
            Required("Give the reasons for your professional judgement")(self, field)

    def validate_perpetrators(self, field):
        if not any(entry.form.has_any() for entry in field.entries):
            Required("Give at least the name of the perpetrator")(self, field)


class YoungPersonForm(named_subject("child or young person")):
    """The child or young person of a MACE referral."""

    school = text("School or college", max_length=MEDIUM)
    social_worker = text("Allocated social worker", max_length=SHORT)


class PersonOfConcernForm(PersonBase):
    """An adult of concern in a MACE referral."""

    pass


class LocationForm(Form):
    """A location of concern or an address."""

    kind = select("Kind of location", LocationKind)
    description = text("Description", max_length=MEDIUM, description="For example: the chicken shop on the high street")
    address = text("Address", max_length=MEDIUM)
    postcode = text("Postcode", max_length=10)
    validate_postcode = validate_postcode

    def has_any(self):
        """Whether anything was typed in the entry."""
        return any([self.description.data, self.address.data, self.postcode.data])


class MaceIndicators(Form):
    """The MACE screening indicators, each scored 0 to 3."""

    pass


for _key, _label in questions.MACE_INDICATORS:
    setattr(MaceIndicators, _key, SelectField(_label, choices=questions.MaceScore.choices(),
                                             default=questions.MaceScore.NONE))


class MaceReferralForm(ReferralBase):
    """A MACE referral: young person, exploitation, indicators, persons and locations of concern."""

    young_person = FormField(YoungPersonForm)
    exploitation_types = CheckboxesField("Types of exploitation", choices=questions.ExploitationType.choices(),
                                         validators=[Required("Choose at least one type of exploitation")])
    indicators = FormField(MaceIndicators)
    persons_of_concern = EntryList(FormField(PersonOfConcernForm), min_entries=0, max_entries=10)
    locations = EntryList(FormField(LocationForm), min_entries=0, max_entries=10)
    concerns = long_text("What are the concerns?", required="Describe the concerns")


class ComplainantForm(named_subject("complainant")):
    """The complainant or victim of an ASB referral."""

    pass


class RespondentForm(PersonBase):
    """A respondent of an ASB referral."""

    address = text("Address", max_length=MEDIUM)
    postcode = text("Postcode", max_length=10)
    validate_postcode = validate_postcode


class AsbAnswers(Form):
    """The ASB victim vulnerability questions, yes or no."""

    pass


for _number, (_key, _question) in enumerate(questions.ASB_QUESTIONS, start=1):
    setattr(AsbAnswers, _key, RadioField(f"{_number}. {_question}",
                                         choices=YesNoUnknown.choices([YesNoUnknown.YES, YesNoUnknown.NO]),
                                         validators=[Required(f"Answer vulnerability question {_number}")]))


class AsbReferralForm(ReferralBase):
    """An ASB referral: complainant, respondents, addresses, behaviour, vulnerability, needs."""

    complainant = FormField(ComplainantForm)
    respondents = EntryList(FormField(RespondentForm), min_entries=1, max_entries=10)
    locations = EntryList(FormField(LocationForm), min_entries=0, max_entries=10)
    categories = CheckboxesField("Kinds of anti-social behaviour", choices=questions.AsbCategory.choices(),
                                 validators=[Required("Choose at least one kind of anti-social behaviour")])
    vulnerability = FormField(AsbAnswers)
    needs = CheckboxesField("Needs behind the behaviour", choices=questions.Need.choices())
    interventions = CheckboxesField("Interventions already used", choices=questions.Intervention.choices())
    complaints_6_months = WholeNumberField("Complaints in the last 6 months", validators=[
        Optional(), NumberRange(min=0, max=500, message="Complaints must be between 0 and 500")])
    description = long_text("What is happening?", required="Describe the behaviour")


REFERRAL_FORMS = {PanelKind.MARAC: MaracReferralForm, PanelKind.MACE: MaceReferralForm,
                  PanelKind.ASB: AsbReferralForm}
LISTS = {"perpetrators", "children", "persons_of_concern", "locations", "respondents"}


def referral_form(panel, **kwargs):
    """The referral form of the panel's kind."""
    return REFERRAL_FORMS[panel.kind](**kwargs)


# How a referral's answers read back (referral_summary): the heading of each group of questions, the
# name of a list's entries ("Perpetrator 2"), and the heading of a run of single questions by its first.
SUMMARY_HEADINGS = {"victim": "The victim", "young_person": "The child or young person",
                    "complainant": "The complainant or victim", "dash": "Risk checklist",
                    "indicators": "Screening indicators", "vulnerability": "Victim vulnerability"}
ENTRY_NAMES = {"perpetrators": "Perpetrator", "children": "Child in the household",
               "persons_of_concern": "Person of concern", "respondents": "Respondent or perpetrator",
               "locations": "Location"}
RUN_HEADINGS = {"referrer_name": "The referral", "victim_aware": "Knowledge and consent",
                "criterion": "Criterion, incident and police details", "exploitation_types": "Exploitation",
                "concerns": "The concerns", "categories": "The behaviour",
                "needs": "Needs, interventions and the behaviour"}
NOT_GIVEN = "Not given"
_NOT_ANSWERS = {"csrf_token", "form_token", "version", "action", "add"}


def _answer(field):
    """One answer as people read it: labels for coded answers, dates written out."""
    data = field.data
    if isinstance(field, DateInputField):
        return format_date(data) if data else NOT_GIVEN
    if isinstance(field, BooleanField):
        return "Yes" if data else "No"
    if isinstance(field, SelectMultipleField):
        labels = dict(field.choices)
        return ", ".join(str(labels.get(value, value)) for value in data or ()) or "None chosen"
    if isinstance(field, SelectField):
        return str(dict(field.choices).get(data) or NOT_GIVEN) if data not in (None, "") else NOT_GIVEN
    return NOT_GIVEN if data is None or data == "" else str(data)


# Who someone is reads first, as on the referral form (a subject's form redeclares some of these).
_FIRST = ("first_names", "last_name", "aliases", "date_of_birth")


def _rows(form):
    fields = sorted(form, key=lambda field: _FIRST.index(field.short_name) if field.short_name in _FIRST
                    else len(_FIRST))
    return [(field.label.text, _answer(field)) for field in fields]


def referral_summary(panel, answers):
    """A referral's answers as people read them, in the form's order: [(heading, [(question, answer)])]
    for each run of single questions, each group (a person, the risk checklist) and each entry of a
    list that holds an answer. Reads only `answers`: what it is given is all it shows."""
    form = referral_form(panel, formdata=None, data=answers, meta={"csrf": False})
    sections, run = [], None
    for field in form:
        if field.name in _NOT_ANSWERS:
            continue
        if isinstance(field, FormField):
            sections.append((SUMMARY_HEADINGS.get(field.name, field.label.text), _rows(field.form)))
            run = None
        elif isinstance(field, FieldList):
            name = ENTRY_NAMES.get(field.name, field.label.text)
            entries = [rows for rows in (_rows(entry.form) for entry in field.entries)
                       if any(answer not in (NOT_GIVEN, "No") for _, answer in rows)]
            sections.extend((f"{name} {number}" if len(entries) > 1 else name, rows)
                            for number, rows in enumerate(entries, start=1))
            run = None
        else:
            if run is None or field.name in RUN_HEADINGS:
                run = []
                sections.append((RUN_HEADINGS.get(field.name, "Further answers"), run))
            run.append((field.label.text, _answer(field)))
    return sections


class ScreeningForm(AppForm):
    """The panel manager's screening decision."""

    version = VersionField()
    decision = RadioField("Decision", choices=ScreeningDecision.choices(),
                          validators=[Required("Choose whether to accept the case or screen it out")])
    reason = long_text("Reason", max_length=MEDIUM * 4)
    confirm_repeat = BooleanField("Record this case as a repeat of the case shown")

    def validate_reason(self, field):
        if self.decision.data == ScreeningDecision.SCREEN_OUT and not (field.data or "").strip():
            raise ValidationError("Give the reason for screening the referral out")


class CloseCaseForm(AppForm):
    """The panel manager closes a case: the outcome, and the reason in words (required for "other")."""

    version = VersionField()
    outcome = RadiosField("Why is the case closing?", validators=[Required("Choose why the case is closing")])
    reason = long_text("Reason", max_length=MEDIUM * 4)

    def __init__(self, kind, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcome.choices = [(o.value, o.label) for o in closure_outcomes(kind)]


class ReopenCaseForm(AppForm):
    """The panel manager reopens a closed case, saying why."""

    version = VersionField()
    reason = long_text("Why is the case being reopened?", required="Give the reason for reopening the case",
                       max_length=MEDIUM * 4)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SearchForm(AppForm):
    """Search by POST so that nothing personal enters a URL or a log."""

    # Stripped, so that a box holding only spaces counts as empty (not as a search for "").
    reference = text("Case reference", max_length=32, description="For example MARAC-2026-0042",
                     filters=[_strip])
    name = text("Full name", max_length=MEDIUM, description="First and last name, exactly as recorded",
                filters=[_strip])
    date_of_birth = DateInputField("Date of birth")
    postcode = text("Postcode", max_length=10, filters=[_strip])
    validate_postcode = validate_postcode

    def validate_reference(self, field):
        # Letters, digits and hyphens only: nothing else can match, and PostgreSQL refuses NUL characters.
        if field.data and not REFERENCE_RE.fullmatch(field.data):
            raise ValidationError("Enter a case reference like MARAC-2026-0042")

    def validate(self, extra_validators=None):
        """Valid only with a reference, a postcode, or a name with a date of birth."""
        valid = super().validate(extra_validators)
        if valid and not (self.reference.data or self.postcode.data or (self.name.data and self.date_of_birth.data)):
            if self.name.data or self.date_of_birth.data:
                target = self.date_of_birth if self.name.data else self.name
                target.errors.append("Search by name needs both the full name and the date of birth")
            else:
                self.reference.errors.append("Enter a case reference, a name with date of birth, or a postcode")
            return False
        return valid



DATES_MESSAGE = "Enter dates as YYYY-MM-DD, for example 2026-03-31"
ANY = [("", "Any")]


class CaseFilterForm(Form):
    """The case list's filters and order, read from the query string. A filter with an unknown value is
    left out; an agency or a date that cannot be read is an error on its field."""

    status = SelectField("Status", choices=ANY + CaseStatus.choices(VISIBLE_TO_PANEL), validate_choice=False)
    risk_level = SelectField("Risk level", choices=ANY + RiskLevel.choices(), validate_choice=False)
    agency_id = SelectField("Referring agency", validate_choice=False)
    repeat = SelectField("Repeat", choices=ANY + [(YesNoUnknown.YES, "Repeats only"), (YesNoUnknown.NO, "Not repeats")],
                         validate_choice=False)
    date_from = StringField("Referred from (YYYY-MM-DD)")
    date_to = StringField("Referred to (YYYY-MM-DD)")
    sort = SelectField("Sort by", choices=CaseSort.choices(), default=CaseSort.REFERRED_DESC, validate_choice=False)

    def __init__(self, formdata, agencies, categories):
        """`categories`: what the viewer may see of the panel's cases. A filter or order on a value derived
        from a category they may not see is left out (an order or a filter would disclose it)."""
        super().__init__(formdata)
        self.agency_id.choices = ANY + [(str(agency.id), agency.short_name) for agency in agencies]
        if DERIVED_FROM["risk_level"] not in categories:
            del self.risk_level
        if DERIVED_FROM["risk_score"] not in categories:
            self.sort.choices = [(value, label) for value, label in self.sort.choices if value != CaseSort.RISK]
        if Category.IDENTITY not in categories:  # a repeat is found by name and date of birth
            del self.repeat

    def validate_agency_id(self, field):
        if field.data:
            try:
                uuid.UUID(field.data)
            except ValueError:
                raise ValidationError("Choose an agency from the list") from None

    def validate_date_from(self, field):
        if field.data:
            try:
                dt.date.fromisoformat(field.data)
            except ValueError:
                raise ValidationError(DATES_MESSAGE) from None

    validate_date_to = validate_date_from

    def filters(self):
        """{name: value} of the filters to apply (after validate): known values only, read as their types."""
        filters = {}
        if self.status.data in VISIBLE_TO_PANEL:
            filters["status"] = self.status.data
        if self.risk_level and self.risk_level.data in RiskLevel.values():
            filters["risk_level"] = self.risk_level.data
        if self.repeat and self.repeat.data in (YesNoUnknown.YES, YesNoUnknown.NO):
            filters["repeat"] = self.repeat.data == YesNoUnknown.YES
        if self.agency_id.data and not self.agency_id.errors:
            filters["agency_id"] = uuid.UUID(self.agency_id.data)
        for field in (self.date_from, self.date_to):
            if field.data and not field.errors:
                filters[field.name] = dt.date.fromisoformat(field.data)
        return filters

    def order(self):
        """The order chosen, if the viewer may have it; else the default."""
        return self.sort.data if self.sort.data in dict(self.sort.choices) else CaseSort.REFERRED_DESC

    def query_args(self):
        """The query string's non-empty values, for the pagination links."""
        return {field.name: field.raw_data[0] for field in self if field.raw_data and field.raw_data[0]}
