"""Sign-in, code and password forms."""
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from marac.auth.passwords import MAX_LENGTH, password_problem
from marac.core.forms import AppForm
from marac.auth.totp import is_code, normalise_code

CODE_SHAPE = "The security code must be 6 digits"


def code_field(validators):
    """The security code box: what is typed is read as ASCII digits (totp.normalise_code) before any
    check, so a code typed in full-width or other digits works, and anything else gets a message."""
    return StringField("Security code", validators=validators, filters=[normalise_code])


def check_code_shape(form, field):
    """Six digits (spaces allowed), when a code was given."""
    if field.data and not is_code(field.data):
        raise ValidationError(CODE_SHAPE)


class SignInForm(AppForm):
    """Email address and password, the first step of signing in."""

    email = StringField("Email address", validators=[
        DataRequired("Enter your email address"), Length(max=254, message="Email address is too long")])
    password = PasswordField("Password", validators=[
        DataRequired("Enter your password"), Length(max=MAX_LENGTH, message="Password is too long")])
    # Asked for only while the client address is held back (auth/throttle.py): then the code comes
    # with the password, in one step.
    code = code_field([Optional(), check_code_shape])


class CodeForm(AppForm):
    """A 6-digit TOTP code, to sign in or to enrol an authenticator."""

    code = code_field([DataRequired("Enter the 6-digit code from your authenticator app"), check_code_shape])


class ChangePasswordForm(AppForm):
    """The current password and a new one, twice; the new one must pass password_problem()."""

    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password")])
    new_password = PasswordField("New password", validators=[DataRequired("Enter a new password")])
    confirm_password = PasswordField("Confirm new password", validators=[
        DataRequired("Confirm your new password"),
        EqualTo("new_password", message="The passwords do not match")])

    def __init__(self, *args, email=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._email = email

    def validate_new_password(self, field):
        """Long and varied enough, and not the current password."""
        problem = password_problem(field.data or "", self._email)
        if problem:
            raise ValidationError(problem)
        if field.data == self.current_password.data:
            raise ValidationError("New password must be different from your current password")
