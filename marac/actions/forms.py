"""Forms of actions: agreeing one at a hearing, recording progress, chasing, filtering the lists."""
import datetime as dt
import uuid

from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from marac.actions.models import ActionCorrection, ActionStatus, UpdateKind
from marac.core.forms import AppForm, DateInputField, OnceForm, RadiosField, Required, VersionField, posted_text

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


def action_form(meeting, fresh=False):
    """The action form of a hearing at the meeting: a member agency of the panel owns the action,
    due by default the panel's number of days after the meeting. `fresh`: empty, for the next action,
    whatever was posted."""
    panel = meeting.panel
    form = ActionForm(prefix="action", **({"formdata": None} if fresh else {}))
    agencies = sorted((m.agency for m in panel.members), key=lambda a: a.name)
    form.owner_agency_id.choices = [("", "Choose")] + [(str(a.id), a.name) for a in agencies]
    if fresh or not form.is_submitted():
        form.due_on.process(None, meeting.meets_on + dt.timedelta(days=panel.action_due_days))
    return form


class CorrectActionForm(AppForm):
    """A correction to an action agreed at a hearing, with its reason (until the minutes are final)."""

    version = VersionField()
    owner_agency_id = ActionForm.owner_agency_id
    description = ActionForm.description
    due_on = ActionForm.due_on
    named_person = ActionForm.named_person
    reason = RadiosField("Why are you correcting it?", choices=ActionCorrection.choices(ActionCorrection.corrections()),
                         validators=[Required("Choose why you are correcting the action")])


def correct_action_form(action):
    """The correction form, starting from the action as agreed."""
    if posted_text():
        form = CorrectActionForm()
    else:
        form = CorrectActionForm(data={"version": str(action.version), "owner_agency_id": action.owner_agency_id,
                                       "description": action.description, "named_person": action.named_person,
                                       "due_on": action.due_on})
    agencies = sorted((m.agency for m in action.item.meeting.panel.members), key=lambda a: a.name)
    form.owner_agency_id.choices = [("", "Choose")] + [(str(a.id), a.name) for a in agencies]
    return form


class RemoveActionForm(AppForm):
    """Removing an action agreed in error, with its reason."""

    reason = RadiosField("Why are you removing it?", choices=ActionCorrection.choices(ActionCorrection.removals()),
                         validators=[Required("Choose why you are removing the action")])


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
    """Which actions a list shows (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    status = SelectField("Show", choices=ActionStatus.choices() + [(ALL, "All")], default=ActionStatus.OPEN)

    def chosen(self):
        """The status to list (open when none is asked for), or None for all."""
        return self.status.data if self.status.data in ActionStatus.values() else None
