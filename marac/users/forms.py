"""The user account form."""
import unicodedata

from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from marac.agencies.forms import agency_choices
from marac.core.forms import AppForm


def printable(form, field):
    """Refuse control characters (a NUL, which PostgreSQL cannot store, and the like) in a name."""
    if isinstance(field.data, str) and any(unicodedata.category(char) == "Cc" for char in field.data):
        raise ValidationError(f"{field.label.text.removesuffix(' (optional)')} must not contain control characters")


class UserForm(AppForm):
    """Add or edit an account; the agency choices are set from the active agencies."""

    full_name = StringField("Full name", validators=[
        DataRequired("Enter the user's full name"), Length(max=120, message="Full name must be 120 characters or fewer"),
        printable])
    email = StringField("Work email address", validators=[
        DataRequired("Enter a work email address"),
        Email("Enter an email address in the correct format, like name@example.org", check_deliverability=False),
        Length(max=254, message="Email address must be 254 characters or fewer")])
    job_title = StringField("Job title (optional)", validators=[
        Optional(), Length(max=120, message="Job title must be 120 characters or fewer"), printable])
    agency_id = SelectField("Agency", validators=[DataRequired("Choose the user's agency")])
    is_admin = BooleanField("Administrator (manages agencies, users and panels)")
    is_dpo = BooleanField("Data protection officer (subject access requests and disclosure reports for every panel)")

    def set_agencies(self, agencies):
        """The agencies to choose from, after a prompt."""
        self.agency_id.choices = agency_choices(agencies)
