"""Referral forms, the case list and search, the case page, screening."""
import datetime as dt
import uuid

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from marac.cases import questions, services
from marac.cases.forms import LISTS, REFERRAL_FORMS, ScreeningForm, SearchForm
from marac.cases.models import CRITERIA, PARTY_ROLES, RISK_LEVELS, STATUSES, Case
from marac.core.pagination import page_number
from marac.core.permissions import access, get_or_404, require
from marac.core.steps import StaleEdit, StepRefused
from marac.extensions import db
from marac.panels.models import Panel
from marac.sharing.models import CATEGORIES
from marac.sharing.services import panel_categories, records_for, visible_categories

bp = Blueprint("cases", __name__)


def _referral_form(panel, **kwargs):
    return REFERRAL_FORMS[panel.kind](**kwargs)


def _handle_referral(panel, case, form):
    """Add another entry, save a draft, or submit. Returns a response, or None to show the form."""
    add = request.form.get("add")
    if add in LISTS and hasattr(form, add):
        field = getattr(form, add)
        if len(field.entries) < field.max_entries:
            field.append_entry()
        return None
    draft = request.form.get("action") == "draft" and case.status == "draft"
    g.saving_draft = draft
    valid = form.validate()
    g.saving_draft = False
    if not valid:
        return None
    was_draft = case.status == "draft"
    try:
        services.save_referral(current_user, case, form, submit=not draft,
                               expected_version=form.version.data if case.status != "draft" or form.version.data else None)
        db.session.commit()
    except (StaleEdit, StaleDataError):
        db.session.rollback()
        form.form_errors.append("Someone else changed this case while you were editing it. Your changes have not "
                                "been saved: open the case again to see the latest version, then make your changes.")
        return None
    if draft:
        flash("Your draft has been saved. You can finish it later from 'Your referrals'.")
        return redirect(url_for("cases.mine"))
    if was_draft:
        flash(f"Referral {case.reference} sent to the {panel.name} panel manager for screening.")
    else:
        flash("Case saved.")
    return redirect(url_for("cases.detail", case_id=case.id))


def _render_referral(panel, case, form, status=200):
    return render_template(f"cases/referral_{panel.kind.lower()}.html", panel=panel, case=case, form=form,
                           questions=questions), status


@bp.route("/panels/<uuid:panel_id>/referrals/new", methods=["GET", "POST"])
@access("signed_in")
def refer(panel_id):
    panel = get_or_404(Panel, panel_id)
    require(panel.can_refer(current_user))
    case = services.new_case(current_user, panel)
    form = _referral_form(panel)
    if request.method == "GET":
        form.referrer_name.data = current_user.full_name
        form.referrer_role.data = current_user.job_title
        form.referrer_contact.data = current_user.email
        form.referred_on.process(None, dt.date.today())
        return _render_referral(panel, case, form)
    response = _handle_referral(panel, case, form)
    return response or _render_referral(panel, case, form)


@bp.route("/cases/<uuid:case_id>/edit", methods=["GET", "POST"])
@access("signed_in")
def edit(case_id):
    case = get_or_404(Case, case_id)
    require(case.can_edit(current_user))
    panel = case.panel
    if request.method == "GET":
        form = _referral_form(panel, data=dict(case.referral or {}, version=str(case.version)))
        return _render_referral(panel, case, form)
    form = _referral_form(panel)
    response = _handle_referral(panel, case, form)
    return response or _render_referral(panel, case, form)


@bp.route("/referrals/mine")
@access("signed_in")
def mine():
    stmt = (select(Case).where(Case.referrer_user_id == current_user.id)
            .order_by(Case.status != "draft", Case.created_at.desc()))
    pagination = db.paginate(stmt, page=page_number(request), per_page=50, error_out=False)
    return render_template("cases/mine.html", pagination=pagination)


def _list_filters(panel):
    args = request.args
    filters, errors = {}, []
    if args.get("status") in STATUSES and args.get("status") != "draft":
        filters["status"] = args["status"]
    if args.get("risk_level") in RISK_LEVELS:
        filters["risk_level"] = args["risk_level"]
    if args.get("repeat") in ("yes", "no"):
        filters["repeat"] = args["repeat"]
    if args.get("agency_id"):
        try:
            filters["agency_id"] = uuid.UUID(args["agency_id"])
        except ValueError:
            errors.append("Choose an agency from the list")
    for key in ("date_from", "date_to"):
        if args.get(key):
            try:
                filters[key] = dt.date.fromisoformat(args[key])
            except ValueError:
                errors.append("Enter dates as YYYY-MM-DD, for example 2026-03-31")
    return filters, errors


def _shows_identity(panel, cases):
    """Whether each listed case's subject may be named to the current user (rules read once)."""
    by_panel = panel_categories(panel, current_user)
    return {c.id: "identity" in visible_categories(c, current_user, by_panel) for c in cases}


@bp.route("/panels/<uuid:panel_id>/cases")
@access("signed_in")
def index(panel_id):
    panel = get_or_404(Panel, panel_id)
    require(panel.can_list_cases(current_user))
    filters, errors = _list_filters(panel)
    sort = request.args.get("sort", "referred_desc")
    pagination = services.case_list(panel, filters, sort, page_number(request))
    agencies = sorted((m.agency for m in panel.members), key=lambda a: a.name)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("cases/index.html", panel=panel, pagination=pagination, filters=filters, errors=errors,
                           sort=sort, agencies=agencies, args=args, statuses=STATUSES, risk_levels=RISK_LEVELS,
                           search_form=SearchForm(), is_manager=panel.is_manager(current_user),
                           shows_identity=_shows_identity(panel, pagination.items))


@bp.route("/panels/<uuid:panel_id>/cases/search", methods=["POST"])
@access("signed_in")
def search(panel_id):
    panel = get_or_404(Panel, panel_id)
    require(panel.can_list_cases(current_user))
    form = SearchForm()
    results = None
    if form.validate():
        by = "reference" if form.reference.data else "name_dob" if form.name.data else "postcode"
        results = services.search(panel, form.reference.data, form.name.data, form.date_of_birth.data,
                                  form.postcode.data)
        # A match confirms that the case holds the postcode (or name and date of birth) searched for:
        # keep only cases where the user may see that category (education may not see postcodes).
        needed = {"contact"} if form.postcode.data else set()
        if form.name.data and form.date_of_birth.data:
            needed.add("identity")
        by_panel = panel_categories(panel, current_user)
        results = [c for c in results
                   if c.can_view(current_user) and needed <= visible_categories(c, current_user, by_panel)]
        from marac.audit.services import record

        record("case.searched", current_user, panel, detail={"by": by, "results": len(results)})
        db.session.commit()
    return render_template("cases/search.html", panel=panel, form=form, results=results,
                           shows_identity=_shows_identity(panel, results or []))


@bp.route("/cases/<uuid:case_id>")
@access("signed_in")
def detail(case_id):
    case = get_or_404(Case, case_id)
    require(case.can_view(current_user))
    categories = visible_categories(case, current_user)
    services.record_view(current_user, case, categories)
    db.session.commit()
    return render_template("cases/detail.html", case=case, categories=categories, questions=questions, criteria=CRITERIA,
                           party_roles=PARTY_ROLES, history=services.history_of(case),
                           earlier=services.earlier_cases_of_subject(case) if case.panel.is_manager(current_user) else [],
                           can_edit=case.can_edit(current_user), can_screen=case.can_screen(current_user),
                           is_manager=case.panel.is_manager(current_user))


@bp.route("/cases/<uuid:case_id>/screen", methods=["GET", "POST"])
@access("signed_in")
def screen(case_id):
    case = get_or_404(Case, case_id)
    require(case.can_screen(current_user))
    form = ScreeningForm()
    if request.method == "GET":
        form.version.data = str(case.version)
        form.confirm_repeat.data = case.is_repeat
    elif form.validate_on_submit():
        try:
            services.screen(current_user, case, form.decision.data, form.reason.data, form.confirm_repeat.data,
                            form.version.data)
            db.session.commit()
        except (StaleEdit, StaleDataError):
            db.session.rollback()
            form.form_errors.append("The referral changed while you were screening it. Check it again.")
        else:
            flash(f"{case.reference} {'accepted' if case.status == 'accepted' else 'screened out'}.")
            return redirect(url_for("cases.detail", case_id=case.id))
    categories = visible_categories(case, current_user)
    return render_template("cases/screen.html", case=case, form=form, criteria=CRITERIA, categories=categories,
                           earlier=services.earlier_cases_of_subject(case), window=services.REPEAT_WINDOW)



@bp.route("/cases/<uuid:case_id>/sharing")
@access("signed_in")
def sharing_log(case_id):
    case = get_or_404(Case, case_id)
    require(case.panel.is_manager(current_user))
    pagination = records_for(case, page_number(request))
    return render_template("cases/sharing_log.html", case=case, pagination=pagination, categories=CATEGORIES)
