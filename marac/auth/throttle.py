"""Throttling of failed sign-ins (Flask-Limiter; its storage is Redis when REDIS_URL is set, so every
worker sees the same counts). Only failures count, in three limits:

- per account (SIGN_IN_LIMIT_PER_ACCOUNT): failures against one email address, from anywhere. It
  does not apply on a browser that has completed a sign-in to that account before (a signed "known
  device" cookie, as OWASP suggests), so an attacker failing against an account cannot lock its
  owner out of the browsers they use;
- per known browser (SIGN_IN_LIMIT_PER_DEVICE): failures from one known browser against its own
  account. Known browsers are exempt from the other two limits, and this keeps a browser that someone
  once signed in on (a shared office computer) from being a place to guess without limit;
- per client address (SIGN_IN_LIMIT_PER_ADDRESS): failures from one address, against any account. It
  is what slows a password spray (one password tried on many accounts from one place).

A council's users share one NAT address, so a crowd failing behind it (or an attacker spraying from
inside it) must not lock everyone there out. When the address has used up its failures, it is
"held back", and:

- a known browser signing in to its own account is not held back (its per-device limit applies);
- anyone else must give the security code together with the password, in one step, and gets the
  same refusal whatever was wrong. Letting a correct password through to the code step would tell a
  sprayer which guess was right, at full speed, and the limit would slow nothing; asking for the code
  with it, a guess tells nothing unless the attacker also holds the account's authenticator, and each
  failure still counts against the account's own limit and keeps the address held back. The price:
  someone who has no authenticator yet (a new account) cannot sign in from a held-back address until
  the window has passed.
"""
import secrets

from flask import current_app, g, request, session
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeSerializer
from limits import parse

from marac.extensions import limiter

DEVICE_COOKIE = "marac_device"
DEVICE_COOKIE_DAYS = 90
DEVICE_COOKIE_ACCOUNTS = 5  # the accounts a browser remembers, the latest last


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="marac-known-device")


def _posted_email():
    return (request.form.get("email") or "").strip().lower()[:254]


def account_key():
    """The rate-limit key of the account being signed in to."""
    return f"sign-in-account:{_posted_email()}"


def address_key():
    """The rate-limit key of the client address (the proxies' view of it only as far as
    TRUSTED_PROXIES says: see create_app)."""
    return f"sign-in-address:{get_remote_address()}"


def device_key():
    """The rate-limit key of this known browser and the account being signed in to."""
    device_id, _ = _device()
    return f"sign-in-device:{device_id}:{_posted_email()}"


def mfa_key():
    """The rate-limit key of the account owing a code."""
    return f"mfa-account:{session.get('mfa_user_id', '-')}"


def failed(response):
    """Whether this request was a failed sign-in (only failures count)."""
    return bool(g.get("sign_in_failed"))


def _device():
    """(device id, user ids) from this browser's signed known-device cookie; (None, []) without a
    valid one. (A cookie of the older form, a bare list of ids, reads as unknown until the next
    sign-in replaces it.)"""
    token = request.cookies.get(DEVICE_COOKIE)
    if not token:
        return None, []
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None, []
    if not (isinstance(value, dict) and isinstance(value.get("d"), str) and isinstance(value.get("u"), list)):
        return None, []
    return value["d"], [str(user_id) for user_id in value["u"]]


def known_device_for_email():
    """Whether this browser completed a sign-in to the account being signed in to (once per request)."""
    if "known_device" not in g:
        from marac.auth.services import find_user_by_email

        device_id, user_ids = _device()
        user = find_user_by_email(_posted_email()) if device_id else None
        g.known_device = user is not None and str(user.id) in user_ids
    return g.known_device


def unknown_device():
    """Not a known browser of the account being signed in to: the per-device limit does not apply."""
    return not known_device_for_email()


def remember_device(response, user):
    """After a full sign-in, mark this browser as known for the user (kept for 90 days)."""
    device_id, user_ids = _device()
    if str(user.id) not in user_ids:
        user_ids = (user_ids + [str(user.id)])[-DEVICE_COOKIE_ACCOUNTS:]
    value = {"d": device_id or secrets.token_urlsafe(16), "u": user_ids}
    response.set_cookie(DEVICE_COOKIE, _serializer().dumps(value), max_age=DEVICE_COOKIE_DAYS * 24 * 3600,
                        httponly=True, secure=current_app.config["SESSION_COOKIE_SECURE"], samesite="Lax")
    return response


def _address_limit():
    return parse(limit_per_address())


def address_held_back():
    """Whether this sign-in must give its code with the password: the client address has used up its
    failed sign-ins, and this is not a known browser of the account (see the module's docstring)."""
    return not known_device_for_email() and not limiter.limiter.test(_address_limit(), address_key())


def count_address_failure():
    """Count a failed sign-in against the client address (not done for a known browser of the account,
    which the per-address limit does not apply to)."""
    if not known_device_for_email():
        limiter.limiter.hit(_address_limit(), address_key())


def limit_per_address():
    """Failed sign-ins allowed per client address."""
    return current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"]


def limit_per_account():
    """Failed sign-ins allowed per account."""
    return current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"]


def limit_per_device():
    """Failed sign-ins allowed per known browser of an account."""
    return current_app.config["SIGN_IN_LIMIT_PER_DEVICE"]


def limit_mfa():
    """Wrong codes allowed per account."""
    return current_app.config["MFA_LIMIT_PER_ACCOUNT"]
