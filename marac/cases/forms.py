"""Referral forms for MARAC, MACE and the ASB taskforce, and the screening and search forms."""
import re

from flask import g
from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, FormField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from marac.cases import questions
from marac.cases.models import CRITERIA
from marac.core.forms import (VersionField, CheckboxesField, DateInputField, EntryList, Postcode, RadiosField, Required,
                              WholeNumberField, choices)

SHORT, MEDIUM, LONG = 120, 300, 5000
REFERENCE_RE = re.compile(r"[A-Za-z0-9-]+")


# Optional fields get no Optional() validator: it would stop the chain on an empty field, so the
# form's own validate_<field> checks ("required when ...") would never run.
def text(label, required=None, max_length=SHORT, **kwargs):
    validators = [Required(required)] if required else []
    validators.append(Length(max=max_length, message=f"{label} must be {max_length} characters or fewer"))
    return StringField(label, validators=validators, **kwargs)


def long_text(label, required=None, max_length=LONG, **kwargs):
    validators = [Required(required)] if required else []
    validators.append(Length(max=max_length, message=f"{label} must be {max_length} characters or fewer"))
    return TextAreaField(label, validators=validators, **kwargs)


def select(label, mapping, required=None, **kwargs):
    validators = [Required(required)] if required else []
    return SelectField(label, choices=choices(mapping, "Choose"), validators=validators, default="", **kwargs)


def radios(label, mapping, required=None, **kwargs):
    validators = [Required(required)] if required else []
    return RadiosField(label, choices=list(mapping.items()), validators=validators, **kwargs)


class AliasesMixin:
    def validate_aliases(self, field):
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
        return any([self.first_names.data, self.last_name.data, self.aliases.data, self.date_of_birth.data])


def named_subject(label_prefix):
    """The main person of a referral: a name and date of birth are required."""

    class Subject(PersonBase):
        first_names = text("First names", required=f"Enter the {label_prefix}'s first names")
        last_name = text("Last name", required=f"Enter the {label_prefix}'s last name")
        date_of_birth = DateInputField("Date of birth", validators=[
            Required(f"Enter the {label_prefix}'s date of birth")])
        address = long_text("Address", max_length=MEDIUM)
        postcode = text("Postcode", max_length=10)
        phone = text("Phone number", max_length=30)
        gender = select("Gender", questions.GENDERS)
        ethnic_group = select("Ethnic group", questions.ETHNIC_GROUPS)
        disability = select("Disability", questions.DISABILITY)

        def validate_postcode(self, field):
            Postcode()(self, field)

        def validate_phone(self, field):
            if field.data and not all(c.isdigit() or c in " +()-" for c in field.data):
                raise ValidationError("Enter a phone number using digits, spaces and + ( ) - only")

    return Subject


class VictimForm(named_subject("victim")):
    safe_to_call = radios("Is it safe to call the victim on this number?", questions.YES_NO_UNKNOWN)
    language = text("Preferred language", max_length=60)
    interpreter = BooleanField("An interpreter is needed")
    sexuality = select("Sexuality", questions.SEXUALITY)
    gp = text("GP surgery", max_length=MEDIUM)


class PerpetratorForm(PersonBase):
    relationship = select("Relationship to the victim", questions.RELATIONSHIPS)
    gender = select("Gender", questions.GENDERS)


class ChildForm(PersonBase):
    lives_with = select("Lives with", questions.LIVES_WITH)


class DashAnswers(Form):
    pass


for _number, (_key, _question) in enumerate(questions.DASH_QUESTIONS, start=1):
    setattr(DashAnswers, _key, RadioField(f"{_number}. {_question}", choices=list(questions.YES_NO_UNKNOWN.items()),
                                          validators=[Required(f"Answer question {_number} of the risk checklist")]))


class ReferralBase(FlaskForm):
    """What every referral asks about the referrer, and the form controls."""

    version = VersionField()
    referrer_name = text("Your name", required="Enter your name")
    referrer_role = text("Your role", required="Enter your role")
    referrer_contact = text("Your phone number or email address", required="Enter how the panel can contact you",
                            max_length=MEDIUM)
    referred_on = DateInputField("Date of referral", validators=[Required("Enter the date of the referral")])


class MaracReferralForm(ReferralBase):
    victim = FormField(VictimForm)
    victim_aware = radios("Does the victim know about this referral?", questions.YES_NO_UNKNOWN,
                          required="Say whether the victim knows about the referral")
    victim_consents = radios("Has the victim consented to the referral?", questions.YES_NO_UNKNOWN,
                             required="Say whether the victim has consented")
    consent_reason = long_text("If not, why are you referring without the victim's knowledge or consent?",
                               max_length=MEDIUM * 4)
    perpetrators = EntryList(FormField(PerpetratorForm), min_entries=1, max_entries=5)
    children = EntryList(FormField(ChildForm), min_entries=0, max_entries=10)
    dash = FormField(DashAnswers)
    criterion = radios("Which criterion does the case meet?", CRITERIA,
                       required="Choose the criterion the case meets")
    judgement_reasons = long_text("Reasons for your professional judgement")
    police_incidents = WholeNumberField("Police-reported incidents in the last 12 months", validators=[
        Optional(), NumberRange(min=0, max=365, message="Incidents must be between 0 and 365")])
    recent_incident = long_text("The most recent incident", required="Describe the most recent incident")
    history = long_text("History of abuse")
    crime_reference = text("Police crime reference", max_length=40)
    bail_conditions = long_text("Bail conditions", max_length=MEDIUM * 2)
    orders = long_text("Orders in place (non-molestation, restraining, DVPO, ...)", max_length=MEDIUM * 2)

    def dash_score(self):
        return sum(1 for key, _ in questions.DASH_QUESTIONS if self.dash[key].data == "yes")

    def validate_consent_reason(self, field):
        if (self.victim_aware.data != "yes" or self.victim_consents.data != "yes") and not (field.data or "").strip():
            Required("Explain why you are referring without the victim's knowledge or consent")(self, field)

    def validate_criterion(self, field):
        if g.get("saving_draft"):
            return  # a draft may be saved before the checklist and the criterion agree
        score = self.dash_score()
        if field.data == "visible_high_risk" and score < questions.VISIBLE_HIGH_RISK_SCORE:
            raise ValidationError(f"Visible high risk needs {questions.VISIBLE_HIGH_RISK_SCORE} or more 'yes' answers; "
                                  f"the checklist has {score}. Choose another criterion or check the answers")
        if field.data == "potential_escalation" and (self.police_incidents.data or 0) < questions.POTENTIAL_ESCALATION_INCIDENTS:
            raise ValidationError(f"Potential escalation needs {questions.POTENTIAL_ESCALATION_INCIDENTS} or more "
                                  "police-reported incidents in the last 12 months")

    def validate_judgement_reasons(self, field):
        if self.criterion.data == "professional_judgement" and not (field.data or "").strip():
            Required("Give the reasons for your professional judgement")(self, field)

    def validate_perpetrators(self, field):
        if not any(entry.form.has_any() for entry in field.entries):
            Required("Give at least the name of the perpetrator")(self, field)


class YoungPersonForm(named_subject("child or young person")):
    school = text("School or college", max_length=MEDIUM)
    social_worker = text("Allocated social worker", max_length=SHORT)


class PersonOfConcernForm(PersonBase):
    pass


class LocationForm(Form):
    kind = select("Kind of location", questions.LOCATION_KINDS)
    description = text("Description", max_length=MEDIUM, description="For example: the chicken shop on the high street")
    address = text("Address", max_length=MEDIUM)
    postcode = text("Postcode", max_length=10)

    def validate_postcode(self, field):
        Postcode()(self, field)

    def has_any(self):
        return any([self.description.data, self.address.data, self.postcode.data])


class MaceIndicators(Form):
    pass


for _key, _label in questions.MACE_INDICATORS:
    setattr(MaceIndicators, _key, SelectField(_label, choices=list(questions.MACE_SCORE_CHOICES.items()), default="0"))


class MaceReferralForm(ReferralBase):
    young_person = FormField(YoungPersonForm)
    exploitation_types = CheckboxesField("Types of exploitation", choices=list(questions.EXPLOITATION_TYPES.items()),
                                         validators=[Required("Choose at least one type of exploitation")])
    indicators = FormField(MaceIndicators)
    persons_of_concern = EntryList(FormField(PersonOfConcernForm), min_entries=0, max_entries=10)
    locations = EntryList(FormField(LocationForm), min_entries=0, max_entries=10)
    concerns = long_text("What are the concerns?", required="Describe the concerns")


class ComplainantForm(named_subject("complainant")):
    pass


class RespondentForm(PersonBase):
    address = text("Address", max_length=MEDIUM)
    postcode = text("Postcode", max_length=10)

    def validate_postcode(self, field):
        Postcode()(self, field)


class AsbAnswers(Form):
    pass


for _number, (_key, _question) in enumerate(questions.ASB_QUESTIONS, start=1):
    setattr(AsbAnswers, _key, RadioField(f"{_number}. {_question}", choices=[("yes", "Yes"), ("no", "No")],
                                         validators=[Required(f"Answer vulnerability question {_number}")]))


class AsbReferralForm(ReferralBase):
    complainant = FormField(ComplainantForm)
    respondents = EntryList(FormField(RespondentForm), min_entries=1, max_entries=10)
    locations = EntryList(FormField(LocationForm), min_entries=0, max_entries=10)
    categories = CheckboxesField("Kinds of anti-social behaviour", choices=list(questions.ASB_CATEGORIES.items()),
                                 validators=[Required("Choose at least one kind of anti-social behaviour")])
    vulnerability = FormField(AsbAnswers)
    needs = CheckboxesField("Needs behind the behaviour", choices=list(questions.NEEDS.items()))
    interventions = CheckboxesField("Interventions already used", choices=list(questions.INTERVENTIONS.items()))
    complaints_6_months = WholeNumberField("Complaints in the last 6 months", validators=[
        Optional(), NumberRange(min=0, max=500, message="Complaints must be between 0 and 500")])
    description = long_text("What is happening?", required="Describe the behaviour")


REFERRAL_FORMS = {"MARAC": MaracReferralForm, "MACE": MaceReferralForm, "ASB": AsbReferralForm}
LISTS = {"perpetrators", "children", "persons_of_concern", "locations", "respondents"}


class ScreeningForm(FlaskForm):
    version = VersionField()
    decision = RadioField("Decision", choices=[("accept", "Accept the case for a meeting"),
                                               ("screen_out", "Screen it out")],
                          validators=[Required("Choose whether to accept the case or screen it out")])
    reason = long_text("Reason", max_length=MEDIUM * 4)
    confirm_repeat = BooleanField("Record this case as a repeat of the case shown")

    def validate_reason(self, field):
        if self.decision.data == "screen_out" and not (field.data or "").strip():
            raise ValidationError("Give the reason for screening the referral out")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SearchForm(FlaskForm):
    """Search by POST so that nothing personal enters a URL or a log."""

    # Stripped, so that a box holding only spaces counts as empty (not as a search for "").
    reference = text("Case reference", max_length=32, description="For example MARAC-2026-0042",
                     filters=[_strip])
    name = text("Full name", max_length=MEDIUM, description="First and last name, exactly as recorded",
                filters=[_strip])
    date_of_birth = DateInputField("Date of birth")
    postcode = text("Postcode", max_length=10, filters=[_strip])

    def validate_reference(self, field):
        # Letters, digits and hyphens only: nothing else can match, and PostgreSQL refuses NUL characters.
        if field.data and not REFERENCE_RE.fullmatch(field.data):
            raise ValidationError("Enter a case reference like MARAC-2026-0042")

    def validate_postcode(self, field):
        Postcode()(self, field)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if valid and not (self.reference.data or self.postcode.data or (self.name.data and self.date_of_birth.data)):
            if self.name.data or self.date_of_birth.data:
                target = self.date_of_birth if self.name.data else self.name
                target.errors.append("Search by name needs both the full name and the date of birth")
            else:
                self.reference.errors.append("Enter a case reference, a name with date of birth, or a postcode")
            return False
        return valid

