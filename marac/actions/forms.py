"""Forms of actions: agreeing one at a hearing, recording progress, chasing, filtering the lists."""
import datetime as dt
import uuid

from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from marac.actions.models import OVERDUE, ActionStatus, UpdateKind
from marac.core.forms import AppForm, ChosenIds, DateInputField, OnceForm, Required, VersionField

ALL = "all"  # the list filter's choice for every status


def _agency_id(value):
    return uuid.UUID(str(value)) if value else None


class ActionForm(OnceForm):
    """An action agreed at a hearing."""

    owner_agency_id = SelectField("Owner agency", coerce=_agency_id,
                                  validators=[Required("Choose the agency that owns the action")])
    description = TextAreaField("Action", validators=[Required("Describe the action"),
                                                      Length(max=2000, message="Keep the action to 2000 characters or fewer")])
    due_on = DateInputField("Due", past=False, validators=[Required("Enter the due date")])
    named_person = StringField("Named person (optional)", validators=[
        Optional(), Length(max=120, message="Name must be 120 characters or fewer")])


def action_form(meeting):
    """The action form of a hearing at the meeting: a member agency of the panel owns the action,
    due by default the panel's number of days after the meeting."""
    panel = meeting.panel
    form = ActionForm(prefix="action")
    agencies = sorted((m.agency for m in panel.members), key=lambda a: a.name)
    form.owner_agency_id.choices = [("", "Choose")] + [(str(a.id), a.name) for a in agencies]
    if not form.is_submitted():
        form.due_on.process(None, meeting.meets_on + dt.timedelta(days=panel.action_due_days))
    return form


class ActionUpdateForm(AppForm):
    """Progress on an action, or its completion."""

    version = VersionField()
    kind = RadioField("Update", choices=[(UpdateKind.PROGRESS, "Progress note"), (UpdateKind.COMPLETED, "Completed")],
                      validators=[Required("Choose progress or completed")], default=UpdateKind.PROGRESS)
    note = TextAreaField("Note", validators=[Required("Write a note"),
                                             Length(max=3000, message="Keep the note to 3000 characters or fewer")])


class ChaseForm(AppForm):
    """The manager's chase of the owner agency."""

    version = VersionField()
    note = TextAreaField("Chase note", validators=[Required("Say how you chased it"),
                                                   Length(max=1000, message="Keep the note to 1000 characters or fewer")])


class ActionFilterForm(AppForm):
    """Which actions a list shows: status (or overdue), owner agency (the manager's list) and due dates
    (GOV.UK date inputs). A GET form: no CSRF token; an unknown value is left out, a date that cannot be
    read is an error on its field."""

    class Meta:
        csrf = False

    status = SelectField("Status", choices=[(ActionStatus.OPEN, ActionStatus.OPEN.label), (OVERDUE, "Overdue")]
                         + [c for c in ActionStatus.choices() if c[0] != ActionStatus.OPEN] + [(ALL, "All")],
                         default=ActionStatus.OPEN, validate_choice=False)
    owner_agency_id = SelectField("Owner agency", validate_choice=False)
    due_from = DateInputField("Due from", past=False)
    due_to = DateInputField("Due to", past=False)

    def __init__(self, formdata, agencies=()):
        super().__init__(formdata)
        self.owner_agency_id.choices = [("", "Any")] + [(str(a.id), a.name) for a in agencies]

    def filters(self):
        """{name: value} of the filters asked for (after validate): status (open when none is asked for;
        None for all), owner agency and the due dates, known values only."""
        status = self.status.data or ActionStatus.OPEN
        filters = {"status": status if status in ActionStatus.values() or status == OVERDUE else None}
        if self.owner_agency_id.data in {value for value, _ in self.owner_agency_id.choices if value}:
            filters["owner_agency_id"] = uuid.UUID(self.owner_agency_id.data)
        for field in (self.due_from, self.due_to):
            if field.data and not field.errors:
                filters[field.name] = field.data
        return filters

    def query_args(self):
        """The filters as query arguments, for the pages of the list."""
        args = {"status": self.status.data or ActionStatus.OPEN, "owner_agency_id": self.owner_agency_id.data or ""}
        for field in (self.due_from, self.due_to):
            args.update({f"{field.name}-{part}": value for part, value in field.parts.items()})
        return {key: value for key, value in args.items() if value}


class BulkChaseForm(AppForm):
    """The manager chases several actions at once: the ones ticked, with one note."""

    action_ids = ChosenIds("Actions to chase", validators=[Required("Choose the actions to chase")])
    note = TextAreaField("Chase note", validators=[Required("Say how you chased them"),
                                                   Length(max=1000, message="Keep the note to 1000 characters or fewer")])

