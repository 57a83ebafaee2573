"""The panel's sharing rules as a form: one tick box per agency kind and category."""
from wtforms import BooleanField

from marac.agencies.models import AgencyKind
from marac.core.forms import AppForm
from marac.sharing.models import Category


def rule_name(kind, category):
    """The name of the tick box for one agency kind and category: rule-<kind>-<category>."""
    return f"rule-{kind}-{category}"


class SharingRulesForm(AppForm):
    """Which categories each kind of agency may see."""

    @classmethod
    def of(cls, rules):
        """The form ticked as `rules` ({kind: set of categories}) allow."""
        return cls(data={rule_name(kind, category): category in rules.get(kind, ())
                         for kind in AgencyKind for category in Category})

    def allowed(self):
        """{kind: set of categories} as ticked."""
        return {kind: {category for category in Category if self[rule_name(kind, category)].data}
                for kind in AgencyKind}


for _kind in AgencyKind:
    for _category in Category:
        setattr(SharingRulesForm, rule_name(_kind, _category),
                BooleanField(f"{_kind.label} may see {_category.short_label}"))
