"""The forms of subject access: recording a request, its status and extension, confirming the cases,
and correcting the subject's details."""
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from marac.core.forms import (AppForm, CheckboxesField, DateInputField, OnceForm, Postcode, RadiosField, Required,
                              VersionField)
from marac.subjects.models import MAX_EXTENSION_MONTHS, Requester, RequestStatus


def _text(label, limit, required=None):
    validators = [Required(required)] if required else [Optional()]
    return StringField(label, validators=[*validators, Length(max=limit, message=f"{label} is too long")])


def _area(label, limit, required=None):
    validators = [Required(required)] if required else [Optional()]
    return TextAreaField(label, validators=[
        *validators, Length(max=limit, message=f"Keep this to {limit} characters or fewer")])


class RequestForm(OnceForm):
    """A subject access request as received."""

    received_on = DateInputField("Date received", validators=[Required("Enter the date the request was received")])
    requester = RadiosField("Who made the request", choices=Requester.choices(),
                            validators=[Required("Say who made the request")])
    identity_checked = BooleanField("The requester's identity has been checked")
    subject_name = _text("Full name of the person the request is about", 200,
                         "Enter the full name of the person the request is about")
    date_of_birth = DateInputField("Their date of birth", validators=[Required("Enter their date of birth")])
    notes = _area("Notes (optional)", 3000)


class StatusForm(AppForm):
    """Where the request stands now."""

    version = VersionField()
    status = RadiosField("Where the request stands",
                         choices=RequestStatus.choices([s for s in RequestStatus if s != RequestStatus.RECEIVED]),
                         validators=[Required("Choose where the request stands")])
    reason = _area("Reason (needed to refuse)", 2000)


class ExtendForm(AppForm):
    """An extension of the deadline."""

    version = VersionField()
    months = RadiosField("Extend by", choices=[(str(n), f"{n} month{'s' if n > 1 else ''}")
                                               for n in range(1, MAX_EXTENSION_MONTHS + 1)],
                         validators=[Required("Choose how many months to extend by")])
    reason = _area("Why the request needs longer", 2000, "Give the reason for the extension")


class ConfirmCasesForm(AppForm):
    """Which of the matches are the subject (checkbox values: case id and place, from the service)."""

    version = VersionField()
    cases = CheckboxesField("The cases that are about this person", validate_choice=False)


class RectifyForm(AppForm):
    """The corrected details; a box left empty keeps what is recorded."""

    version = VersionField()
    first_names = _text("First names", 120)
    last_name = _text("Last name", 120)
    aliases = _text("Other names (separate them with ;)", 300)
    date_of_birth = DateInputField("Date of birth")
    address = _area("Address", 300)
    postcode = StringField("Postcode", validators=[Optional(), Postcode()])
    phone = _text("Phone", 40)
    reason = _area("Why the details are being corrected", 2000, "Give the reason for the correction")

    def changes(self):
        """{detail: corrected value} of the boxes filled in."""
        found = {}
        for name in ("first_names", "last_name", "aliases", "date_of_birth", "address", "postcode", "phone"):
            value = self[name].data
            value = value.strip() if isinstance(value, str) else value
            if value not in (None, ""):
                found[name] = value
        return found
