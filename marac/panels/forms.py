from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from marac.panels.models import CADENCES, PANEL_KINDS, ROLES, WEEKDAYS


class PanelForm(FlaskForm):
    kind = SelectField("Kind of panel", choices=[("", "Choose a kind")] + list(PANEL_KINDS.items()),
                       validators=[DataRequired("Choose the kind of panel")])
    name = StringField("Name", validators=[
        DataRequired("Enter the panel's name"), Length(max=120, message="Name must be 120 characters or fewer")])
    area = StringField("Area", description="The local authority area the panel covers", validators=[
        DataRequired("Enter the area the panel covers"), Length(max=120, message="Area must be 120 characters or fewer")])
    cadence = SelectField("Meets", choices=[("", "Choose how often")] + list(CADENCES.items()),
                          validators=[DataRequired("Choose how often the panel meets")])
    weekday = SelectField("Day of the week", choices=[("", "Choose a day")] + [(str(i), d) for i, d in enumerate(WEEKDAYS)],
                          validators=[DataRequired("Choose the day the panel meets")])
    agenda_lead_days = IntegerField(
        "Agenda circulated this many working days before the meeting",
        validators=[InputRequired("Enter the number of working days, for example 8"),
                    NumberRange(min=1, max=20, message="Working days must be between 1 and 20")])
    capacity = IntegerField(
        "Cases per meeting", validators=[InputRequired("Enter how many cases a meeting can hear, for example 25"),
                                         NumberRange(min=1, max=100, message="Cases per meeting must be between 1 and 100")])
    is_active = BooleanField("Active", default=True)


class MemberForm(FlaskForm):
    agency_id = SelectField("Agency", validators=[DataRequired("Choose an agency")])
    is_core = BooleanField("Core member (expected at every meeting)", default=True)


class RoleForm(FlaskForm):
    user_id = SelectField("User", validators=[DataRequired("Choose a user")])
    role = SelectField("Role", choices=[("", "Choose a role")] + list(ROLES.items()),
                       validators=[DataRequired("Choose a role")])
