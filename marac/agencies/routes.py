"""Administrators' pages for agencies."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from marac.agencies import services
from marac.agencies.forms import AgencyForm
from marac.agencies.models import Agency
from marac.core.pagination import page_number
from marac.core.permissions import access, get_or_404
from marac.extensions import db

bp = Blueprint("agencies", __name__, url_prefix="/admin/agencies")


def _check_unique(form, exclude_id=None):
    taken = services.name_taken(form.name.data, form.short_name.data, exclude_id)
    if "name" in taken:
        form.name.errors.append("Another agency already has this name")
    if "short_name" in taken:
        form.short_name.errors.append("Another agency already has this short name")
    return not taken


@bp.route("/")
@access("admin")
def index():
    pagination = db.paginate(select(Agency).order_by(Agency.name), page=page_number(request), per_page=50,
                             error_out=False)
    return render_template("agencies/index.html", pagination=pagination)


@bp.route("/new", methods=["GET", "POST"])
@access("admin")
def new():
    form = AgencyForm()
    if form.is_submitted() and all([form.validate(), _check_unique(form)]):
        services.create_agency(current_user, form.name.data, form.short_name.data, form.kind.data)
        db.session.commit()
        flash(f"Agency {form.name.data.strip()} added.")
        return redirect(url_for("agencies.index"))
    return render_template("agencies/form.html", form=form, agency=None)


@bp.route("/<uuid:agency_id>/edit", methods=["GET", "POST"])
@access("admin")
def edit(agency_id):
    agency = get_or_404(Agency, agency_id)
    form = AgencyForm(obj=agency)
    if form.is_submitted() and all([form.validate(), _check_unique(form, exclude_id=agency.id)]):
        services.update_agency(current_user, agency, name=form.name.data.strip(),
                               short_name=form.short_name.data.strip(), kind=form.kind.data,
                               is_active=form.is_active.data)
        db.session.commit()
        flash(f"Agency {agency.name} saved.")
        return redirect(url_for("agencies.index"))
    return render_template("agencies/form.html", form=form, agency=agency)
