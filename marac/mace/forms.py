"""Forms of MACE reviews and registers."""
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from marac.cases.models import risk_levels
from marac.core.forms import (AppForm, CheckboxesField, DateInputField, OnceForm, RadiosField, Required,
                              WholeNumberField)
from marac.mace.models import DisruptionTactic
from marac.panels.models import PanelKind
from marac.people.models import YesNoUnknown

TEXT_LIMIT = 5000
REASON_LIMIT = 1200


def _long(label, limit=TEXT_LIMIT, required=None):
    validators = [Required(required)] if required else []
    validators.append(Length(max=limit, message=f"{label} must be {limit} characters or fewer"))
    return TextAreaField(label, validators=validators)


class ReviewForm(OnceForm):
    """A child's risk review: the date, the risk now, what changed, the disruption plan and its tactics,
    and whether the young person stays in the panel's scope."""

    reviewed_on = DateInputField("Date of the review", validators=[Required("Enter the date of the review")])
    risk_level = RadiosField("Risk level now", choices=[(level.value, level.label)
                                                       for level in risk_levels(PanelKind.MACE)],
                             validators=[Required("Choose the risk level now")])
    what_changed = _long("What has changed since the last review", required="Say what has changed")
    tactics = CheckboxesField("Disruption tactics in the plan", choices=DisruptionTactic.choices())
    disruption_plan = _long("The disruption plan")
    stays_in_scope = RadiosField("Does the young person stay in the panel's scope?",
                                 choices=[(YesNoUnknown.YES.value, "Yes"), (YesNoUnknown.NO.value,
                                                                            "No: the case should close")],
                                 validators=[Required("Say whether the young person stays in scope")])

    def stays(self):
        """The answer as a yes or no."""
        return self.stays_in_scope.data == YesNoUnknown.YES


class IntervalForm(AppForm):
    """The manager's setting: weeks between a child's reviews."""

    weeks = WholeNumberField("Weeks between reviews", validators=[Required("Enter the number of weeks")])


class LinkForm(OnceForm):
    """Link a case of the panel to a register entry, by its reference, saying why."""

    reference = StringField("Case reference", validators=[Required("Enter the reference of the case to link"),
                                                          Length(max=32, message="Enter a case reference like "
                                                                                 "MACE-2026-0042")])
    reason = _long("Why link this case", REASON_LIMIT, required="Give the reason for the link")


class UnlinkForm(AppForm):
    """Unlink a case from a register entry, saying why (the page asks for confirmation)."""

    reason = _long("Why unlink this case", REASON_LIMIT, required="Give the reason for unlinking the case")
