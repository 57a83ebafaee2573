"""Forms of the ASB taskforce's work: a step of the interventions ladder, a Case Review application and
its steps, the Case Review settings, and the year of the published figures."""
import uuid

from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from marac.asb.models import AppealOutcome, Decision, InterventionOutcome, Rung, respondents_of
from marac.core.forms import (AppForm, DateInputField, OnceForm, RadiosField, Required, VersionField,
                              WholeNumberField, posted_text)
from marac.people.models import YesNoUnknown
from marac.sharing.models import Category

NOTE = Length(max=2000, message="Keep the note to 2000 characters or fewer")


def _uuid(value):
    return uuid.UUID(str(value)) if value else None


def _number(value):
    return int(value) if str(value or "").isdigit() else None


def _agencies(panel):
    return [("", "Choose")] + [(str(a.id), a.name) for a in sorted((m.agency for m in panel.members),
                                                                     key=lambda a: a.name)]


class _StepFields(AppForm):
    """The fields of a step of a respondent's ladder."""

    version = VersionField()
    respondent_number = SelectField("Respondent", coerce=_number,
                                    validators=[Required("Choose the respondent")])
    rung = SelectField("Intervention", choices=[("", "Choose")] + Rung.choices(),
                       validators=[Required("Choose the intervention")])
    taken_on = DateInputField("Date", validators=[Required("Enter the date of the intervention")])
    agency_id = SelectField("Agency", coerce=_uuid, validators=[Required("Choose the agency that took it")])
    outcome = RadioField("Outcome", choices=InterventionOutcome.choices(), validators=[Required("Choose the outcome")])
    review_on = DateInputField("Next review (optional)", past=False, validators=[Optional()])
    ends_on = DateInputField("Ends on (an order or notice; required for a closure order)", past=False,
                             validators=[Optional()])
    note = TextAreaField("Note (optional)", validators=[Optional(), NOTE])

    def values(self):
        """The step as services.record_intervention takes it."""
        return {name: self[name].data for name in ("respondent_number", "rung", "taken_on", "agency_id", "outcome",
                                                   "review_on", "ends_on", "note")}


class InterventionForm(OnceForm, _StepFields):
    """A new step of a respondent's ladder (accepted once)."""


class InterventionEditForm(_StepFields):
    """A step of the ladder changed (it makes nothing, so it may be sent again)."""


def intervention_form(case, categories, step=None):
    """The form of a step of the case's ladder: its respondents by number (and name, for someone who
    may see identity), the panel's agencies."""
    cls = InterventionEditForm if step else InterventionForm
    form = cls(obj=step) if step else cls()
    respondents = respondents_of(case) or [None]
    form.respondent_number.choices = [
        (str(n), f"Respondent {n}" + (f": {party.person.full_name}" if party and Category.IDENTITY in categories
                                      and party.person.full_name else ""))
        for n, party in enumerate(respondents, 1)]
    form.agency_id.choices = _agencies(case.panel)
    if step and not form.is_submitted():
        form.version.data = str(step.version)
        form.respondent_number.data = step.respondent_number
    return form


class ApplicationForm(OnceForm):
    """An application for an ASB Case Review."""

    received_on = DateInputField("Received on", validators=[Required("Enter the date the application was received")])
    complainant_name = StringField("Complainant's full name", validators=[
        Required("Enter the complainant's full name"), Length(max=120, message="Keep the name to 120 characters")])
    complainant_dob = DateInputField("Complainant's date of birth", validators=[
        Required("Enter the complainant's date of birth: complaints are found by name and date of birth")])
    complainant_contact = StringField("How to contact the complainant (optional)", validators=[
        Optional(), Length(max=200, message="Keep the contact details to 200 characters")])
    applicant = StringField("Applying on the complainant's behalf, with their consent (optional)", validators=[
        Optional(), Length(max=200, message="Keep this to 200 characters")])
    is_hate = RadiosField("Is the behaviour a hate incident?", choices=[(YesNoUnknown.YES, "Yes"),
                                                                        (YesNoUnknown.NO, "No")],
                          validators=[Required("Say whether the behaviour is a hate incident")])
    other_complaints = WholeNumberField(
        "Complaints to other bodies in the window, confirmed by them", default=0,
        validators=[InputRequired("Enter a number, 0 if none"),
                    NumberRange(min=0, max=99, message="Complaints to other bodies must be between 0 and 99")])
    summary = TextAreaField("What the application says (optional)", validators=[
        Optional(), Length(max=3000, message="Keep the summary to 3000 characters or fewer")])

    def values(self):
        """The application as services.apply takes it."""
        values = {name: self[name].data for name in ("received_on", "complainant_name", "complainant_dob",
                                                     "complainant_contact", "applicant", "other_complaints",
                                                     "summary")}
        values["is_hate"] = self.is_hate.data == YesNoUnknown.YES
        return values


class AcknowledgeForm(AppForm):
    """The day the application was acknowledged."""

    version = VersionField()
    on = DateInputField("Acknowledged on", validators=[Required("Enter the date it was acknowledged")])


class DecisionForm(AppForm):
    """Whether the threshold is met, and why."""

    version = VersionField()
    decision = RadioField("Decision", choices=Decision.choices(), validators=[Required("Choose the decision")])
    reason = TextAreaField("Reason (as the applicant is told it)", validators=[
        Required("Give the reason for the decision"), Length(max=2000, message="Keep the reason to 2000 characters")])
    on = DateInputField("Decided on", validators=[Required("Enter the date of the decision")])


class ReviewForm(AppForm):
    """The case review meeting."""

    version = VersionField()
    held_on = DateInputField("Review meeting held on", validators=[Required("Enter the date of the review meeting")])
    notes = TextAreaField("What the review found (optional)", validators=[
        Optional(), Length(max=3000, message="Keep the notes to 3000 characters or fewer")])


class RecommendationForm(OnceForm):
    """A recommendation of the review and the agency that owns it."""

    owner_agency_id = SelectField("Owner agency", coerce=_uuid, validators=[Required("Choose the agency that owns it")])
    text = TextAreaField("Recommendation", validators=[
        Required("Write the recommendation"), Length(max=2000, message="Keep it to 2000 characters or fewer")])
    due_on = DateInputField("Due by (optional)", past=False, validators=[Optional()])


def recommendation_form(panel, fresh=False):
    """The recommendation form with the panel's agencies. `fresh`: empty (with a new one-time token),
    whatever was posted."""
    form = RecommendationForm(prefix="recommendation", **({"formdata": None} if fresh else {}))
    form.owner_agency_id.choices = _agencies(panel)
    return form


class AppealForm(AppForm):
    """An appeal against the decision or the review, and its outcome."""

    version = VersionField()
    received_on = DateInputField("Appeal received on", validators=[Required("Enter the date the appeal was received")])
    outcome = RadioField("Outcome", choices=AppealOutcome.choices(), default=AppealOutcome.PENDING,
                         validators=[Required("Choose the outcome")])
    decided_on = DateInputField("Appeal decided on (once decided)", validators=[Optional()])
    notes = TextAreaField("Notes (optional)", validators=[
        Optional(), Length(max=2000, message="Keep the notes to 2000 characters or fewer")])


# The steps of a Case Review application's page, in the page's order; each form has its prefix.
REVIEW_STEPS = ("acknowledge", "decision", "review", "recommendation", "appeal")
_TOKENS = ("csrf_token", "form_token", "version")


def review_forms(application, on_today, posted=False):
    """The forms of the steps of an application's page (one form on the page: every button posts every
    box). As recorded: each starts from what is on record (a step recorded before can be corrected),
    else `on_today`, at the application's version. `posted`: each as the page sent it."""
    a = application
    if posted:
        return {"acknowledge": AcknowledgeForm(prefix="acknowledge"), "decision": DecisionForm(prefix="decision"),
                "review": ReviewForm(prefix="review"), "recommendation": recommendation_form(a.panel),
                "appeal": AppealForm(prefix="appeal")}
    forms = {
        "acknowledge": AcknowledgeForm(prefix="acknowledge", formdata=None, data={"on": a.acknowledged_on or on_today}),
        "decision": DecisionForm(prefix="decision", formdata=None, data={
            "decision": a.decision, "reason": a.decision_reason, "on": a.decided_on or on_today}),
        "review": ReviewForm(prefix="review", formdata=None, data={"held_on": a.review_held_on,
                                                                   "notes": a.review_notes}),
        "recommendation": recommendation_form(a.panel, fresh=True),
        "appeal": AppealForm(prefix="appeal", formdata=None, data={
            "received_on": a.appeal_received_on, "outcome": a.appeal_outcome or AppealOutcome.PENDING,
            "decided_on": a.appeal_decided_on, "notes": a.appeal_notes}),
    }
    for form in forms.values():
        if "version" in form:
            form.version.data = str(a.version)
    return forms


def _shown(field):
    if isinstance(field, DateInputField):
        return tuple(field.parts.values())
    return str(field.data if field.data is not None else "").strip()


def was_on_the_page(form):
    """Whether the post held the form's boxes (a form the page did not show sends none)."""
    sent = posted_text() or {}
    return any(f.name in sent or f"{f.name}-day" in sent for f in form if f.short_name not in _TOKENS)


def typed_field(posted, recorded):
    """The first field of a step's form as posted that differs from the step as recorded (typed and not
    saved), or None (nothing typed there, or the form was not on the page)."""
    if not was_on_the_page(posted):
        return None
    return next((f for f in posted if f.short_name not in _TOKENS and _shown(f) != _shown(recorded[f.short_name])),
                None)


def _days(label, default):
    return WholeNumberField(label, description=f"The default is {default}.", validators=[
        InputRequired(f"Enter the number for '{label}'"),
        NumberRange(min=1, max=60, message=f"'{label}' must be between 1 and 60")])


class SettingsForm(AppForm):
    """The panel's Case Review threshold and deadlines."""

    threshold = WholeNumberField("Complaints that meet the threshold", description="The default is 3.", validators=[
        InputRequired("Enter the number of complaints"),
        NumberRange(min=1, max=3, message="The threshold must be between 1 and 3 complaints (the statutory guidance "
                                          "sets no more than 3)")])
    hate_threshold = WholeNumberField("Complaints that meet the threshold for a hate incident",
                                      description="The default is 1.", validators=[
        InputRequired("Enter the number of complaints for a hate incident"),
        NumberRange(min=1, max=3, message="The threshold for a hate incident must be between 1 and 3")])
    window_months = WholeNumberField("Months the complaints are counted over", description="The default is 6.",
                                     validators=[InputRequired("Enter the months"),
                                                 NumberRange(min=1, max=12, message="Months must be between 1 and 12")])
    acknowledge_days = _days("Working days to acknowledge an application", 5)
    decision_days = _days("Working days to decide whether the threshold is met", 10)
    review_days = _days("Working days from that decision to the review meeting", 20)

    def values(self):
        """The settings as services.update_settings takes them."""
        return {name: self[name].data for name in ("threshold", "hate_threshold", "window_months", "acknowledge_days",
                                                   "decision_days", "review_days")}


class YearForm(AppForm):
    """The financial year of the published figures (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    review_year = SelectField("Financial year", coerce=_number, validate_choice=False)

    def __init__(self, formdata, today):
        super().__init__(formdata)
        first = today.year if today.month >= 4 else today.year - 1
        self.review_year.choices = [(str(y), f"April {y} to March {y + 1}") for y in range(first, first - 6, -1)]
        if self.review_year.data not in [int(v) for v, _ in self.review_year.choices]:
            self.review_year.data = first - 1  # the last complete year, the one a council publishes

    def chosen(self):
        """The year chosen (one of the choices)."""
        return self.review_year.data
