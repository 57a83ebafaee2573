"""Meetings: schedule, agenda, research, register with confidentiality, hearings, minutes."""
import datetime as dt
import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from marac.core.forms import ConfirmForm
from marac.cases.models import Case
from marac.core.permissions import access, get_or_404, require
from marac.core.timeutil import utcnow
from marac.core.steps import StaleEdit, StepRefused
from marac.extensions import db
from marac.meetings import services
from marac.meetings.forms import (ActionForm, AmendForm, AttendeeForm, HearingForm, MeetingForm, ResearchForm,
                                  ScheduleForm)
from marac.meetings.models import ATTENDANCE, LAWFUL_BASES, AgendaItem, Meeting
from marac.panels.models import Panel

bp = Blueprint("meetings", __name__)

STALE = "Someone else saved this while you were editing it. Your changes have not been saved; the page shows theirs."


def _saved(form, step):
    """Run a service step and commit. On a stale edit or a refused step, roll back and put the
    reason on the form (what the user typed stays in it). True when saved."""
    try:
        step()
        db.session.commit()
        return True
    except (StaleEdit, StaleDataError):
        db.session.rollback()
        form.form_errors.append(STALE)
    except StepRefused as error:
        db.session.rollback()
        form.form_errors.append(str(error))
    return False


def _today():
    return utcnow().date()


@bp.route("/panels/<uuid:panel_id>/meetings")
@access("signed_in")
def index(panel_id):
    panel = get_or_404(Panel, panel_id)
    require(panel.can_list_cases(current_user))
    meetings = db.session.execute(
        db.select(Meeting).where(Meeting.panel_id == panel.id).order_by(Meeting.meets_on.desc())).scalars().all()
    today = _today()
    counts = dict(db.session.execute(  # cases listed per meeting, in one query rather than one a meeting
        db.select(AgendaItem.meeting_id, db.func.count()).join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(Meeting.panel_id == panel.id).group_by(AgendaItem.meeting_id)).all())
    return render_template("meetings/index.html", panel=panel, is_manager=panel.is_manager(current_user),
                           upcoming=[m for m in reversed(meetings) if m.meets_on >= today],
                           past=[m for m in meetings if m.meets_on < today][:26], counts=counts)


@bp.route("/panels/<uuid:panel_id>/meetings/schedule", methods=["GET", "POST"])
@access("signed_in")
def schedule(panel_id):
    panel = get_or_404(Panel, panel_id)
    require(panel.is_manager(current_user))
    form = ScheduleForm()
    if request.method == "GET":
        form.starts_at.process_data(panel.meeting_time)
    elif form.validate_on_submit():
        created = services.schedule(current_user, panel, form.start_on.data, form.starts_at.time)
        db.session.commit()
        flash(f"{len(created)} meeting{'' if len(created) == 1 else 's'} scheduled.")
        return redirect(url_for("meetings.index", panel_id=panel.id))
    return render_template("meetings/schedule.html", panel=panel, form=form)


@bp.route("/panels/<uuid:panel_id>/meetings/new", methods=["GET", "POST"])
@access("signed_in")
def new(panel_id):
    panel = get_or_404(Panel, panel_id)
    require(panel.is_manager(current_user))
    form = MeetingForm()
    if request.method == "GET":
        form.starts_at.process_data(panel.meeting_time)
    elif form.validate_on_submit():
        try:
            meeting = services.add_meeting(current_user, panel, form.meets_on.data, form.starts_at.time)
        except StepRefused as error:
            form.meets_on.errors.append(str(error))
        else:
            db.session.commit()
            flash("Meeting added.")
            return redirect(url_for("meetings.detail", meeting_id=meeting.id))
    return render_template("meetings/form.html", panel=panel, form=form, meeting=None)


@bp.route("/meetings/<uuid:meeting_id>")
@access("signed_in")
def detail(meeting_id):
    meeting = get_or_404(Meeting, meeting_id)
    require(meeting.can_view(current_user))
    from marac.sharing.services import panel_categories, visible_categories

    by_panel = panel_categories(meeting.panel, current_user)
    services.agenda_items(meeting, subjects=True, returns=True)
    return render_template("meetings/detail.html", meeting=meeting, is_manager=meeting.can_manage(current_user),
                           can_run=meeting.can_run(current_user), blockers=services.discussion_blockers(meeting),
                           shows_identity={i.case_id: "identity" in visible_categories(i.case, current_user, by_panel)
                                           for i in meeting.items},
                           my_returns={i.id: services.return_of(i, current_user.agency_id) for i in meeting.items},
                           form=ConfirmForm())


@bp.route("/meetings/<uuid:meeting_id>/edit", methods=["GET", "POST"])
@access("signed_in")
def edit(meeting_id):
    meeting = get_or_404(Meeting, meeting_id)
    require(meeting.can_manage(current_user))
    form = MeetingForm()
    if request.method == "GET":
        form.version.data = str(meeting.version)
        form.meets_on.process(None, meeting.meets_on)
        form.starts_at.process_data(meeting.starts_at)
    elif form.validate_on_submit() and _saved(form, lambda: services.move_meeting(
            current_user, meeting, form.meets_on.data, form.starts_at.time, form.version.data)):
        flash("Meeting moved.")
        return redirect(url_for("meetings.detail", meeting_id=meeting.id))
    return render_template("meetings/form.html", panel=meeting.panel, form=form, meeting=meeting)


@bp.route("/meetings/<uuid:meeting_id>/cancel", methods=["GET", "POST"])
@access("signed_in")
def cancel(meeting_id):
    meeting = get_or_404(Meeting, meeting_id)
    require(meeting.can_manage(current_user))
    form = ConfirmForm()
    problem = None if meeting.status == "scheduled" else "Only a meeting that has not started can be cancelled."
    if form.validate_on_submit() and problem is None:
        services.cancel_meeting(current_user, meeting)
        db.session.commit()
        flash("Meeting cancelled. Its cases are waiting to be listed again.")
        return redirect(url_for("meetings.index", panel_id=meeting.panel_id))
    return render_template("meetings/cancel.html", meeting=meeting, form=form, problem=problem)


def _item_of(meeting, value):
    try:
        item_id = uuid.UUID(value or "")
    except ValueError:
        abort(400)
    item = next((i for i in meeting.items if i.id == item_id), None)
    if item is None:
        abort(404)
    return item


@bp.route("/meetings/<uuid:meeting_id>/agenda", methods=["GET", "POST"])
@access("signed_in")
def agenda(meeting_id):
    meeting = get_or_404(Meeting, meeting_id)
    require(meeting.can_manage(current_user))
    form = ConfirmForm()
    if form.validate_on_submit():
        op = request.form.get("op")
        try:
            if op == "list":
                case = get_or_404(Case, _uuid(request.form.get("case_id")))
                services.list_case(current_user, meeting, case)
                message = f"{case.reference} listed."
            elif op in ("up", "down"):
                services.move_item(current_user, meeting, _item_of(meeting, request.form.get("item_id")),
                                   -1 if op == "up" else 1)
                message = None
            elif op == "remove":
                item = _item_of(meeting, request.form.get("item_id"))
                services.unlist_case(current_user, meeting, item)
                message = f"{item.case.reference} removed from the agenda."
            elif op == "publish":
                services.publish(current_user, meeting)
                message = "Agenda published: member agencies can now see the listed cases and research them."
            elif op == "carry_over":
                target, moved = services.carry_over(current_user, meeting)
                message = f"{moved} case{'' if moved == 1 else 's'} carried to {target.meets_on:%d %B %Y}."
            else:
                abort(400)
        except StepRefused as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            if message:
                flash(message)
        # Carrying over is offered on the page of the held meeting, whose agenda can no longer change.
        return redirect(url_for("meetings.detail" if op == "carry_over" else "meetings.agenda", meeting_id=meeting.id))
    items = services.agenda_items(meeting)
    return render_template("meetings/agenda.html", meeting=meeting, items=items, form=form,
                           waiting=services.waiting_cases(meeting.panel) if meeting.status == "scheduled" else [],
                           over=len(items) - meeting.panel.capacity)


def _uuid(value):
    try:
        return uuid.UUID(value or "")
    except ValueError:
        abort(400)


@bp.route("/meetings/<uuid:meeting_id>/research")
@access("signed_in")
def research_grid(meeting_id):
    meeting = get_or_404(Meeting, meeting_id)
    require(meeting.can_manage(current_user))
    members = sorted(meeting.panel.members, key=lambda m: m.agency.short_name)
    return render_template("meetings/research_grid.html", meeting=meeting, members=members,
                           items=services.agenda_items(meeting), grid=services.research_grid(meeting))


@bp.route("/agenda-items/<uuid:item_id>/research", methods=["GET", "POST"])
@access("signed_in")
def research(item_id):
    item = get_or_404(AgendaItem, item_id)
    meeting = item.meeting
    is_manager = meeting.can_manage(current_user)
    require(item.can_research(current_user) or is_manager)
    mine = services.return_of(item, current_user.agency_id)
    form = ResearchForm(obj=mine if request.method == "GET" else None)
    can_edit = item.can_research(current_user) and meeting.status != "held"
    if request.method == "GET":
        form.version.data = str(mine.version) if mine else ""
        form.lawful_basis.data = mine.lawful_basis if mine and mine.lawful_basis else ""
    elif request.form.get("op") == "share" and mine is not None and can_edit and ConfirmForm().validate_on_submit():
        services.share_return(current_user, mine)
        db.session.commit()
        flash("Your research is now shared with the panel.")
        return redirect(url_for("meetings.research", item_id=item.id))
    elif can_edit and form.validate_on_submit() and _saved(form, lambda: services.save_return(
            current_user, item, form.data, form.version.data or None)):
        flash("Research saved. It stays visible to your agency only until you share it.")
        return redirect(url_for("meetings.research", item_id=item.id))
    from marac.sharing.services import panel_categories, visible_categories

    others = [r for r in services.visible_returns(item, current_user, is_manager) if r.agency_id != current_user.agency_id]
    return render_template("meetings/research.html", item=item, meeting=meeting, form=form, mine=mine,
                           others=others, is_manager=is_manager, can_edit=can_edit, bases=LAWFUL_BASES,
                           shows_identity="identity" in visible_categories(item.case, current_user,
                                                                           panel_categories(meeting.panel, current_user)))


def _attendee_form(meeting):
    form = AttendeeForm()
    form.agency_id.choices = ([("", "Choose")] + [(str(a.agency_id), a.agency.name) for a in
                                                  sorted(meeting.attendances, key=lambda a: a.agency.name)]
                              + [("observer", "Observer (no agency)")])
    return form


@bp.route("/meetings/<uuid:meeting_id>/register", methods=["GET", "POST"])
@access("signed_in")
def register(meeting_id):
    meeting = get_or_404(Meeting, meeting_id)
    require(meeting.can_run(current_user))
    confirm = ConfirmForm()
    attendee_form = _attendee_form(meeting)
    op = request.form.get("op")
    if request.method == "POST" and op != "attendee" and confirm.validate_on_submit():
        try:
            if op == "open":
                services.open_meeting(current_user, meeting)
            elif op == "statuses":
                statuses = {}
                for attendance in meeting.attendances:
                    value = request.form.get(f"status-{attendance.agency_id}")
                    if value is not None and value not in ATTENDANCE:
                        abort(400)
                    statuses[attendance.agency_id] = value
                services.set_attendance(current_user, meeting, statuses)
            elif op == "agree":
                attendee = next((a for a in meeting.attendees if str(a.id) == request.form.get("attendee_id")), None)
                if attendee is None:
                    abort(404)
                services.agree_confidentiality(current_user, meeting, attendee)
            elif op == "close":
                services.close_meeting(current_user, meeting)
            else:
                abort(400)
        except StepRefused as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
        return redirect(url_for("meetings.register", meeting_id=meeting.id))
    if op == "attendee" and attendee_form.validate_on_submit():
        choice = attendee_form.agency_id.data
        try:
            services.add_attendee(current_user, meeting, attendee_form.name.data, attendee_form.role.data,
                                  None if choice == "observer" else uuid.UUID(choice), choice == "observer")
        except StepRefused as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
        return redirect(url_for("meetings.register", meeting_id=meeting.id))
    return render_template("meetings/register.html", meeting=meeting, form=confirm, attendee_form=attendee_form,
                           statuses=ATTENDANCE, blockers=services.discussion_blockers(meeting),
                           attendances=sorted(meeting.attendances, key=lambda a: (not a.is_core, a.agency.name)))


@bp.route("/agenda-items/<uuid:item_id>/hearing", methods=["GET", "POST"])
@access("signed_in")
def hearing(item_id):
    item = get_or_404(AgendaItem, item_id)
    meeting = item.meeting
    require(meeting.can_run(current_user))
    form = HearingForm()
    action_form = ActionForm(prefix="action")
    members = sorted((m.agency for m in meeting.panel.members), key=lambda a: a.name)
    action_form.owner_agency_id.choices = [("", "Choose")] + [(str(a.id), a.name) for a in members]
    open_actions = services.open_actions_for(item.case, item)
    op = request.form.get("op")
    locked = meeting.minutes_locked or meeting.status != "in_progress"
    if request.method == "GET":
        form.version.data = str(item.version)
        form.risk_summary.data, form.minute.data = item.risk_summary, item.minute
        action_form.due_on.process(None, meeting.meets_on + dt.timedelta(days=meeting.panel.action_due_days))
    elif locked:
        flash("The meeting is not in progress, so the hearing cannot be changed here.", "error")
        return redirect(url_for("meetings.hearing", item_id=item.id))
    elif op == "action" and action_form.validate_on_submit():
        try:
            services.add_action(current_user, item, uuid.UUID(action_form.owner_agency_id.data),
                                action_form.description.data, action_form.due_on.data, action_form.named_person.data)
        except StepRefused as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("Action added.")
        return redirect(url_for("meetings.hearing", item_id=item.id))
    elif op == "hearing" and form.validate_on_submit():
        def save_hearing():
            for action in open_actions:
                outcome = request.form.get(f"review-{action.id}", "")
                if outcome in ("done", "not_possible", "not_done"):
                    services.review_action(current_user, action, outcome, request.form.get(f"review-note-{action.id}"))
            services.record_hearing(current_user, item, form.risk_summary.data, form.minute.data,
                                    form.outcome.data or None, form.version.data)

        if _saved(form, save_hearing):
            flash("Hearing saved." if not form.outcome.data else f"{item.case.reference} {form.outcome.data}.")
            return redirect(url_for("meetings.detail", meeting_id=meeting.id) if form.outcome.data
                            else url_for("meetings.hearing", item_id=item.id))
    from marac.sharing.services import panel_categories

    return render_template("meetings/hearing.html", item=item, meeting=meeting, form=form, action_form=action_form,
                           open_actions=open_actions, locked=locked, blockers=services.discussion_blockers(meeting),
                           returns=services.visible_returns(item, current_user, meeting.can_manage(current_user)),
                           agreed=services.actions_agreed_at(item),
                           categories=panel_categories(meeting.panel, current_user), agencies=members)


@bp.route("/meetings/<uuid:meeting_id>/finalise", methods=["GET", "POST"])
@access("signed_in")
def finalise(meeting_id):
    meeting = get_or_404(Meeting, meeting_id)
    require(meeting.can_manage(current_user))
    form = ConfirmForm()
    problem = None
    if meeting.status != "held":
        problem = "Close the meeting before finalising its minutes."
    elif meeting.minutes_locked:
        problem = "The minutes are already final."
    if form.validate_on_submit() and problem is None:
        services.finalise_minutes(current_user, meeting)
        db.session.commit()
        flash("Minutes finalised and locked. Corrections are now recorded as amendments.")
        return redirect(url_for("meetings.detail", meeting_id=meeting.id))
    return render_template("meetings/finalise.html", meeting=meeting, form=form, problem=problem)


@bp.route("/agenda-items/<uuid:item_id>/amend", methods=["GET", "POST"])
@access("signed_in")
def amend(item_id):
    item = get_or_404(AgendaItem, item_id)
    require(item.meeting.can_manage(current_user))
    form = AmendForm()
    if request.method == "GET":
        form.version.data = str(item.version)
        form.minute.data = item.minute
    elif form.validate_on_submit() and _saved(form, lambda: services.amend_minute(
            current_user, item, form.minute.data, form.reason.data, form.version.data)):
        flash("Minute amended; the earlier text is kept in its history.")
        return redirect(url_for("meetings.detail", meeting_id=item.meeting_id))
    return render_template("meetings/amend.html", item=item, form=form)

