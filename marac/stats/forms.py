"""The statistics page's choice of period (read from the query string) and the panel manager's
statistics settings."""
import datetime as dt
from decimal import Decimal, InvalidOperation

from wtforms import Field, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from marac.core.forms import AppForm, DateInputField, RadiosField, WholeNumberField
from marac.stats import figures
from marac.stats.models import PeriodKind

LONGEST_RANGE_DAYS = 3653  # ten years
EARLIEST = dt.date(2000, 1, 1)


class PeriodForm(AppForm):
    """Which period the page covers: a quarter (the last complete one unless chosen), the last 12
    months, a financial year, or dates chosen with GOV.UK date inputs. Codes and dates only."""

    class Meta:
        """Read from the query string: no CSRF token."""

        csrf = False

    period = RadiosField("Period", choices=PeriodKind.choices(), default=PeriodKind.QUARTER)
    quarter = SelectField("Quarter", validate_choice=False)
    year = SelectField("Financial year", validate_choice=False)
    start = DateInputField("From", not_before=EARLIEST)
    end = DateInputField("To", not_before=EARLIEST)

    def __init__(self, formdata, today):
        super().__init__(formdata)
        self.today = today
        self.quarters = figures.recent_quarters(today)
        self.quarter.choices = [(figures.quarter_code(q), q.label) for q in self.quarters]
        self.years = figures.recent_financial_years(today)
        self.year.choices = [(str(y), figures.financial_year(y, today).label) for y in self.years]
        if not self.quarter.data:
            self.quarter.data = self.quarter.choices[0][0]
        if not self.year.data:
            self.year.data = self.year.choices[1][0]  # the last complete financial year
        if self.period.data not in PeriodKind.values():
            self.period.data = PeriodKind.QUARTER

    def validate_quarter(self, field):
        """A quarter from the list."""
        if self.period.data == PeriodKind.QUARTER and field.data not in dict(self.quarter.choices):
            raise ValidationError("Choose a quarter from the list")

    def validate_year(self, field):
        """A financial year from the list."""
        if self.period.data == PeriodKind.FINANCIAL_YEAR and field.data not in dict(self.year.choices):
            raise ValidationError("Choose a financial year from the list")

    def validate_start(self, field):
        """Dates you choose need a start date."""
        if self.period.data == PeriodKind.RANGE and field.data is None and not field.errors:
            raise ValidationError("Enter the date the period starts")

    def validate_end(self, field):
        """Dates you choose need an end date, not before the start and at most ten years after it."""
        if self.period.data != PeriodKind.RANGE or field.errors:
            return
        if field.data is None:
            raise ValidationError("Enter the date the period ends")
        start = self.start.data
        if start is not None and field.data < start:
            raise ValidationError("The end date must be the same as or after the start date")
        if start is not None and (field.data - start).days >= LONGEST_RANGE_DAYS:
            raise ValidationError("Choose a period of ten years or less")

    def validate(self, extra_validators=None):
        """Validate; the dates count only when the period is dates you choose (without JavaScript every
        option's boxes show, and what is left in the others is ignored)."""
        valid = super().validate(extra_validators)
        if self.period.data != PeriodKind.RANGE:
            for field in (self.start, self.end):
                field.errors = []
            self._errors = None
            valid = not any(field.errors for field in self)
        return valid

    def chosen(self):
        """The Period chosen (call after validate); the last complete quarter when the form is invalid."""
        kind = self.period.data
        if not self.errors:
            if kind == PeriodKind.TWELVE_MONTHS:
                return figures.twelve_months(self.today)
            if kind == PeriodKind.FINANCIAL_YEAR:
                return figures.financial_year(int(self.year.data), self.today)
            if kind == PeriodKind.RANGE:
                return figures.date_range(self.start.data, self.end.data)
            chosen = dict(zip((figures.quarter_code(q) for q in self.quarters), self.quarters))
            return chosen.get(self.quarter.data, self.quarters[0])
        return self.quarters[0]

    def query_args(self):
        """The choice as query arguments, for the export links (codes and dates only)."""
        args = {"period": self.period.data}
        if self.period.data == PeriodKind.QUARTER:
            args["quarter"] = self.quarter.data
        elif self.period.data == PeriodKind.FINANCIAL_YEAR:
            args["year"] = self.year.data
        elif self.period.data == PeriodKind.RANGE and self.start.data and self.end.data:
            for name, day in (("start", self.start.data), ("end", self.end.data)):
                args.update({f"{name}-day": day.day, f"{name}-month": day.month, f"{name}-year": day.year})
        return args


class PercentField(Field):
    """A share of the population in per cent, 0 to 100 with at most one decimal place; empty is None."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:g}"

    def process_formdata(self, valuelist):
        """Read "14.1" or "14.1%"; an empty box is None."""
        text = (valuelist[0] if valuelist else "").strip().rstrip("%").strip()
        if not text:
            self.data = None
            return
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.data = None
            raise ValueError(f"{self.label.text} must be a number, like 14.1") from None
        if not value.is_finite() or value < 0 or value > 100:
            self.data = None
            raise ValueError(f"{self.label.text} must be between 0 and 100")
        if value != value.quantize(Decimal("0.1")):
            self.data = None
            raise ValueError(f"{self.label.text} can have one decimal place at most, like 14.1")
        self.data = float(value)


class SettingsForm(AppForm):
    """The panel manager's statistics settings."""

    women_16_plus = WholeNumberField(
        "Women aged 16 and over in the panel's area",
        description="From the latest population estimate, for example 92000. Used for cases per 10,000.",
        validators=[Optional(), NumberRange(min=1000, max=10_000_000,
                                            message="Women aged 16 and over must be between 1,000 and 10,000,000")])
    attendance_threshold = WholeNumberField(
        "Attendance threshold (per cent)",
        description="Core agencies that attend less than this share of meetings are flagged. The default is 80.",
        validators=[InputRequired("Enter the attendance threshold, for example 80"),
                    NumberRange(min=1, max=100, message="The attendance threshold must be between 1 and 100")])
    minutes_days = WholeNumberField(
        "Minutes are due this many working days after a meeting",
        validators=[InputRequired("Enter the working days, for example 3"),
                    NumberRange(min=1, max=20, message="Working days must be between 1 and 20")])
    local_minoritised_share = PercentField("Racially minoritised (per cent)")
    local_lgbt_share = PercentField("LGBT+ (per cent)")
    local_disabled_share = PercentField("Disabled (per cent)")
    local_male_share = PercentField("Male (per cent)")
    local_aged_16_17_share = PercentField("Aged 16 or 17 (per cent)")

    FIELDS = ("women_16_plus", "attendance_threshold", "minutes_days", "local_minoritised_share", "local_lgbt_share",
              "local_disabled_share", "local_male_share", "local_aged_16_17_share")
    SHARES = FIELDS[3:]

    def values(self):
        """The settings as services.update_settings takes them."""
        return {name: self[name].data for name in self.FIELDS}
