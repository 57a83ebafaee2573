"""Form building blocks: the confirmation form, GOV.UK date inputs, required-unless-draft, UK postcodes, choice lists."""
import datetime as dt
import re

from flask import g
from flask_wtf import FlaskForm
from wtforms import Field, FieldList, HiddenField, IntegerField, RadioField, SelectMultipleField, widgets
from wtforms.validators import StopValidation, ValidationError

from marac.core.timeutil import utcnow

# The shape of a UK postcode (outward code, space, inward code); not a check that it exists.
POSTCODE_RE = re.compile(r"^(GIR 0AA|[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2})$")


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change something."""


class VersionField(HiddenField):
    """The version of the object the form was loaded with (optimistic locking). A post without it
    reads as "" rather than None, so core.steps.check_version refuses it instead of skipping the check."""

    def process_formdata(self, valuelist):
        """Take the posted version; a missing one is ""."""
        self.data = valuelist[0] if valuelist else ""


def normalise_postcode(value):
    """Upper case with one space before the inward code: "sw1a1aa" -> "SW1A 1AA"."""
    compact = re.sub(r"\s+", "", value or "").upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


class Required:
    """Like DataRequired, except while a draft is being saved (g.saving_draft): then an empty field
    passes and is finished later."""

    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        empty = field.data is None or field.data == [] or (isinstance(field.data, str) and not field.data.strip())
        if not empty:
            return
        if field.process_errors:
            # Something was typed but could not be read (a date of 31 February): keep that message.
            raise StopValidation()
        field.errors[:] = []
        if g.get("saving_draft"):
            raise StopValidation()
        raise StopValidation(self.message)


class Postcode:
    """Validator: the shape of a UK postcode; normalises the field's data when it fits."""
    def __init__(self, message="Enter a real postcode, like SW1A 1AA"):
        self.message = message

    def __call__(self, form, field):
        if field.data:
            normalised = normalise_postcode(field.data)
            if not POSTCODE_RE.match(normalised):
                raise ValidationError(self.message)  # and the form shows the postcode as typed
            field.data = normalised


class DateInputField(Field):
    """The GOV.UK date input: three boxes named <name>-day, <name>-month, <name>-year."""

    def __init__(self, label=None, validators=None, past=True, not_before=dt.date(1900, 1, 1), **kwargs):
        super().__init__(label, validators, **kwargs)
        self.past, self.not_before = past, not_before
        self.parts = {"day": "", "month": "", "year": ""}

    def process(self, formdata, data=None, extra_filters=None):
        """Read the three boxes (keeping what was typed) or a date given as data."""
        self.process_errors = []
        self.data = None
        if formdata is not None and any(f"{self.name}-{p}" in formdata for p in self.parts):
            self.parts = {p: (formdata.get(f"{self.name}-{p}") or "").strip()[:8] for p in self.parts}
            if not any(self.parts.values()):
                return
            try:
                self.data = dt.date(int(self.parts["year"]), int(self.parts["month"]), int(self.parts["day"]))
            except (ValueError, TypeError):
                missing = [p for p, v in self.parts.items() if not v]
                self.process_errors.append(
                    f"{self.label.text} must include a {missing[0]}" if missing and len(missing) < 3
                    else f"{self.label.text} must be a real date")
            else:
                if self.data.year < 1000:
                    self.data = None
                    self.process_errors.append(f"{self.label.text} must include a 4-digit year")
            return
        if isinstance(data, str) and data:
            data = dt.date.fromisoformat(data)
        if isinstance(data, dt.date):
            self.data = data
            self.parts = {"day": str(data.day), "month": str(data.month), "year": str(data.year)}

    def pre_validate(self, form):
        """Check the date against `past` and `not_before`."""
        if self.data is None:
            return
        if self.past and self.data > utcnow().date():
            raise ValidationError(f"{self.label.text} must be today or in the past")
        if self.data < self.not_before:
            raise ValidationError(f"{self.label.text} must be after {self.not_before.year}")


class WholeNumberField(IntegerField):
    """An integer field with a GOV.UK style message for text that is not a whole number."""

    def process_formdata(self, valuelist):
        """Read a whole number; an empty box is None."""
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = int(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError(f"{self.label.text} must be a whole number, like 3") from None


class CheckboxesField(SelectMultipleField):
    """Several choices as GOV.UK checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def choices(mapping, prompt=None):
    """(value, label) pairs of a mapping, after an empty prompt when one is given."""
    items = list(mapping.items())
    return [("", prompt)] + items if prompt else items


class RadiosField(RadioField):
    """GOV.UK radios that may be left unanswered: no choice is not an invalid choice (a Required
    validator, when there is one, asks for an answer)."""

    def pre_validate(self, form):
        """No answer passes here; a Required validator asks for one."""
        if self.data in ("", None):
            return
        super().pre_validate(form)


class EntryList(FieldList):
    """A FieldList whose entry numbers must be ASCII digits: WTForms takes any key whose number
    passes str.isdigit(), and int() then fails on "perpetrators-²-first_names" (a server error)."""

    def _extract_indices(self, prefix, formdata):
        offset = len(prefix) + 1
        for key in formdata:
            if key.startswith(prefix):
                number = key[offset:].split(self._field_separator, 1)[0]
                if number.isascii() and number.isdigit():
                    yield int(number)


def flat_errors(form):
    """(anchor id, message) for every error in the form, nested forms and lists included, in order."""
    from wtforms import FieldList, FormField

    found = [("main-content", message) for message in getattr(form, "form_errors", [])]

    def walk(field):
        if isinstance(field, FormField):
            for sub in field.form:
                walk(sub)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                walk(entry)
            found.extend((field.id, e) for e in field.errors if isinstance(e, str))
        else:
            anchor = f"{field.id}-day" if isinstance(field, DateInputField) else field.id
            if getattr(field, "type", "") in ("RadioField", "RadiosField", "CheckboxesField"):
                anchor = f"{field.id}-0"
            found.extend((anchor, error) for error in field.errors if isinstance(error, str))

    for field in form:
        walk(field)
    return found
