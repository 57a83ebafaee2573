"""The account page's choice of optional emails."""
from marac.core.forms import AppForm, CheckboxesField
from marac.notifications.models import OPTIONAL_KINDS, EmailKind


class EmailPreferencesForm(AppForm):
    """The optional kinds of email to keep receiving (those not ticked are turned off)."""

    wanted = CheckboxesField("Emails to receive", choices=EmailKind.choices(OPTIONAL_KINDS),
                             description="Untick those you do not want. The publication of an agenda and a "
                                         "manager's chase of your agency's action are always sent.")
