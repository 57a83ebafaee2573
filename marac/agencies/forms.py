"""The agency form."""
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from marac.agencies.models import AgencyKind
from marac.core.forms import OnceForm


def agency_choices(agencies):
    """Select choices for agencies, (id, name) after a prompt: a user's agency, a panel's new member."""
    return [("", "Choose an agency")] + [(str(a.id), a.name) for a in agencies]


class AgencyForm(OnceForm):
    """Add or edit an agency (Active is shown when editing only)."""

    name = StringField("Name", validators=[
        DataRequired("Enter the agency's name"), Length(max=120, message="Name must be 120 characters or fewer")])
    short_name = StringField("Short name", description="For lists and registers, for example 'Met Police'",
                             validators=[DataRequired("Enter a short name"),
                                         Length(max=24, message="Short name must be 24 characters or fewer"),
                                         Regexp(r"^[\w .&'()-]+$", message="Short name may use letters, numbers, spaces and . & ' ( ) -")])
    kind = SelectField("Kind of agency", choices=[("", "Choose a kind")] + AgencyKind.choices(),
                       validators=[DataRequired("Choose the kind of agency")])
    is_active = BooleanField("Active", default=True)
