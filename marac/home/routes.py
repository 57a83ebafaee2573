"""The home page: the user's panels with what they may do on each, and where they may refer."""
from flask import Blueprint, render_template
from flask_login import current_user

from marac.core.permissions import access
from marac.panels.services import panels_for, referrable_panels

bp = Blueprint("home", __name__)


@bp.route("/")
@access("signed_in")
def index():
    """The signed-in user's home page."""
    return render_template("home/index.html", panels=panels_for(current_user),
                           referrable=referrable_panels(current_user))
