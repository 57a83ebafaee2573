"""Forms of the meeting cycle: schedule, meeting, research, register, hearing, amendment."""
import datetime as dt
import re
import uuid

from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from marac.actions.models import ActionStatus
from marac.core.forms import AppForm, ChosenIds, DateInputField, OnceForm, Required, VersionField
from marac.meetings.models import AttendanceStatus, ItemStatus, LawfulBasis

OBSERVER = "observer"  # the "Attending for" choice of someone who attends for no agency

TIME_RE = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")


class TimeField(StringField):
    """A time of day typed as HH:MM (24-hour clock)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.time = None
        match = TIME_RE.match((self.data or "").strip())
        if match:
            self.time = dt.time(int(match.group(1)), int(match.group(2)))

    def process_data(self, value):
        self.time = value if isinstance(value, dt.time) else None
        self.data = value.strftime("%H:%M") if isinstance(value, dt.time) else value

    def pre_validate(self, form):
        if self.data and self.time is None:
            raise ValidationError("Enter the time as hours and minutes on the 24-hour clock, like 10:00")


class ScheduleForm(OnceForm):
    """The panel's meetings from a first date, on its cadence."""

    start_on = DateInputField("First meeting", past=False, validators=[Required("Enter the date of the first meeting")])
    starts_at = TimeField("Start time", validators=[Required("Enter the start time, like 10:00")])


class MeetingForm(OnceForm):
    """One meeting's date and time (adding one, or moving it)."""

    version = VersionField()
    meets_on = DateInputField("Date", past=False, validators=[Required("Enter the date of the meeting")])
    starts_at = TimeField("Start time", validators=[Required("Enter the start time, like 10:00")])


class ResearchForm(AppForm):
    """An agency's research return for one listed case."""

    version = VersionField()
    nothing_held = BooleanField("Our agency holds nothing relevant on this case")
    relevant = TextAreaField("What we hold that is relevant to current risk", validators=[
        Optional(), Length(max=5000, message="Keep this to 5000 characters or fewer")])
    to_share = TextAreaField("What we will share at the meeting", validators=[
        Optional(), Length(max=5000, message="Keep this to 5000 characters or fewer")])
    withheld = TextAreaField("What we hold but will not share", validators=[
        Optional(), Length(max=3000, message="Keep this to 3000 characters or fewer")])
    withheld_reason = TextAreaField("Why we will not share it", validators=[
        Optional(), Length(max=2000, message="Keep this to 2000 characters or fewer")])
    lawful_basis = SelectField("Lawful basis for sharing", choices=[("", "Choose")] + LawfulBasis.choices(),
                               default="")

    def validate(self, extra_validators=None):
        """The answers must fit together: nothing held clears the rest; what is shared needs a lawful
        basis; what is withheld needs a reason."""
        valid = super().validate(extra_validators)
        if self.nothing_held.data:
            if any((f.data or "").strip() for f in (self.relevant, self.to_share, self.withheld)):
                self.nothing_held.errors.append("You said nothing is held: clear the other answers, or untick it")
                return False
            return valid
        if not (self.relevant.data or "").strip():
            self.relevant.errors.append("Say what your agency holds, or tick that it holds nothing relevant")
            valid = False
        if (self.to_share.data or "").strip() and not self.lawful_basis.data:
            self.lawful_basis.errors.append("Choose the lawful basis for sharing")
            valid = False
        if (self.withheld.data or "").strip() and not (self.withheld_reason.data or "").strip():
            self.withheld_reason.errors.append("Say why you will not share what you hold")
            valid = False
        return valid


class AttendeeForm(OnceForm):
    """Someone at the meeting: for a member agency, or an observer."""

    name = StringField("Name", validators=[Required("Enter the attendee's name"),
                                           Length(max=120, message="Name must be 120 characters or fewer")])
    role = StringField("Role (optional)", validators=[Optional(), Length(max=120, message="Role is too long")])
    agency_id = SelectField("Attending for", validators=[Required("Choose the agency, or observer")])

    @property
    def is_observer(self):
        """Whether the person attends for no agency."""
        return self.agency_id.data == OBSERVER

    @property
    def chosen_agency_id(self):
        """The agency the person attends for (None for an observer)."""
        return None if self.is_observer else uuid.UUID(self.agency_id.data)


def attendee_form(meeting):
    """The attendee form, offering the agencies on the meeting's register and "observer"."""
    form = AttendeeForm()
    form.agency_id.choices = ([("", "Choose")] + [(str(a.agency_id), a.agency.name) for a in
                                                  sorted(meeting.attendances, key=lambda a: a.agency.name)]
                              + [(OBSERVER, "Observer (no agency)")])
    return form


class AttendanceForm(AppForm):
    """The register: one select per member agency, named status-<agency id> (fields added per meeting)."""

    rows = ()

    def statuses(self):
        """{agency id: status} as chosen."""
        return {attendance.agency_id: field.data for attendance, field in self.rows}


def attendance_form(meeting):
    """The register form of this meeting: each agency's select starts at its recorded status; an
    agency left out of a post keeps it."""
    attendances = sorted(meeting.attendances, key=lambda a: (not a.is_core, a.agency.name))

    class Form(AttendanceForm):
        pass

    for attendance in attendances:
        setattr(Form, f"status-{attendance.agency_id}", SelectField(
            attendance.agency.name, choices=AttendanceStatus.choices(), default=attendance.status))
    form = Form()
    form.rows = [(a, form[f"status-{a.agency_id}"]) for a in attendances]
    return form


class HearingForm(AppForm):
    """The discussion of one case: risk summary, minute and outcome (with reviews, per hearing)."""

    version = VersionField()
    risk_summary = TextAreaField("Risk summary (agreed by the chair)", validators=[
        Optional(), Length(max=3000, message="Keep the risk summary to 3000 characters or fewer")])
    minute = TextAreaField("Minute", validators=[
        Optional(), Length(max=10000, message="Keep the minute to 10000 characters or fewer")])
    outcome = RadioField("Outcome", choices=[("", "Keep listed (save only)"), (ItemStatus.HEARD, "Heard"),
                                              (ItemStatus.DEFERRED, "Deferred to the next meeting")], default="")
    open_actions = ()

    def validate_outcome(self, field):
        """A case is heard only with its risk summary recorded."""
        if field.data == ItemStatus.HEARD and not (self.risk_summary.data or "").strip():
            raise ValidationError("Record the risk summary before marking the case heard")

    def review_fields(self):
        """(action, outcome field, note field) for each open action from earlier hearings."""
        return [(action, self[f"review-{action.id}"], self[f"review-note-{action.id}"]) for action in self.open_actions]

    def reviews(self):
        """(action, outcome, note) as answered: an empty outcome keeps the action open."""
        return [(action, outcome.data or "", note.data) for action, outcome, note in self.review_fields()]


REVIEW_CHOICES = [("", "Still open")] + ActionStatus.choices(ActionStatus.review_outcomes())


def hearing_form(open_actions, item=None):
    """The hearing form of one case, with a review (outcome, note) for each open action from earlier
    hearings, named review-<action id> and review-note-<action id>. Given the item, the form shows
    what it holds (and its version) rather than what was posted."""

    class Form(HearingForm):
        pass

    Form.open_actions = list(open_actions)
    for action in Form.open_actions:
        setattr(Form, f"review-{action.id}", RadioField("Outcome", choices=REVIEW_CHOICES, default=""))
        setattr(Form, f"review-note-{action.id}", StringField("Note", validators=[
            Optional(), Length(max=1000, message="Keep the review note to 1000 characters or fewer")]))
    if item is None:
        return Form()
    return Form(formdata=None, version=str(item.version), risk_summary=item.risk_summary, minute=item.minute)


class AmendForm(AppForm):
    """A correction to a finalised minute, with its reason."""

    version = VersionField()
    minute = TextAreaField("Corrected minute", validators=[
        Required("Enter the corrected minute"), Length(max=10000, message="Keep the minute to 10000 characters or fewer")])
    reason = TextAreaField("Reason for the correction", validators=[
        Required("Say why the minute is corrected"), Length(max=1000, message="Keep the reason to 1000 characters or fewer")])


class ListCasesForm(AppForm):
    """The manager lists several waiting cases at once: the ones ticked on the agenda builder."""

    case_ids = ChosenIds("Cases to list", validators=[Required("Tick the cases to list")])
