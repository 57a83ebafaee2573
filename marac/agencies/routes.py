"""Administrators' pages for agencies."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from marac.agencies import services
from marac.agencies.forms import AgencyForm
from marac.agencies.models import Agency
from marac.core.pagination import page_number
from marac.core.permissions import access, get_or_404
from marac.core.steps import attempt

bp = Blueprint("agencies", __name__, url_prefix="/admin/agencies")


def _submitted(form, exclude_id=None):
    """Validate the form and ask the service whether each name is free, so that every problem shows at once."""
    if not form.is_submitted():
        return False
    valid = form.validate()
    free = [attempt(services.check_name, field, form.name.data, form.short_name.data, exclude_id, form=form)
            for field in services.TAKEN]
    return valid and all(free)


@bp.route("/")
@access("admin")
def index():
    """Every agency, a page at a time."""
    return render_template("agencies/index.html", pagination=services.agencies_page(page_number(request)))


@bp.route("/new", methods=["GET", "POST"])
@access("admin")
def new():
    """Add an agency."""
    form = AgencyForm()
    if _submitted(form) and attempt(services.create_agency, current_user, form.name.data, form.short_name.data,
                                    form.kind.data, form=form):
        flash(f"Agency {form.name.data.strip()} added.")
        return redirect(url_for("agencies.index"))
    return render_template("agencies/form.html", form=form, agency=None)


@bp.route("/<uuid:agency_id>/edit", methods=["GET", "POST"])
@access("admin")
def edit(agency_id):
    """Change an agency's details or make it inactive."""
    agency = get_or_404(Agency, agency_id)
    form = AgencyForm(obj=agency)
    if _submitted(form, exclude_id=agency.id) and attempt(
            services.update_agency, current_user, agency, name=form.name.data.strip(),
            short_name=form.short_name.data.strip(), kind=form.kind.data, is_active=form.is_active.data, form=form):
        flash(f"Agency {agency.name} saved.")
        return redirect(url_for("agencies.index"))
    return render_template("agencies/form.html", form=form, agency=agency)
