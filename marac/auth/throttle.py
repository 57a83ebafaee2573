"""Throttling of failed sign-ins (Flask-Limiter): per client address and per account.

Only failures count. So that an attacker who keeps failing against one account cannot lock its
owner out indefinitely, the per-account limit does not apply on a browser that has completed a
sign-in to that account before (a signed "known device" cookie, as OWASP suggests); the per-address
limit still does.
"""
from flask import current_app, g, request, session
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeSerializer

DEVICE_COOKIE = "marac_device"


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="marac-known-device")


def account_key():
    """The rate-limit key of the account being signed in to."""
    email = (request.form.get("email") or "").strip().lower()[:254]
    return f"sign-in-account:{email}"


def address_key():
    """The rate-limit key of the client address."""
    return f"sign-in-address:{get_remote_address()}"


def mfa_key():
    """The rate-limit key of the account owing a code."""
    return f"mfa-account:{session.get('mfa_user_id', '-')}"


def failed(response):
    """Whether this request was a failed sign-in (only failures count)."""
    return bool(g.get("sign_in_failed"))


def known_device_for_email():
    """Whether this browser completed a sign-in to the account being signed in to."""
    from marac.auth.services import find_user_by_email

    token = request.cookies.get(DEVICE_COOKIE)
    if not token:
        return False
    try:
        user_ids = _serializer().loads(token)
    except BadSignature:
        return False
    user = find_user_by_email(request.form.get("email"))
    return user is not None and str(user.id) in user_ids


def remember_device(response, user):
    """After a full sign-in, mark this browser as known for the user (kept for 90 days)."""
    user_ids = []
    token = request.cookies.get(DEVICE_COOKIE)
    if token:
        try:
            user_ids = list(_serializer().loads(token))
        except BadSignature:
            user_ids = []
    if str(user.id) not in user_ids:
        user_ids = (user_ids + [str(user.id)])[-5:]
    response.set_cookie(DEVICE_COOKIE, _serializer().dumps(user_ids), max_age=90 * 24 * 3600,
                        httponly=True, secure=current_app.config["SESSION_COOKIE_SECURE"], samesite="Lax")
    return response


def limit_per_address():
    """Failed sign-ins allowed per client address."""
    return current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"]


def limit_per_account():
    """Failed sign-ins allowed per account."""
    return current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"]


def limit_mfa():
    """Wrong codes allowed per account."""
    return current_app.config["MFA_LIMIT_PER_ACCOUNT"]
