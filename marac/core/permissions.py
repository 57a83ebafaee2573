"""Access rules. Every view declares one with @access(...); a view without one is refused (403).

Rules say who may reach a route at all; object-level checks (``panel.can_manage(user)``) live on
the protected object and are called by the route after loading it.
"""
from functools import wraps

from flask import abort, current_app, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.local import LocalProxy

from marac.extensions import db

RULES = ("public", "mfa_pending", "signed_in", "admin")
# Endpoints that a user who must change their password may still reach.
PASSWORD_CHANGE_ALLOWED = {"auth.change_password", "auth.sign_out", "static"}


def access(rule):
    """Declare who may reach a view: public, mfa_pending, signed_in or admin."""
    if rule not in RULES:
        raise ValueError(f"unknown access rule {rule!r}")

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            return view(*args, **kwargs)

        wrapped.access_rule = rule
        return wrapped

    return decorate


def real_object(value):
    """The object behind a context-local proxy (current_user), else the value: a check made for every
    row of a list asks the user directly, not through the proxy's lookup each time."""
    return value._get_current_object() if isinstance(value, LocalProxy) else value


def rule_of(view):
    """The access rule a view declared (static files are public); None when it declared none."""
    if view is current_app.view_functions.get("static"):
        return "public"
    return getattr(view, "access_rule", None)


def enforce_access():
    """before_request: apply the endpoint's rule, deny by default."""
    if request.endpoint is None:
        return None  # no route matched: the 404 handler answers
    rule = rule_of(current_app.view_functions[request.endpoint])
    if rule is None:
        abort(403)
    if rule == "public":
        return None
    if rule == "mfa_pending":
        if session.get("mfa_user_id"):
            return None
        return redirect(url_for("auth.sign_in"))
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in"))
    if current_user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ALLOWED:
        return redirect(url_for("auth.change_password"))
    if rule == "admin" and not current_user.is_admin:
        abort(403)
    return None


def get_or_404(model, object_id, options=()):
    """Load by primary key (with these loader options, for what the page reads of it) or 404."""
    obj = db.session.get(model, object_id, options=options)
    if obj is None:
        abort(404)
    return obj


def require(allowed):
    """403 unless allowed is true: the second step of every object route."""
    if not allowed:
        abort(403)
