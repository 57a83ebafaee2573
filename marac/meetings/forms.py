"""Forms of the meeting cycle."""
import datetime as dt
import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError

from marac.core.forms import VersionField, DateInputField, Required
from marac.meetings.models import LAWFUL_BASES

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


class ScheduleForm(FlaskForm):
    start_on = DateInputField("First meeting", past=False, validators=[Required("Enter the date of the first meeting")])
    starts_at = TimeField("Start time", validators=[Required("Enter the start time, like 10:00")])


class MeetingForm(FlaskForm):
    version = VersionField()
    meets_on = DateInputField("Date", past=False, validators=[Required("Enter the date of the meeting")])
    starts_at = TimeField("Start time", validators=[Required("Enter the start time, like 10:00")])


class ResearchForm(FlaskForm):
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
    lawful_basis = SelectField("Lawful basis for sharing", choices=[("", "Choose")] + list(LAWFUL_BASES.items()),
                               default="")

    def validate(self, extra_validators=None):
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


class AttendeeForm(FlaskForm):
    name = StringField("Name", validators=[Required("Enter the attendee's name"),
                                           Length(max=120, message="Name must be 120 characters or fewer")])
    role = StringField("Role (optional)", validators=[Optional(), Length(max=120, message="Role is too long")])
    agency_id = SelectField("Attending for", validators=[Required("Choose the agency, or observer")])


class HearingForm(FlaskForm):
    version = VersionField()
    risk_summary = TextAreaField("Risk summary (agreed by the chair)", validators=[
        Optional(), Length(max=3000, message="Keep the risk summary to 3000 characters or fewer")])
    minute = TextAreaField("Minute", validators=[
        Optional(), Length(max=10000, message="Keep the minute to 10000 characters or fewer")])
    outcome = RadioField("Outcome", choices=[("", "Keep listed (save only)"), ("heard", "Heard"),
                                             ("deferred", "Deferred to the next meeting")], default="")

    def validate_outcome(self, field):
        if field.data == "heard" and not (self.risk_summary.data or "").strip():
            raise ValidationError("Record the risk summary before marking the case heard")


class ActionForm(FlaskForm):
    owner_agency_id = SelectField("Owner agency", validators=[Required("Choose the agency that owns the action")])
    description = TextAreaField("Action", validators=[Required("Describe the action"),
                                                      Length(max=2000, message="Keep the action to 2000 characters or fewer")])
    due_on = DateInputField("Due", past=False, validators=[Required("Enter the due date")])
    named_person = StringField("Named person (optional)", validators=[
        Optional(), Length(max=120, message="Name must be 120 characters or fewer")])


class AmendForm(FlaskForm):
    version = VersionField()
    minute = TextAreaField("Corrected minute", validators=[
        Required("Enter the corrected minute"), Length(max=10000, message="Keep the minute to 10000 characters or fewer")])
    reason = TextAreaField("Reason for the correction", validators=[
        Required("Say why the minute is corrected"), Length(max=1000, message="Keep the reason to 1000 characters or fewer")])


class ActionUpdateForm(FlaskForm):
    version = VersionField()
    kind = RadioField("Update", choices=[("progress", "Progress note"), ("completed", "Completed")],
                      validators=[Required("Choose progress or completed")], default="progress")
    note = TextAreaField("Note", validators=[Required("Write a note"),
                                             Length(max=3000, message="Keep the note to 3000 characters or fewer")])


class ChaseForm(FlaskForm):
    version = VersionField()
    note = TextAreaField("Chase note", validators=[Required("Say how you chased it"),
                                                   Length(max=1000, message="Keep the note to 1000 characters or fewer")])
