"""The administrator's form of a panel's retention schedule."""
from wtforms.validators import Optional

from marac.core.forms import AppForm, Required, WholeNumberField


class ScheduleForm(AppForm):
    """Years kept after the panel's basis, and (MACE) the age the young person must reach. The ranges
    are checked by retention.services.update_schedule, whose messages land on these fields."""

    years = WholeNumberField("Years kept", validators=[Required("Enter how many years cases are kept")])
    age_limit = WholeNumberField("Age the young person must reach", validators=[Optional()])
