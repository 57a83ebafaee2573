"""Transfers: the manager sends a case to another area's MARAC (a confirmation page, then the transfer
page with its packet) and records a case received from one; the case page's transfer and family
sections read what they show through the context processor below (cases sit below transfers)."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from marac.cases.models import Case
from marac.core.downloads import attachment
from marac.core.forms import ConfirmForm
from marac.core.permissions import access, get_or_404, require
from marac.core.steps import attempt
from marac.core.timeutil import today
from marac.meetings import services as meetings
from marac.panels.models import Panel, PanelKind
from marac.transfers import services
from marac.transfers.forms import TransferInForm, TransferOutForm
from marac.transfers.models import CaseTransfer

bp = Blueprint("transfers", __name__)

STALE = "The case changed while you were preparing the transfer. Check it again."


@bp.app_context_processor
def _inject():
    """The case page's includes (templates/transfers/) read their sections through these."""
    return {"case_transfers": services.transfers_shown, "family_links": services.family_links}


@bp.route("/cases/<uuid:case_id>/transfer", methods=["GET", "POST"])
@access("signed_in")
def transfer_out(case_id):
    """Confirm and transfer a case to another area's MARAC (irreversible): the page says what follows."""
    case = get_or_404(Case, case_id)
    require(case.can_transfer(current_user))
    form = TransferOutForm(data={"version": str(case.version), "transferred_on": today()})
    if form.validate_on_submit() and (outcome := attempt(
            services.transfer_out, current_user, case, form.area.data, form.contact.data, form.transferred_on.data,
            form.version.data, form=form, stale=STALE)):
        flash(f"{case.reference} transferred. Its transfer packet is being prepared.")
        return redirect(url_for("transfers.detail", transfer_id=outcome.value.id))
    return render_template("transfers/transfer_out.html", case=case, form=form,
                           open_actions=services.open_actions_of(case), listed=meetings.listed_at(case))


@bp.route("/transfers/<uuid:transfer_id>")
@access("signed_in")
def detail(transfer_id):
    """A transfer: the other area, and for a case sent out its packet (refreshing until it is ready)."""
    transfer = get_or_404(CaseTransfer, transfer_id)
    require(transfer.can_view(current_user))
    services.record_transfer_view(current_user, transfer)
    return render_template("transfers/detail.html", transfer=transfer, case=transfer.case, form=ConfirmForm(),
                           may_download=transfer.can_download(current_user))


@bp.route("/transfers/<uuid:transfer_id>/packet")
@access("signed_in")
def download(transfer_id):
    """The transfer packet (the manager who sends it); the download is declared and audited."""
    transfer = get_or_404(CaseTransfer, transfer_id)
    require(transfer.can_download(current_user))
    outcome = attempt(services.download_packet, current_user, transfer)
    if not outcome:
        return redirect(url_for("transfers.detail", transfer_id=transfer.id))
    name, pdf = outcome.value
    return attachment(name, pdf, "application/pdf")


@bp.route("/transfers/<uuid:transfer_id>/packet/build", methods=["POST"])
@access("signed_in")
def rebuild(transfer_id):
    """Prepare again a transfer packet that could not be prepared."""
    transfer = get_or_404(CaseTransfer, transfer_id)
    require(transfer.can_prepare_packet(current_user))
    form = ConfirmForm()
    if form.validate_on_submit() and attempt(services.rebuild_packet, current_user, transfer):
        flash("The transfer packet is being prepared again.")
    return redirect(url_for("transfers.detail", transfer_id=transfer.id))


@bp.route("/panels/<uuid:panel_id>/transfers/new", methods=["GET", "POST"])
@access("signed_in")
def receive(panel_id):
    """Record a case received from another area's MARAC; then enter it from the packet."""
    panel = get_or_404(Panel, panel_id)
    require(panel.is_manager(current_user))
    if panel.kind != PanelKind.MARAC:
        abort(404)
    form = TransferInForm(data={"transferred_on": today()})
    if form.validate_on_submit() and (outcome := attempt(
            services.receive_transfer, current_user, panel, form.area.data, form.contact.data,
            form.their_reference.data, form.transferred_on.data, form=form)):
        flash("Transfer recorded. Now enter the case from the transfer packet: once sent, it is accepted and "
              "listed first on the next agenda.")
        return redirect(url_for("cases.edit", case_id=outcome.value.id))
    return render_template("transfers/receive.html", panel=panel, form=form)
