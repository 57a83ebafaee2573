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
ENROL_RESTARTED = "Your set-up key has changed. Scan the new QR code (or enter the new key), then enter the code it shows"


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


def _throttled_sign_in_page(form, held_back=False):
    """The sign-in page refusing a throttled attempt: what was typed but the password and code is kept.
    `held_back`: the client address is held back, so the page asks for the code with the password."""
    form.password.data = ""
    form.code.data = ""
    return render_template("auth/sign_in.html", form=form, failure=None, throttled=True, held_back=held_back), 429


@bp.errorhandler(429)
def too_many_sign_ins(error):
    """A throttled sign-in shows the sign-in page with the throttling message; other pages of this
    blueprint get the general 429 page. (An error response rolls back at the edge.)"""
    if request.endpoint != "auth.sign_in":
        return render_error(429)
    return _throttled_sign_in_page(SignInForm())


def _held_back_sign_in(form, user):
    """Sign-in from a held-back client address (auth/throttle.py says why): the password and a correct
    code together get in; anything else gets one and the same refusal, which counts as a failure."""
    if user is not None and user.has_mfa and services.check_code(user, form.code.data):
        return _finish_sign_in(user)
    g.sign_in_failed = True
    throttle.count_address_failure()
    return _throttled_sign_in_page(form, held_back=True)


@bp.route("/sign-in", methods=["GET", "POST"])
@access("public")
@limiter.limit(throttle.limit_per_account, key_func=throttle.account_key, methods=["POST"],
               deduct_when=throttle.failed, exempt_when=throttle.known_device_for_email)
@limiter.limit(throttle.limit_per_device, key_func=throttle.device_key, methods=["POST"],
               deduct_when=throttle.failed, exempt_when=throttle.unknown_device)
def sign_in():
    """The password step of signing in (with the code too, while the client address is held back).
    The per-address limit is applied here, after the password is checked, not before the view."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if throttle.address_held_back():
            return _held_back_sign_in(form, user)
        if user is None:
            g.sign_in_failed = True  # the 200 answer commits the failed-sign-in audit event at the edge
            throttle.count_address_failure()
            form.password.data = ""
            return render_template("auth/sign_in.html", form=form, failure=SIGN_IN_FAILED), 200
        if services.mfa_required_for(user):
            session.clear()
            session["mfa_user_id"] = str(user.id)
            session["mfa_started_at"] = utcnow().isoformat()
            return redirect(url_for("auth.code" if user.has_mfa else "auth.enrol"))
        return _finish_sign_in(user)
    return render_template("auth/sign_in.html", form=form, failure=None, held_back=bool(form.code.errors))


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
        secret = session.get("enrol_secret")
        if secret is None:  # posted without the page that shows the key (or after it changed)
            form.code.errors.append(ENROL_RESTARTED)
        elif services.enrol_mfa(user, secret, form.code.data):
            session.pop("enrol_secret", None)
            return _finish_sign_in(user)
        else:
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
        secret = session.get("enrol_secret")
        if secret is None:  # posted without the page that shows the key (or after it changed)
            form.code.errors.append(ENROL_RESTARTED)
        elif services.enrol_mfa(current_user, secret, form.code.data):
            session.pop("enrol_secret", None)
            flash("Your authenticator app is set up. You will be asked for a code when you sign in.")
            return redirect(url_for("auth.account"))
        else:
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

