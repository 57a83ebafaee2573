"""Meetings: schedule, agenda, research, register with confidentiality, hearings, minutes."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from marac.actions import services as actions
from marac.actions.forms import RemoveActionForm, action_form, correct_action_form
from marac.actions.models import Action
from marac.audit.services import record_read
from marac.core.formatting import format_date
from marac.core.forms import ConfirmForm
from marac.core.pagination import page_number
from marac.core.permissions import access, get_or_404, require
from marac.core.steps import attempt
from marac.core.timeutil import today
from marac.meetings import services
from marac.meetings.forms import (AmendForm, ListCasesForm, MeetingForm, RemoveAttendeeForm, ResearchForm,
                                  ScheduleForm, attendance_form, attendee_form, correct_attendee_form, expected_form,
                                  hearing_form)
from marac.meetings.models import AgendaItem, Attendee, Meeting, MeetingStatus
from marac.panels.models import Panel
from marac.sharing.models import Category
from marac.sharing.services import disclose

bp = Blueprint("meetings", __name__)


def _plural(count, noun):
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _button_step(step, *args, done=None):
    """Run the step of a button (a form with only its token): a refusal is flashed as an error; `done`
    (a message, or a function of the step's value giving one) is flashed on success."""
    if ConfirmForm().validate_on_submit():
        outcome = attempt(step, current_user, *args)
        if outcome and done:
            flash(done(outcome.value) if callable(done) else done)


def _managed_meeting(meeting_id):
    """The meeting, for the manager of its panel (404, 403)."""
    meeting = get_or_404(Meeting, meeting_id)
    require(meeting.can_manage(current_user))
    return meeting


def _confirmation(meeting, step, why_not, template, done, then):
    """A page that confirms a step on the meeting and takes it on the POST. It says before the button
    why the step cannot be taken (the service's why_not rule), and shows a refusal in the same place."""
    form = ConfirmForm()
    if form.validate_on_submit() and attempt(step, current_user, meeting, form=form):
        flash(done)
        return redirect(then)
    return render_template(template, meeting=meeting, form=form, problem=why_not(meeting))


# --- schedule and meetings -------------------------------------------------------------------

@bp.route("/panels/<uuid:panel_id>/meetings")
@access("signed_in")
def index(panel_id):
    """The panel's upcoming and recent meetings, with the cases listed at each."""
    panel = get_or_404(Panel, panel_id)
    require(panel.can_list_cases(current_user))
    upcoming, past = services.upcoming_and_recent(panel)
    return render_template("meetings/index.html", panel=panel, is_manager=panel.is_manager(current_user),
                           upcoming=upcoming, past=past, counts=services.cases_per_meeting(upcoming + past))


@bp.route("/panels/<uuid:panel_id>/meetings/schedule", methods=["GET", "POST"])
@access("signed_in")
def schedule(panel_id):
    """Create the panel's meetings on its cadence from a first date (the manager)."""
    panel = get_or_404(Panel, panel_id)
    require(panel.is_manager(current_user))
    form = ScheduleForm()
    if request.method == "GET":
        form.starts_at.process_data(panel.meeting_time)
    elif form.validate_on_submit() and (outcome := attempt(services.schedule, current_user, panel, form.start_on.data,
                                                           form.starts_at.time, form=form)):
        flash(f"{_plural(len(outcome.value), 'meeting')} scheduled.")
        return redirect(url_for("meetings.index", panel_id=panel.id))
    return render_template("meetings/schedule.html", panel=panel, form=form)


@bp.route("/panels/<uuid:panel_id>/meetings/new", methods=["GET", "POST"])
@access("signed_in")
def new(panel_id):
    """Add one meeting outside the pattern (the manager)."""
    panel = get_or_404(Panel, panel_id)
    require(panel.is_manager(current_user))
    form = MeetingForm()
    if request.method == "GET":
        form.starts_at.process_data(panel.meeting_time)
    elif form.validate_on_submit() and (outcome := attempt(services.add_meeting, current_user, panel,
                                                           form.meets_on.data, form.starts_at.time,
                                                           anyway=form.anyway.data, form=form)):
        flash("Meeting added.")
        return redirect(url_for("meetings.detail", meeting_id=outcome.value.id))
    return _meeting_form(panel, form, None)


def _meeting_form(panel, form, meeting):
    """The add or move page; a weekend or bank-holiday date posted shows its warning and the checkbox
    that confirms it."""
    unusual = services.why_not_usual_day(form.meets_on.data) if form.is_submitted() and form.meets_on.data else None
    return render_template("meetings/form.html", panel=panel, form=form, meeting=meeting,
                           unusual_day=unusual)


@bp.route("/meetings/<uuid:meeting_id>")
@access("signed_in")
def detail(meeting_id):
    """A meeting: its deadlines, what can be done next, and its agenda as the user may see it."""
    meeting = get_or_404(Meeting, meeting_id)
    require(meeting.can_view(current_user))
    services.agenda_items(meeting, subjects=True, returns=True)
    shown = disclose(current_user, [i.case for i in meeting.items], {Category.IDENTITY}, action="meeting.viewed",
                     target=meeting, purpose="meeting page viewed")
    return render_template("meetings/detail.html", meeting=meeting, is_manager=meeting.can_manage(current_user),
                           can_run=meeting.can_run(current_user), blockers=services.discussion_blockers(meeting),
                           shows_identity={case_id: Category.IDENTITY in shown[case_id] for case_id in shown},
                           my_returns={i.id: services.return_of(i, current_user.agency_id) for i in meeting.items},
                           form=ConfirmForm())


@bp.route("/meetings/<uuid:meeting_id>/edit", methods=["GET", "POST"])
@access("signed_in")
def edit(meeting_id):
    """Move a meeting that has not started (the manager)."""
    meeting = _managed_meeting(meeting_id)
    form = MeetingForm()
    if request.method == "GET":
        form.version.data = str(meeting.version)
        form.meets_on.process(None, meeting.meets_on)
        form.starts_at.process_data(meeting.starts_at)
    elif form.validate_on_submit() and attempt(services.move_meeting, current_user, meeting, form.meets_on.data,
                                               form.starts_at.time, form.version.data, anyway=form.anyway.data,
                                               form=form):
        flash(f"Meeting moved. It is now on {format_date(meeting.meets_on, 'weekday')}; its listed cases moved with it.")
        return redirect(url_for("meetings.detail", meeting_id=meeting.id))
    return _meeting_form(meeting.panel, form, meeting)


@bp.route("/meetings/<uuid:meeting_id>/cancel", methods=["GET", "POST"])
@access("signed_in")
def cancel(meeting_id):
    """Confirm and cancel a meeting that has not started; the page says first when it cannot be."""
    meeting = _managed_meeting(meeting_id)
    return _confirmation(meeting, services.cancel_meeting, services.why_not_cancel, "meetings/cancel.html",
                         "Meeting cancelled. Its cases are waiting to be listed again.",
                         url_for("meetings.index", panel_id=meeting.panel_id))


# --- agenda ----------------------------------------------------------------------------------

@bp.route("/meetings/<uuid:meeting_id>/agenda")
@access("signed_in")
def agenda(meeting_id):
    """The agenda being built: the listed cases in order, and the cases waiting to be heard."""
    meeting = _managed_meeting(meeting_id)
    items = services.agenda_items(meeting)
    waiting = (services.waiting_page(meeting.panel, page_number(request))
               if meeting.status == MeetingStatus.SCHEDULED else None)
    shown = disclose(current_user, waiting.items if waiting else [], {Category.IDENTITY, Category.RISK_CHECKLIST},
                     action="agenda.built", target=meeting, purpose="agenda builder viewed")
    return render_template("meetings/agenda.html", meeting=meeting, items=items, form=ConfirmForm(),
                           list_form=ListCasesForm(), waiting=waiting, shown=shown, today=today(),
                           over=len(items) - meeting.panel.capacity)


@bp.route("/meetings/<uuid:meeting_id>/cases/list", methods=["POST"])
@access("signed_in")
def list_cases(meeting_id):
    """List the waiting cases ticked on the agenda builder, in the order they wait."""
    meeting = _managed_meeting(meeting_id)
    form = ListCasesForm()
    if form.validate_on_submit():
        outcome = attempt(services.list_cases, current_user, meeting, form.case_ids.ids())
        if outcome:
            count = len(outcome.value)
            flash(f"{count} case{'' if count == 1 else 's'} listed.")
    else:
        for errors in form.errors.values():
            flash(errors[0], "error")
    return redirect(url_for("meetings.agenda", meeting_id=meeting.id))


def _managed_item(item_id):
    """The agenda item, for the manager of its meeting (404, 403)."""
    item = get_or_404(AgendaItem, item_id)
    require(item.can_manage(current_user))
    return item


@bp.route("/agenda-items/<uuid:item_id>/up", methods=["POST"])
@access("signed_in")
def move_up(item_id):
    """Move a listed case up the agenda."""
    item = _managed_item(item_id)
    _button_step(services.move_item, item.meeting, item, -1)
    return redirect(url_for("meetings.agenda", meeting_id=item.meeting_id))


@bp.route("/agenda-items/<uuid:item_id>/down", methods=["POST"])
@access("signed_in")
def move_down(item_id):
    """Move a listed case down the agenda."""
    item = _managed_item(item_id)
    _button_step(services.move_item, item.meeting, item, 1)
    return redirect(url_for("meetings.agenda", meeting_id=item.meeting_id))


@bp.route("/agenda-items/<uuid:item_id>/remove", methods=["POST"])
@access("signed_in")
def unlist(item_id):
    """Take a case off the agenda."""
    item = _managed_item(item_id)
    meeting_id, reference = item.meeting_id, item.case.reference
    _button_step(services.unlist_case, item.meeting, item, done=f"{reference} removed from the agenda.")
    return redirect(url_for("meetings.agenda", meeting_id=meeting_id))


@bp.route("/meetings/<uuid:meeting_id>/publish", methods=["POST"])
@access("signed_in")
def publish(meeting_id):
    """Publish the agenda to the member agencies."""
    meeting = _managed_meeting(meeting_id)
    _button_step(services.publish, meeting,
                 done="Agenda published: member agencies can now see the listed cases and research them.")
    return redirect(url_for("meetings.agenda", meeting_id=meeting.id))


@bp.route("/meetings/<uuid:meeting_id>/carry-over", methods=["POST"])
@access("signed_in")
def carry_over(meeting_id):
    """Carry the unheard cases of a held meeting to the next scheduled one."""
    meeting = _managed_meeting(meeting_id)
    _button_step(services.carry_over, meeting,
                 done=lambda moved: f"{_plural(moved[1], 'case')} carried to {format_date(moved[0].meets_on)}.")
    # Carrying over is offered on the page of the held meeting, whose agenda can no longer change.
    return redirect(url_for("meetings.detail", meeting_id=meeting.id))


# --- research --------------------------------------------------------------------------------

@bp.route("/meetings/<uuid:meeting_id>/research")
@access("signed_in")
def research_grid(meeting_id):
    """Who has returned research for each listed case (the manager)."""
    meeting = _managed_meeting(meeting_id)
    members = sorted(meeting.panel.members, key=lambda m: m.agency.short_name)
    return render_template("meetings/research_grid.html", meeting=meeting, members=members,
                           items=services.agenda_items(meeting), grid=services.research_grid(meeting))


@bp.route("/agenda-items/<uuid:item_id>/research", methods=["GET", "POST"])
@access("signed_in")
def research(item_id):
    """An agency's research for a listed case: recorded by its people, read by the manager once shared."""
    item = get_or_404(AgendaItem, item_id)
    require(item.can_research(current_user) if request.method == "POST" else item.can_view_research(current_user))
    mine = services.return_of(item, current_user.agency_id)
    form = ResearchForm(obj=mine if request.method == "GET" else None)
    if request.method == "GET":
        form.version.data = str(mine.version) if mine else ""
        form.lawful_basis.data = mine.lawful_basis if mine and mine.lawful_basis else ""
    elif form.validate_on_submit() and attempt(services.save_return, current_user, item, form.data,
                                               form.version.data or None, form=form):
        flash("Research saved. It stays visible to your agency only until you share it.")
        return redirect(url_for("meetings.research", item_id=item.id))
    return _research_page(item, form)


def _research_page(item, form):
    meeting = item.meeting
    mine = services.return_of(item, current_user.agency_id)
    others = [r for r in services.visible_returns(item, current_user) if not r.is_ours(current_user)]
    categories = disclose(current_user, [item.case], {Category.IDENTITY}, action="research.viewed", target=item,
                          purpose="research page viewed")[item.case_id]
    return render_template("meetings/research.html", item=item, meeting=meeting, form=form, mine=mine,
                           others=others, shows_identity="identity" in categories,
                           can_edit=item.can_research(current_user) and not services.why_research_closed(meeting))


@bp.route("/agenda-items/<uuid:item_id>/research/share", methods=["POST"])
@access("signed_in")
def share_research(item_id):
    """Share the user's agency's research with the panel: the button posts the research form, which is
    saved first, so what was typed since the last save is shared rather than lost."""
    item = get_or_404(AgendaItem, item_id)
    require(item.can_research(current_user))
    form = ResearchForm()
    if not any(name in request.form for name in ("relevant", "to_share", "nothing_held", "version")):
        # The button posted alone (no research boxes in it): share what is saved.
        _button_step(services.share_return, item, done="Your research is now shared with the panel.")
        return redirect(url_for("meetings.research", item_id=item.id))
    if form.validate_on_submit() and attempt(services.save_and_share, current_user, item, form.data,
                                             form.version.data or None, form=form):
        flash("Your research is now shared with the panel.")
        return redirect(url_for("meetings.research", item_id=item.id))
    return _research_page(item, form)


# --- register and confidentiality ------------------------------------------------------------

def _run_meeting(meeting_id):
    """The meeting, for its manager or chair (404, 403)."""
    meeting = get_or_404(Meeting, meeting_id)
    require(meeting.can_run(current_user))
    return meeting


def _register_page(meeting, attendee=None, expected=None):
    groups = services.expected_representatives(meeting) if meeting.status == MeetingStatus.IN_PROGRESS else []
    record_read("meeting.register_viewed", current_user, meeting, detail={"attendees": len(meeting.attendees)})
    return render_template("meetings/register.html", meeting=meeting, form=ConfirmForm(),
                           attendee_form=attendee or attendee_form(meeting), attendance=attendance_form(meeting),
                           expected=expected or expected_form(groups), groups=groups,
                           blockers=services.discussion_blockers(meeting),
                           corrections_closed=services.why_register_locked(meeting),
                           attendances=sorted(meeting.attendances, key=lambda a: (not a.is_core, a.agency.name)))


def _to_register(meeting):
    return redirect(url_for("meetings.register", meeting_id=meeting.id))


def _save_shown_attendance(meeting, quiet=True):
    """Every button of the register posts the whole page: the agencies' statuses as shown are saved
    first (an event only when one changed), so that no choice made on the page is lost."""
    form = attendance_form(meeting)
    if meeting.status != MeetingStatus.IN_PROGRESS or not any(field.name in request.form for _, field in form.rows):
        return
    if not form.validate_on_submit():
        abort(400)  # only a tampered post offers a status not in the list
    attempt(services.set_attendance, current_user, meeting, form.statuses(), quiet=quiet)


def _back_to_register(meeting):
    """After a button of the register other than "Add to the register": what was typed in "Add someone"
    is shown again (the page is rendered with it) rather than dropped by a redirect."""
    typed = attendee_form(meeting)
    if any((field.data or "").strip() for field in (typed.name, typed.role)):
        return _register_page(meeting, typed)
    return _to_register(meeting)


@bp.route("/meetings/<uuid:meeting_id>/register")
@access("signed_in")
def register(meeting_id):
    """The register and confidentiality agreements of a meeting (the manager or chair)."""
    return _register_page(_run_meeting(meeting_id))


@bp.route("/meetings/<uuid:meeting_id>/open", methods=["POST"])
@access("signed_in")
def open_meeting(meeting_id):
    """Open the meeting: its register starts."""
    meeting = _run_meeting(meeting_id)
    _button_step(services.open_meeting, meeting)
    return _to_register(meeting)


@bp.route("/meetings/<uuid:meeting_id>/attendees", methods=["POST"])
@access("signed_in")
def add_attendee(meeting_id):
    """Name someone at the meeting, for an agency or as an observer."""
    meeting = _run_meeting(meeting_id)
    _save_shown_attendance(meeting)
    form = attendee_form(meeting)
    if not form.validate_on_submit():
        return _register_page(meeting, form)
    attempt(services.add_attendee, current_user, meeting, form.name.data, form.role.data, form.chosen_agency_id,
            form.is_observer)
    return _to_register(meeting)


@bp.route("/meetings/<uuid:meeting_id>/expected", methods=["POST"])
@access("signed_in")
def add_expected(meeting_id):
    """Add the ticked representatives of the member agencies to the register."""
    meeting = _run_meeting(meeting_id)
    _save_shown_attendance(meeting)
    form = expected_form(services.expected_representatives(meeting))
    if form.validate_on_submit() and (outcome := attempt(services.add_expected, current_user, meeting,
                                                         form.chosen(), form=form)):
        flash(f"{outcome.value} {'person' if outcome.value == 1 else 'people'} added to the register.")
        return _back_to_register(meeting)
    return _register_page(meeting, attendee_form(meeting), form)


@bp.route("/meetings/<uuid:meeting_id>/attendance", methods=["POST"])
@access("signed_in")
def record_attendance(meeting_id):
    """Record each member agency's attendance."""
    meeting = _run_meeting(meeting_id)
    _save_shown_attendance(meeting, quiet=False)
    return _back_to_register(meeting)


@bp.route("/attendees/<uuid:attendee_id>/agree", methods=["POST"])
@access("signed_in")
def agree_confidentiality(attendee_id):
    """Record an attendee's agreement to the confidentiality statement."""
    attendee = get_or_404(Attendee, attendee_id)
    require(attendee.can_update(current_user))
    meeting = attendee.meeting
    _save_shown_attendance(meeting)
    _button_step(services.agree_confidentiality, meeting, attendee)
    return _back_to_register(meeting)


@bp.route("/meetings/<uuid:meeting_id>/agree-all", methods=["POST"])
@access("signed_in")
def agree_all(meeting_id):
    """Everyone present agrees to the confidentiality statement, once it has been read."""
    meeting = _run_meeting(meeting_id)
    _save_shown_attendance(meeting)
    _button_step(services.agree_all, meeting, done="Everyone present has agreed to the confidentiality statement.")
    return _back_to_register(meeting)


def _attendee_to_correct(attendee_id):
    """The attendee, for whoever runs the meeting (404, 403)."""
    attendee = get_or_404(Attendee, attendee_id)
    require(attendee.can_update(current_user))
    return attendee


def _correction_page(template, attendee, form):
    record_read("meeting.attendee_viewed", current_user, attendee.meeting, detail={"attendee_id": str(attendee.id)})
    return render_template(template, meeting=attendee.meeting, attendee=attendee, form=form,
                           problem=services.why_register_locked(attendee.meeting))


@bp.route("/attendees/<uuid:attendee_id>/correct", methods=["GET", "POST"])
@access("signed_in")
def correct_attendee(attendee_id):
    """Correct someone's details on the register, with a reason, until the minutes are final."""
    attendee = _attendee_to_correct(attendee_id)
    meeting = attendee.meeting
    form = correct_attendee_form(meeting, attendee)
    if form.validate_on_submit() and attempt(services.correct_attendee, current_user, attendee, form.name.data,
                                             form.role.data, form.chosen_agency_id, form.is_observer,
                                             form.reason.data, form=form):
        flash("Register corrected.")
        return _to_register(meeting)
    return _correction_page("meetings/correct_attendee.html", attendee, form)


@bp.route("/attendees/<uuid:attendee_id>/remove", methods=["GET", "POST"])
@access("signed_in")
def remove_attendee(attendee_id):
    """Confirm and take someone off the register, with a reason, until the minutes are final."""
    attendee = _attendee_to_correct(attendee_id)
    meeting = attendee.meeting
    form = RemoveAttendeeForm()
    if form.validate_on_submit() and attempt(services.remove_attendee, current_user, attendee, form.reason.data,
                                             form=form):
        flash("Taken off the register.")
        return _to_register(meeting)
    return _correction_page("meetings/remove_attendee.html", attendee, form)


@bp.route("/meetings/<uuid:meeting_id>/close", methods=["GET", "POST"])
@access("signed_in")
def close(meeting_id):
    """Confirm and close the meeting; the page says what closing means and what comes next."""
    meeting = _run_meeting(meeting_id)
    return _confirmation(meeting, services.close_meeting, services.why_not_close, "meetings/close.html",
                         "Meeting closed. The register and hearings are now read-only; the panel manager writes up "
                         "and finalises the minutes next.",
                         url_for("meetings.detail", meeting_id=meeting.id))


# --- hearing ---------------------------------------------------------------------------------

def _hearing_page(item, form, new_action):
    meeting = item.meeting
    categories = disclose(current_user, [item.case], set(Category), action="hearing.viewed", target=item,
                          purpose="hearing page viewed")[item.case_id]
    return render_template("meetings/hearing.html", item=item, meeting=meeting, form=form, action_form=new_action,
                           locked=services.why_hearing_locked(meeting), blockers=services.discussion_blockers(meeting),
                           returns=services.visible_returns(item, current_user),
                           agreed=actions.actions_agreed_at(item),
                           categories=categories)


def _hearing_of(item_id):
    """The agenda item, for the manager or chair of its meeting (404, 403)."""
    item = get_or_404(AgendaItem, item_id)
    require(item.can_hear(current_user))
    return item


def _to_hearing(item):
    return redirect(url_for("meetings.hearing", item_id=item.id))


def _action_typed(form):
    """Whether an action was typed in the hearing page's "Add an action" boxes."""
    return any((field.data or "").strip() for field in (form.description, form.named_person))


@bp.route("/agenda-items/<uuid:item_id>/hearing", methods=["GET", "POST"])
@access("signed_in")
def hearing(item_id):
    """The hearing of a case: reviews of earlier actions, risk summary, minute and outcome. The page is
    one form: "Save" posts here; an action typed but not added is kept on the page, not dropped."""
    item = _hearing_of(item_id)
    meeting = item.meeting
    if request.method == "GET":
        return _hearing_page(item, hearing_form(actions.open_actions_for(item.case, item), item), action_form(meeting))
    if not attempt(services.check_hearing_open, meeting):
        return _to_hearing(item)
    form, new_action = hearing_form(actions.open_actions_for(item.case, item)), action_form(meeting)
    if form.validate_on_submit() and attempt(
            services.record_hearing, current_user, item, form.risk_summary.data, form.minute.data,
            form.outcome.data or None, form.version.data, reviews=form.reviews(), form=form):
        outcome = form.outcome.data
        flash(f"{item.case.reference} {outcome}." if outcome else "Hearing saved.")
        if _action_typed(new_action):
            # The hearing is saved; the action typed below it is not added yet: show it again, with the
            # hearing as now saved, rather than lose it to a redirect.
            new_action.description.errors = ["This action is not added yet: press “Add action” to add it, or "
                                             "clear it"]
            return _hearing_page(item, hearing_form(actions.open_actions_for(item.case, item), item), new_action)
        return redirect(url_for("meetings.detail", meeting_id=meeting.id)) if outcome else _to_hearing(item)
    return _hearing_page(item, form, new_action)


@bp.route("/agenda-items/<uuid:item_id>/actions", methods=["POST"])
@access("signed_in")
def add_action(item_id):
    """Agree an action at the hearing of a case (the "Add action" button of the hearing page's one form):
    the risk summary and minute typed are saved first, and the page comes back with everything typed
    in it (reviews and outcome as chosen, the action boxes empty for the next one)."""
    item = _hearing_of(item_id)
    if not attempt(services.check_hearing_open, item.meeting):
        return _to_hearing(item)
    form = hearing_form(actions.open_actions_for(item.case, item))
    new_action = action_form(item.meeting)
    if not (form.validate() and new_action.validate_on_submit()):  # the action's token is spent last
        return _hearing_page(item, form, new_action)
    # A post of the action alone (no hearing boxes in it) has no draft to save.
    draft = ((form.risk_summary.data, form.minute.data, form.version.data)
             if any(name in request.form for name in ("risk_summary", "minute")) else None)
    outcome = attempt(services.add_action_at_hearing, current_user, item, draft, new_action.owner_agency_id.data,
                      new_action.description.data, new_action.due_on.data, new_action.named_person.data,
                      form=new_action if draft is not None else None)
    if draft is None:  # nothing typed to keep: back to the page, the refusal (if any) in a banner
        if outcome:
            flash("Action added.")
        return _to_hearing(item)
    if outcome:
        flash("Action added.")
        form.version.data = str(item.version)  # the draft saved moved the item on
        return _hearing_page(item, form, action_form(item.meeting, fresh=True))
    return _hearing_page(item, form, new_action)


def _action_to_correct(action_id):
    """An action agreed at a hearing, for whoever ran the hearing (404, 403)."""
    action = get_or_404(Action, action_id)
    require(action.can_correct(current_user))
    return action


def _action_correction_page(template, action, form):
    record_read("action.correction_viewed", current_user, action, recipient_agency_id=current_user.agency_id)
    return render_template(template, action=action, item=action.item, meeting=action.item.meeting, form=form,
                           problem=actions.why_not_correct(action))


@bp.route("/hearing-actions/<uuid:action_id>/correct", methods=["GET", "POST"])
@access("signed_in")
def correct_action(action_id):
    """Correct an action agreed at a hearing, with a reason, until the minutes are final."""
    action = _action_to_correct(action_id)
    form = correct_action_form(action)
    if form.validate_on_submit() and attempt(actions.correct_action, current_user, action, form.owner_agency_id.data,
                                             form.description.data, form.due_on.data, form.named_person.data,
                                             form.reason.data, form.version.data, form=form):
        flash("Action corrected.")
        return _to_hearing(action.item)
    return _action_correction_page("meetings/correct_action.html", action, form)


@bp.route("/hearing-actions/<uuid:action_id>/remove", methods=["GET", "POST"])
@access("signed_in")
def remove_action(action_id):
    """Confirm and remove an action agreed in error, with a reason, until the minutes are final."""
    action = _action_to_correct(action_id)
    item = action.item
    form = RemoveActionForm()
    if form.validate_on_submit() and attempt(actions.remove_action, current_user, action, form.reason.data,
                                             form=form):
        flash("Action removed.")
        return _to_hearing(item)
    return _action_correction_page("meetings/remove_action.html", action, form)


# --- minutes ---------------------------------------------------------------------------------

@bp.route("/meetings/<uuid:meeting_id>/finalise", methods=["GET", "POST"])
@access("signed_in")
def finalise(meeting_id):
    """Confirm and finalise the minutes; the page says first when they cannot be."""
    meeting = _managed_meeting(meeting_id)
    return _confirmation(meeting, services.finalise_minutes, services.why_not_finalise, "meetings/finalise.html",
                         "Minutes finalised and locked. Corrections are now recorded as amendments.",
                         url_for("meetings.detail", meeting_id=meeting.id))


@bp.route("/agenda-items/<uuid:item_id>/amend", methods=["GET", "POST"])
@access("signed_in")
def amend(item_id):
    """Correct a finalised minute, keeping the earlier text and the reason."""
    item = _managed_item(item_id)
    form = AmendForm()
    if request.method == "GET":
        form.version.data = str(item.version)
        form.minute.data = item.minute
    elif form.validate_on_submit() and attempt(services.amend_minute, current_user, item, form.minute.data,
                                               form.reason.data, form.version.data, form=form):
        flash("Minute amended; the earlier text is kept in its history.")
        return redirect(url_for("meetings.detail", meeting_id=item.meeting_id))
    disclose(current_user, [item.case], {Category.NARRATIVE}, action="minute.amend_viewed", target=item,
             purpose="minute amendment page viewed")
    return render_template("meetings/amend.html", item=item, form=form)
