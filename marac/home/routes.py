"""The home page: the user's panels with what needs them on each (home.services) and what they may do
there, where they may refer, and the meeting packs they may download."""
from flask import Blueprint, render_template
from flask_login import current_user

from marac.core.permissions import access
from marac.core.timeutil import today
from marac.home import services
from marac.packs.services import packs_for_user
from marac.panels.models import Role
from marac.panels.services import panels_for, referrable_panels

bp = Blueprint("home", __name__)


@bp.route("/")
@access("signed_in")
def index():
    """The signed-in user's home page."""
    on, panels = today(), panels_for(current_user)
    managing = {panel.id: services.manager_summary(panel, on) for panel, roles in panels if Role.MANAGER in roles}
    researching = {panel.id: services.representative_summary(current_user, panel, on)
                   for panel, roles in panels if Role.REPRESENTATIVE in roles}
    minutes = {panel.id: services.minutes_to_read(current_user, panel) for panel, roles in panels
               if roles & {Role.REPRESENTATIVE, Role.MANAGER, Role.CHAIR}}
    return render_template("home/index.html", panels=panels, today=on, managing=managing, researching=researching,
                           minutes=minutes, referrable=referrable_panels(current_user),
                           packs=packs_for_user(current_user))
