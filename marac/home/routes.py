"""The home page: the user's panels with what they may do on each, where they may refer, and the
meeting packs they may download."""
from flask import Blueprint, render_template
from flask_login import current_user

from marac.core.permissions import access
from marac.packs.services import packs_for_user
from marac.panels.services import panels_for, referrable_panels
from marac.subjects.models import can_handle_requests

bp = Blueprint("home", __name__)


@bp.route("/")
@access("signed_in")
def index():
    """The signed-in user's home page."""
    return render_template("home/index.html", panels=panels_for(current_user),
                           referrable=referrable_panels(current_user), packs=packs_for_user(current_user),
                           handles_requests=can_handle_requests(current_user))
