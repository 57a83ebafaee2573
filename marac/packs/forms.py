"""The build button's form: which kind of packs to build."""
from wtforms import HiddenField
from wtforms.validators import AnyOf

from marac.core.forms import AppForm
from marac.packs.models import PackKind


class BuildForm(AppForm):
    """Build every pack of one kind for a meeting (the kind rides in a hidden field of its button)."""

    kind = HiddenField(validators=[AnyOf(sorted(PackKind.values()), message="Choose the agenda or the minutes packs.")])
