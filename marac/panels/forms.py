"""The panel, member agency and role forms."""
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from marac.agencies.forms import agency_choices
from marac.core.forms import OnceForm
from marac.panels.models import WEEKDAYS, Cadence, PanelKind, Role


class PanelForm(OnceForm):
    """Add or edit a panel's settings (Active is shown when editing only)."""

    kind = SelectField("Kind of panel", choices=[("", "Choose a kind")] + PanelKind.choices(),
                       validators=[DataRequired("Choose the kind of panel")])
    name = StringField("Name", validators=[
        DataRequired("Enter the panel's name"), Length(max=120, message="Name must be 120 characters or fewer")])
    area = StringField("Area", description="The local authority area the panel covers", validators=[
        DataRequired("Enter the area the panel covers"), Length(max=120, message="Area must be 120 characters or fewer")])
    cadence = SelectField("Meets", choices=[("", "Choose how often")] + Cadence.choices(),
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

    FIELDS = ("kind", "name", "area", "cadence", "agenda_lead_days", "capacity", "is_active")

    def values(self):
        """The panel's settings as the services take them: names trimmed, the weekday a number."""
        values = {name: self[name].data for name in self.FIELDS}
        values["name"], values["area"] = values["name"].strip(), values["area"].strip()
        values["weekday"] = int(self.weekday.data)
        return values


class MemberForm(OnceForm):
    """Add an agency to a panel; the choices are the active agencies not on it yet."""

    agency_id = SelectField("Agency", validators=[DataRequired("Choose an agency")])
    is_core = BooleanField("Core member (expected at every meeting)", default=True)

    def set_agencies(self, agencies):
        """The agencies to choose from, after a prompt."""
        self.agency_id.choices = agency_choices(agencies)


class RoleForm(OnceForm):
    """Give a user a role on a panel; the choices are the active users."""

    user_id = SelectField("User", validators=[DataRequired("Choose a user")])
    role = SelectField("Role", choices=[("", "Choose a role")] + Role.choices(),
                       validators=[DataRequired("Choose a role")])

    def set_users(self, users):
        """The users to choose from, with their agency, after a prompt."""
        self.user_id.choices = [("", "Choose a user")] + [(str(u.id), f"{u.full_name} ({u.agency.short_name})")
                                                          for u in users]
