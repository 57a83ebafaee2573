from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError


class AuditFilterForm(FlaskForm):
    """Filters for the auditor page. Read from the query string: ids and codes only, nothing personal."""

    class Meta:
        csrf = False

    user_id = SelectField("User", validators=[Optional()])
    agency_id = SelectField("Agency", validators=[Optional()])
    action = StringField("Action", description="For example auth.sign_in, or auth. for all sign-in events",
                         validators=[Optional(), Length(max=64)])
    object_id = StringField("Object id", validators=[Optional(), Length(max=64)])
    date_from = DateField("From (YYYY-MM-DD)", validators=[Optional()], format="%Y-%m-%d")
    date_to = DateField("To (YYYY-MM-DD)", validators=[Optional()], format="%Y-%m-%d")

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date must be the same as or after the start date")
