"""Form building blocks: the base of every form (text fields read from the posted text only), the
form accepted once, the confirmation form, GOV.UK date inputs, required-unless-draft, UK postcodes,
choice lists."""
import datetime as dt
import re
import secrets
import uuid
from datetime import datetime
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, has_request_context, redirect, request
from flask_login import current_user
from flask_wtf import FlaskForm
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import String, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import Field, FieldList, FormField, HiddenField, IntegerField, RadioField, SelectMultipleField, widgets
from wtforms.validators import StopValidation, ValidationError

from marac.core.db import UTCDateTime
from marac.core.timeutil import utcnow
from marac.extensions import db

# The shape of a UK postcode (outward code, space, inward code); not a check that it exists.
POSTCODE_RE = re.compile(r"^(GIR 0AA|[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2})$")

SUBMIT_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_POSTED = object()  # "read the form from the request", the default of AppForm's formdata

NOT_A_FILE = "{label} must be typed in, not a file"
NO_FILES = "This form does not take files. Remove the file and send the form again."
FORM_EXPIRED = ("This form was open too long, or came from another session. Check your answers and send it "
                "again.")
ALREADY_SENT = "You have already sent this form. This is what it made; nothing was made twice."
ALREADY_SENT_HERE = ("You have already sent this form, so it was not sent again. To make another, open the "
                     "form again.")


def posted_text():
    """The posted form fields of this request, text only, or None when nothing was posted as a form.

    Flask-WTF would read uploaded files (and a JSON body) as field values: a file in a text field
    reached the validators as a FileStorage and failed them (a server error). No form here takes a
    file or JSON, so a form reads request.form alone; AppForm.validate refuses any file sent."""
    if not has_request_context() or request.method not in SUBMIT_METHODS:
        return None
    if request.form or request.files:
        return request.form
    return None


def refuse_nameless_fields():
    """before_request, ahead of the CSRF check: a multipart part without a name (no browser sends one)
    is a bad request. Werkzeug keys it None, and whatever iterates the form's names then fails."""
    if request.method in SUBMIT_METHODS and (None in request.form or None in request.files):
        abort(400)


def _leaf_fields(form):
    """Every field of a form that holds a value, nested forms and lists included."""
    for field in form:
        if isinstance(field, FormField):
            yield from _leaf_fields(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                yield from _leaf_fields(entry.form) if isinstance(entry, FormField) else [entry]
        else:
            yield field


class AppForm(FlaskForm):
    """The base of every form of the app: what was typed is read from the posted text fields only.

    A file uploaded where text is expected is an error on that field ("Name must be typed in, not a
    file"), or on the form when it names no field; a JSON body is not read as a form. Forms given
    their data explicitly (a query string, formdata=None) read it as given."""

    def __init__(self, formdata=_POSTED, **kwargs):
        self._from_request = formdata is _POSTED
        super().__init__(formdata=posted_text() if formdata is _POSTED else formdata, **kwargs)

    def validate(self, extra_validators=None):
        """The fields' own validation, then a refusal of every file sent with the form."""
        valid = super().validate(extra_validators)
        return self._refuse_files() and valid

    def _refuse_files(self):
        if not (self._from_request and has_request_context() and request.files):
            return True
        fields = sorted(_leaf_fields(self), key=lambda f: len(f.name), reverse=True)
        for name in request.files:
            # A date's boxes are <name>-day, -month and -year: the longest field name the key starts with.
            field = next((f for f in fields if name == f.name or name.startswith(f"{f.name}-")), None)
            if field is None:
                if NO_FILES not in self.form_errors:
                    self.form_errors.append(NO_FILES)
            else:
                # The field's other errors come from its missing text: this one says why it is missing.
                field.errors = [NOT_A_FILE.format(label=field.label.text or "This field")]
        return False


# --- a form accepted once --------------------------------------------------------------------

class SpentFormToken(db.Model):
    """A one-time form token that has been used: its nonce, when, and where its submission led (the
    page of what it made), so that sending the same form again shows that page instead of making a
    second one. Holds no personal data; rows older than a session's lifetime are pruned."""

    __tablename__ = "spent_form_tokens"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    spent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    result_url: Mapped[str | None] = mapped_column(String(300))


class _ClockSigner(TimestampSigner):
    """Tokens dated by the app's one clock (core.timeutil), which tests can move."""

    def get_timestamp(self):
        return int(utcnow().timestamp())


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="marac-form-token", signer=_ClockSigner)


def _token_lifetime():
    return current_app.config["SESSION_ABSOLUTE_TIMEOUT"]


def _actor_id():
    return str(current_user.get_id() or "") if has_request_context() else ""


def issue_form_token():
    """A new one-time token for a form being shown: a random nonce signed with the user's id."""
    return _serializer().dumps([secrets.token_urlsafe(16), _actor_id()])


def form_token_nonce(token):
    """The nonce of a token this app issued to this user within a session's lifetime, or None."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    try:
        nonce, actor = _serializer().loads(token, max_age=int(_token_lifetime().total_seconds()))
    except (BadData, TypeError, ValueError):
        return None
    return nonce if isinstance(nonce, str) and len(nonce) <= 32 and actor == _actor_id() else None


def _claim(nonce):
    """Record the nonce as spent, in this request's transaction (a refused step rolls it back with
    everything else). None when claimed; the row when another request claimed it first: two posts at
    once both insert the same primary key, and the second waits for the first and fails."""
    now = utcnow()
    db.session.execute(delete(SpentFormToken).where(SpentFormToken.spent_at < now - _token_lifetime()))
    row = SpentFormToken(nonce=nonce, spent_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return db.session.get(SpentFormToken, nonce, populate_existing=True)
    g.spent_form_token = row
    return None


def remember_where_a_form_led(response):
    """after_request (before the commit at the edge): the page a once-only form's submission led to,
    kept with its spent token, so that a second submission of the same form is sent there."""
    row = g.pop("spent_form_token", None)
    if row is not None and response.status_code in (301, 302, 303) and row in db.session:
        location = urlsplit(response.location or "")
        if location.path.startswith("/") and not location.path.startswith("//"):
            target = location.path + (f"?{location.query}" if location.query else "")
            row.result_url = target[:300]
    return response


class FormTokenField(HiddenField):
    """The one-time token of a form that makes something; a new one is issued each time the form is
    shown afresh (a form shown again with errors keeps the one it was sent with)."""

    def process_data(self, value):
        """Never taken from an object or stored answers: only a posted token is a token."""
        self.data = None

    def _value(self):
        if not self.data:
            self.data = issue_form_token()
        return self.data


class OnceForm(AppForm):
    """A form that makes something (a referral, a meeting, an action, an attendee...): accepted once.

    Its one-time token is spent by the submission that validates, in the request's transaction: a
    refused step rolls the spending back, so the corrected form can be sent again. The same form sent
    again (a double click, the back button, a replay) makes nothing: it is sent to the page the first
    submission led to, with a message, or shown with the message when that is not known."""

    form_token = FormTokenField()

    @property
    def data(self):
        """What was typed, without the token (it is no answer, and must never be stored as one)."""
        return {name: f.data for name, f in self._fields.items() if name != "form_token"}

    def validate(self, extra_validators=None):
        """The fields' validation, then the token: unreadable or from elsewhere, the form is shown again
        with a new one; already spent, nothing is made a second time."""
        valid = super().validate(extra_validators)
        nonce = form_token_nonce(self.form_token.data)
        if nonce is None:
            self.form_token.data = None  # shown again with a fresh token; nothing typed is lost
            self.form_errors.append(FORM_EXPIRED)
            return False
        if getattr(g.get("spent_form_token"), "nonce", None) == nonce:
            return valid  # validated a second time in the request that spent it
        spent = db.session.get(SpentFormToken, nonce)
        if spent is None and valid:
            spent = _claim(nonce)
        if spent is not None:
            if spent.result_url:
                flash(ALREADY_SENT)
                abort(redirect(spent.result_url))
            self.form_errors.append(ALREADY_SENT_HERE)
            return False
        return valid


class ConfirmForm(AppForm):
    """A form with only its CSRF token, for buttons that change something."""


class ChosenIds(SelectMultipleField):
    """The rows ticked on a list (checkboxes of one name, each a row's UUID): a value that is not a UUID
    is left out rather than refused, so a tampered list loses only what it forged."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, validate_choice=False, **kwargs)

    def ids(self):
        """The UUIDs ticked, each once, in the order posted."""
        chosen = []
        for value in self.data or []:
            try:
                chosen.append(uuid.UUID(str(value)))
            except ValueError:
                continue
        return list(dict.fromkeys(chosen))


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
