"""Sign-in, code and password forms."""
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from marac.auth.passwords import MAX_LENGTH, password_problem
from marac.core.forms import AppForm


class SignInForm(AppForm):
    """Email address and password, the first step of signing in."""

    email = StringField("Email address", validators=[
        DataRequired("Enter your email address"), Length(max=254, message="Email address is too long")])
    password = PasswordField("Password", validators=[
        DataRequired("Enter your password"), Length(max=MAX_LENGTH, message="Password is too long")])


class CodeForm(AppForm):
    """A 6-digit TOTP code, to sign in or to enrol an authenticator."""

    code = StringField("Security code", validators=[DataRequired("Enter the 6-digit code from your authenticator app")])

    def validate_code(self, field):
        """Six digits (spaces allowed)."""
        value = (field.data or "").replace(" ", "")
        if not (value.isdigit() and len(value) == 6):
            raise ValidationError("The security code must be 6 digits")


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
