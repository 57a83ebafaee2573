"""Meeting packs: the manager builds them and follows the build; the manager, the chair and the
representatives of member agencies download their pack; the manager reads the circulation record."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from marac.core.downloads import attachment
from marac.core.permissions import access, get_or_404, require
from marac.core.steps import attempt
from marac.meetings.models import Meeting
from marac.packs import services
from marac.packs.forms import BuildForm
from marac.packs.models import PackBuild, PackKind

bp = Blueprint("packs", __name__)


@bp.app_context_processor
def _inject():
    """The meeting page's "Packs" section reads what it shows through this (meetings sit below packs)."""
    return {"meeting_packs": services.meeting_packs}


def _managed_meeting(meeting_id):
    meeting = get_or_404(Meeting, meeting_id)
    require(meeting.can_manage(current_user))
    return meeting


@bp.route("/meetings/<uuid:meeting_id>/packs/build", methods=["POST"])
@access("signed_in")
def build(meeting_id):
    """Build every pack of one kind for the meeting (the manager); then follow the build."""
    meeting = _managed_meeting(meeting_id)
    form = BuildForm()
    if not form.validate_on_submit():
        flash("Choose the agenda or the minutes packs.", "error")
    elif outcome := attempt(services.build_packs, current_user, meeting, form.kind.data):
        return redirect(url_for("packs.build_status", build_id=outcome.value.id))
    return redirect(url_for("meetings.detail", meeting_id=meeting.id))


@bp.route("/pack-builds/<uuid:build_id>")
@access("signed_in")
def build_status(build_id):
    """How far a build is, per recipient; the page refreshes itself until the build has finished."""
    pack_build = get_or_404(PackBuild, build_id)
    require(pack_build.can_view(current_user))
    return render_template("packs/build.html", build=pack_build, meeting=pack_build.meeting,
                           rows=services.build_progress(pack_build))


@bp.route("/meetings/<uuid:meeting_id>/minutes")
@access("signed_in")
def minutes(meeting_id):
    """The final minutes and action plan on screen: for those who ran the meeting, and the representatives
    of the agencies that sat on it, each under their agency's sharing rules (the read is declared)."""
    meeting = get_or_404(Meeting, meeting_id)
    require(meeting.can_read_minutes(current_user))
    return render_template("packs/minutes.html", **services.read_minutes(current_user, meeting))


@bp.route("/meetings/<uuid:meeting_id>/packs/<kind>")
@access("signed_in")
def download(meeting_id, kind):
    """The user's pack of this kind, stamped for them (the file is made when asked, never kept)."""
    meeting = get_or_404(Meeting, meeting_id)
    if kind not in PackKind.values():
        abort(404)
    require(services.entitled_profile(current_user, meeting) is not None)
    render = services.pack_for(current_user, meeting, kind)
    if render is None:
        abort(404)
    require(render.can_view(current_user))
    outcome = attempt(services.issue_pack, current_user, render)
    if not outcome:
        return redirect(url_for("meetings.detail", meeting_id=meeting.id))
    name, pdf = outcome.value
    return attachment(name, pdf, "application/pdf")


@bp.route("/meetings/<uuid:meeting_id>/packs/circulation")
@access("signed_in")
def circulation(meeting_id):
    """Who was handed which pack, when: the circulation record (the manager)."""
    meeting = _managed_meeting(meeting_id)
    return render_template("packs/circulation.html", meeting=meeting, issues=services.circulation(meeting))
