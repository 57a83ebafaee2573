"""Forms of transfers: sending a case to another area's MARAC, and recording one received."""
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from marac.core.forms import DateInputField, OnceForm, Required, VersionField

AREA_MAX, CONTACT_MAX, REFERENCE_MAX = 200, 1000, 64


class TransferOutForm(OnceForm):
    """The receiving MARAC and its coordinator, and the date of the transfer; the case's version."""

    version = VersionField()
    area = StringField("Receiving MARAC", validators=[
        Required("Enter the receiving MARAC"),
        Length(max=AREA_MAX, message=f"Keep the receiving MARAC to {AREA_MAX} characters or fewer")])
    contact = TextAreaField("Coordinator's contact details", validators=[
        Required("Enter how to reach the receiving MARAC's coordinator"),
        Length(max=CONTACT_MAX, message=f"Keep the contact details to {CONTACT_MAX} characters or fewer")])
    transferred_on = DateInputField("Date of the transfer", validators=[Required("Enter the date of the transfer")])


class TransferInForm(OnceForm):
    """Where a case received comes from: the originating MARAC, its coordinator, its reference and the
    date the packet was received."""

    area = StringField("Originating MARAC", validators=[
        Required("Enter the MARAC the case comes from"),
        Length(max=AREA_MAX, message=f"Keep the originating MARAC to {AREA_MAX} characters or fewer")])
    their_reference = StringField("Their reference", validators=[
        Optional(), Length(max=REFERENCE_MAX, message=f"Keep their reference to {REFERENCE_MAX} characters or fewer")])
    contact = TextAreaField("Coordinator's contact details", validators=[
        Optional(), Length(max=CONTACT_MAX, message=f"Keep the contact details to {CONTACT_MAX} characters or fewer")])
    transferred_on = DateInputField("Date the transfer packet was received",
                                    validators=[Required("Enter the date the transfer packet was received")])
