from flask import Blueprint, render_template
from flask_login import current_user

from marac.core.permissions import access
from marac.panels.models import ROLES
from marac.panels.services import panels_for, referrable_panels

bp = Blueprint("home", __name__)


@bp.route("/")
@access("signed_in")
def index():
    return render_template("home/index.html", panels=panels_for(current_user), role_labels=ROLES,
                           referrable=referrable_panels(current_user))
