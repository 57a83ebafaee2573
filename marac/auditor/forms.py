"""The auditor page's filters."""
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from marac.core.forms import AppForm, DateInputField


class AuditFilterForm(AppForm):
    """Filters for the auditor page. Read from the query string: ids and codes only, nothing personal."""

    class Meta:
        """Filters are read from the query string: no CSRF token."""

        csrf = False

    user_id = SelectField("User", validators=[Optional()])
    agency_id = SelectField("Agency", validators=[Optional()])
    action = StringField("Action", description="For example auth.sign_in, or auth. for all sign-in events",
                         validators=[Optional(), Length(max=64)])
    object_id = StringField("Object id", description="An event's object, or an id its detail names",
                            validators=[Optional(), Length(max=64)])
    date_from = DateInputField("From", past=False)  # GOV.UK date inputs, as every date on the app
    date_to = DateInputField("To", past=False)

    CRITERIA = ("user_id", "agency_id", "action", "object_id", "date_from", "date_to")

    def set_choices(self, users, agencies):
        """The users and agencies to filter by, as (id, name) pairs, after "Any"."""
        self.user_id.choices = [("", "Any user")] + [(str(i), n) for i, n in users]
        self.agency_id.choices = [("", "Any agency")] + [(str(i), n) for i, n in agencies]

    def validate_date_to(self, field):
        """The end date is not before the start date."""
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date must be the same as or after the start date")

    def criteria(self):
        """The filters as auditor.services.filtered() takes them."""
        return {name: self[name].data for name in self.CRITERIA}
