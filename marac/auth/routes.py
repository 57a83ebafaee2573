"""Sign-in (password, then TOTP), enrolment, password change, sessions, sign-out."""
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from marac.auth import services, throttle, totp
from marac.auth.forms import ChangePasswordForm, CodeForm, SignInForm
from marac.auth.sessions import active_sessions
from marac.core.errors import render_error
from marac.core.forms import ConfirmForm
from marac.core.permissions import access
from marac.core.steps import attempt
from marac.core.timeutil import utcnow
from marac.extensions import limiter

bp = Blueprint("auth", __name__)

SIGN_IN_FAILED = "Enter a correct email address and password"


def _pending_user():
    """The user who has passed the password step and still owes a code, if not too long ago."""
    return services.pending_mfa_user(session.get("mfa_user_id"), session.get("mfa_started_at"))


def _session_row():
    """This request's row in user_sessions, if it has one yet."""
    return getattr(session, "row", None)


def _finish_sign_in(user):
    session.clear()
    session.regenerate()
    login_user(user)
    services.complete_sign_in(user)
    target = url_for("auth.change_password") if user.must_change_password else url_for("home.index")
    return throttle.remember_device(redirect(target), user)


@bp.errorhandler(429)
def too_many_sign_ins(error):
    """A throttled sign-in shows the sign-in page with the throttling message; other pages of this
    blueprint get the general 429 page. (An error response rolls back at the edge.)"""
    if request.endpoint != "auth.sign_in":
        return render_error(429)
    form = SignInForm()
    form.password.data = ""
    return render_template("auth/sign_in.html", form=form, failure=None, throttled=True), 429


@bp.route("/sign-in", methods=["GET", "POST"])
@access("public")
@limiter.limit(throttle.limit_per_address, key_func=throttle.address_key, methods=["POST"],
               deduct_when=throttle.failed)
@limiter.limit(throttle.limit_per_account, key_func=throttle.account_key, methods=["POST"],
               deduct_when=throttle.failed, exempt_when=throttle.known_device_for_email)
def sign_in():
    """The password step of signing in."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            g.sign_in_failed = True  # the 200 answer commits the failed-sign-in audit event at the edge
            form.password.data = ""
            return render_template("auth/sign_in.html", form=form, failure=SIGN_IN_FAILED), 200
        if services.mfa_required_for(user):
            session.clear()
            session["mfa_user_id"] = str(user.id)
            session["mfa_started_at"] = utcnow().isoformat()
            return redirect(url_for("auth.code" if user.has_mfa else "auth.enrol"))
        return _finish_sign_in(user)
    return render_template("auth/sign_in.html", form=form, failure=None)


@bp.route("/sign-in/code", methods=["GET", "POST"])
@access("mfa_pending")
@limiter.limit(throttle.limit_mfa, key_func=throttle.mfa_key, methods=["POST"], deduct_when=throttle.failed)
def code():
    """The code step of signing in, for a user with an authenticator."""
    user = _pending_user()
    if user is None or not user.has_mfa:
        session.clear()
        return redirect(url_for("auth.sign_in"))
    form = CodeForm()
    if form.validate_on_submit():
        if services.check_code(user, form.code.data):
            return _finish_sign_in(user)
        g.sign_in_failed = True
        form.code.errors.append("The security code is wrong or has already been used; wait for a new one")
    return render_template("auth/code.html", form=form)


def _enrolment_secret():
    secret = session.get("enrol_secret")
    if not secret:
        secret = totp.new_secret()
        session["enrol_secret"] = secret
    return secret


def _enrolment_page(user, form, account=False):
    """The enrolment page (QR code and key) for signing in, or from the account page."""
    secret = _enrolment_secret()
    uri = totp.provisioning_uri(secret, user.email, current_app.config["ORGANISATION_NAME"])
    spaced = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render_template("auth/enrol.html", form=form, qr_svg=totp.qr_svg(uri), secret=spaced, account=account)


@bp.route("/sign-in/set-up-authenticator", methods=["GET", "POST"])
@access("mfa_pending")
@limiter.limit(throttle.limit_mfa, key_func=throttle.mfa_key, methods=["POST"], deduct_when=throttle.failed)
def enrol():
    """Set up an authenticator during sign-in, where one is required."""
    user = _pending_user()
    if user is None or user.has_mfa:
        session.clear()
        return redirect(url_for("auth.sign_in"))
    form = CodeForm()
    if form.validate_on_submit():
        if services.enrol_mfa(user, session["enrol_secret"], form.code.data):
            session.pop("enrol_secret", None)
            return _finish_sign_in(user)
        g.sign_in_failed = True
        form.code.errors.append("The code does not match; check the time on your device and try the new code")
    return _enrolment_page(user, form)


@bp.route("/account/authenticator", methods=["GET", "POST"])
@access("signed_in")
def account_enrol():
    """Set up an authenticator from the account page."""
    if current_user.has_mfa:
        return redirect(url_for("auth.account"))
    form = CodeForm()
    if form.validate_on_submit():
        if services.enrol_mfa(current_user, session["enrol_secret"], form.code.data):
            session.pop("enrol_secret", None)
            flash("Your authenticator app is set up. You will be asked for a code when you sign in.")
            return redirect(url_for("auth.account"))
        form.code.errors.append("The code does not match; check the time on your device and try the new code")
    return _enrolment_page(current_user, form, account=True)


@bp.route("/sign-out", methods=["POST"])
@access("signed_in")
def sign_out():
    """End this session."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    services.sign_out(current_user, _session_row())
    logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("auth.sign_in"))


@bp.route("/account/password", methods=["GET", "POST"])
@access("signed_in")
def change_password():
    """Change one's own password; other sessions end."""
    form = ChangePasswordForm(email=current_user.email)
    row = _session_row()
    if form.validate_on_submit() and attempt(services.change_password, current_user, form.current_password.data,
                                             form.new_password.data, keep_token_hash=row.token_hash if row else None,
                                             form=form):
        flash("Your password has been changed. Any other sessions have been signed out.")
        return redirect(url_for("home.index"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/account")
@access("signed_in")
def account():
    """One's own account and active sessions."""
    current = _session_row()
    sessions = active_sessions(current_user.id, current_app.config)
    return render_template("auth/account.html", sessions=sessions,
                           current_hash=current.token_hash if current else None, form=ConfirmForm())


@bp.route("/account/sessions/<uuid:public_id>/end", methods=["POST"])
@access("signed_in")
def end_session(public_id):
    """End one of one's own sessions (this one signs out)."""
    row = services.own_session(current_user, public_id)
    if row is None:
        abort(404)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    current = _session_row()
    services.end_own_session(current_user, row)
    if current is not None and row.token_hash == current.token_hash:
        logout_user()
        session.clear()
        flash("You have signed out.")
        return redirect(url_for("auth.sign_in"))
    flash("That session has been ended.")
    return redirect(url_for("auth.account"))

