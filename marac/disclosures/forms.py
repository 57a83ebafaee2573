"""The disclosure report's filters (read from the query string: dates and an agency id, nothing
personal) and the search for a person's report (by POST: a name and a date of birth)."""
import uuid

from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from marac.cases.forms import REFERENCE_RE
from marac.core.forms import AppForm, DateInputField, Required


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ReportFilterForm(AppForm):
    """Filters of a disclosure report: a range of dates (GOV.UK date inputs) and an agency."""

    class Meta:
        """Read from the query string: no CSRF token."""

        csrf = False

    date_from = DateInputField("From")
    date_to = DateInputField("To")
    agency_id = SelectField("Agency", validators=[Optional()],
                            description="Records shared with this agency, and events by its users")

    def set_choices(self, agencies):
        """The agencies to filter by, as (id, name) pairs, after "Any agency"."""
        self.agency_id.choices = [("", "Any agency")] + [(str(i), n) for i, n in agencies]

    def validate_date_to(self, field):
        """The end date is not before the start date."""
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date must be the same as or after the start date")

    def filters(self):
        """The filters as disclosures.services takes them."""
        return {"date_from": self.date_from.data, "date_to": self.date_to.data,
                "agency_id": uuid.UUID(self.agency_id.data) if self.agency_id.data else None}

    def names(self):
        """The names of the filters in use (what the report's audit event records; never their values)."""
        return [name for name, value in self.filters().items() if value]

    def args(self):
        """The filters as query-string arguments, for the pagination links and the CSV link."""
        args = {"agency_id": self.agency_id.data} if self.agency_id.data else {}
        for field in (self.date_from, self.date_to):
            if field.data:
                args.update({f"{field.name}-{part}": value for part, value in field.parts.items()})
        return args


class PersonReportForm(AppForm):
    """Find a person by their full name (or an alias) and date of birth, exactly as recorded. Sent by
    POST, so that nothing personal enters a URL or a log."""

    name = StringField("Full name", description="First and last name, exactly as recorded, or an alias",
                       filters=[_strip], validators=[Required("Enter the person's full name"),
                                                    Length(max=200, message="Full name must be 200 characters or fewer")])
    date_of_birth = DateInputField("Date of birth", validators=[Required("Enter the person's date of birth")])


class CaseReportForm(AppForm):
    """Find a case by its reference, for its disclosure report (a data protection officer has no case
    page to start from)."""

    reference = StringField("Case reference", description="For example MARAC-2026-0042", filters=[_strip],
                            validators=[Required("Enter the case reference"),
                                        Length(max=32, message="Case reference must be 32 characters or fewer")])

    def validate_reference(self, field):
        """Letters, digits and hyphens only: nothing else can match."""
        if field.data and not REFERENCE_RE.fullmatch(field.data):
            raise ValidationError("Enter a case reference like MARAC-2026-0042")
