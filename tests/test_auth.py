"""Signing in: same answer for unknown email and wrong password, throttling, single-use codes,
new session id at sign-in, idle and absolute expiry, and sessions that end at once."""
import re

import pyotp
from sqlalchemy import select

from marac.auth.models import UserSession
from marac.extensions import db
from marac.users.models import User
from tests.factories import UserFactory
from tests.helpers import (PASSWORD, audit_events, csrf_from, next_code, post_form, session_cookie, sign_in, signed_in,
                           text_by_id)


def _failure_page(response):
    text = response.get_data(as_text=True)
    return response.status_code, "Enter a correct email address and password" in text


def test_unknown_email_and_wrong_password_get_the_same_answer(client):
    user = UserFactory()
    wrong_password = post_form(client, "/sign-in", {"email": user.email, "password": "not-the-password"})
    unknown = post_form(client, "/sign-in", {"email": "nobody@example.test", "password": "not-the-password"})
    assert _failure_page(wrong_password) == _failure_page(unknown) == (200, True)
    # Nothing in the page says whether the account exists, and the typed email is kept.
    assert user.email in wrong_password.get_data(as_text=True)
    assert "nobody@example.test" in unknown.get_data(as_text=True)


def test_failed_sign_ins_are_audited_without_the_email(client):
    post_form(client, "/sign-in", {"email": "fake.person@example.test", "password": "wrong-password-1"})
    [event] = audit_events("auth.sign_in_failed")
    assert "fake.person" not in repr(event.detail) and event.object_id is None


def test_password_then_code_signs_in_and_lands_home(client):
    user = UserFactory()
    first = post_form(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    assert first.headers["Location"].endswith("/sign-in/code")
    assert client.get("/").status_code == 302  # not signed in until the code is given
    done = post_form(client, "/sign-in/code", {"code": next_code(user)})
    assert done.headers["Location"].endswith("/")
    assert "Your panels" in client.get("/").get_data(as_text=True)


def test_a_code_cannot_be_used_twice(app, client):
    user = UserFactory()
    code = next_code(user)
    post_form(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    assert post_form(client, "/sign-in/code", {"code": code}).status_code == 302
    other = app.test_client()
    post_form(other, "/sign-in", {"email": user.email, "password": PASSWORD})
    replay = post_form(other, "/sign-in/code", {"code": code})
    assert replay.status_code == 200
    assert "already been used" in replay.get_data(as_text=True)
    assert other.get("/").status_code == 302


def test_a_code_from_two_steps_away_is_refused(client):
    user = UserFactory()
    post_form(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    import time

    stale = pyotp.TOTP(db.session.get(User, user.id).totp_secret).at(time.time() - 90)
    assert post_form(client, "/sign-in/code", {"code": stale}).status_code == 200
    assert client.get("/").status_code == 302


def test_session_id_changes_at_sign_in(client):
    user = UserFactory()
    csrf_from(client, "/sign-in")
    before = session_cookie(client)
    assert before
    sign_in(client, user)
    after = session_cookie(client)
    assert after and after != before
    # The old id no longer names any session.
    from marac.auth.sessions import token_hash

    assert db.session.get(UserSession, token_hash(before)) is None


def test_cookie_holds_only_a_random_token(client):
    user = UserFactory()
    sign_in(client, user)
    token = session_cookie(client)
    assert str(user.id) not in token and "." not in token  # not a signed payload
    assert len(token) >= 40


def test_throttling_per_account(app, client):
    user = UserFactory()
    for _ in range(5):
        assert post_form(client, "/sign-in", {"email": user.email, "password": "wrong-password-x"}).status_code == 200
    blocked = post_form(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many failed sign-in attempts" in blocked.get_data(as_text=True)
    # Unknown accounts are throttled the same way, so throttling reveals nothing either.
    for _ in range(5):
        post_form(client, "/sign-in", {"email": "ghost@example.test", "password": "wrong-password-x"})
    assert post_form(client, "/sign-in", {"email": "ghost@example.test", "password": "x" * 12}).status_code == 429


def test_throttling_cannot_lock_the_owner_out_of_a_known_browser(app, client):
    """An attacker failing against an account does not stop its owner on a browser used before."""
    user = UserFactory()
    sign_in(client, user)
    post_form(client, "/sign-out", token_from="/account")
    attacker = app.test_client()
    for _ in range(6):
        post_form(attacker, "/sign-in", {"email": user.email, "password": "wrong-password-x"})
    assert post_form(attacker, "/sign-in", {"email": user.email, "password": PASSWORD}).status_code == 429
    assert sign_in(client, user).headers["Location"].endswith("/")


def test_throttling_per_address(app, client):
    app.config["SIGN_IN_LIMIT_PER_ADDRESS"] = "3 per 15 minutes"
    try:
        for n in range(3):
            post_form(client, "/sign-in", {"email": f"spray{n}@example.test", "password": "wrong-password-x"})
        assert post_form(client, "/sign-in", {"email": "spray9@example.test", "password": "x" * 12}).status_code == 429
    finally:
        app.config["SIGN_IN_LIMIT_PER_ADDRESS"] = "30 per 15 minutes"


def test_successful_sign_ins_do_not_count_towards_the_limit(client, clock):
    user = UserFactory()
    for _ in range(7):
        clock(seconds=30)  # each sign-in needs a fresh code
        sign_in(client, user)
        post_form(client, "/sign-out", token_from="/account")


def test_idle_timeout(client, clock):
    sign_in(client, UserFactory())
    clock(minutes=29)
    assert client.get("/").status_code == 200
    clock(minutes=29)  # 29 minutes since the last request: still alive
    assert client.get("/").status_code == 200
    clock(minutes=31)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")


def test_absolute_timeout(client, clock):
    sign_in(client, UserFactory())
    for _ in range(24):  # active every 25 minutes for 10 hours
        clock(minutes=25)
        assert client.get("/").status_code == 200
    clock(hours=2, minutes=1)
    client.get("/account")
    clock(minutes=1)
    assert client.get("/").status_code == 302


def test_deactivation_ends_sessions_at_once(app, client, world):
    target = world.users["chair"]
    sign_in(client, target)
    assert client.get("/").status_code == 200
    admin = signed_in(app, world.users["admin"])
    response = post_form(admin, f"/admin/users/{target.id}/deactivate")
    assert response.status_code == 302
    assert client.get("/").status_code == 302
    assert db.session.execute(select(UserSession).where(UserSession.user_id == target.id)).first() is None
    # and the password no longer works
    again = post_form(client, "/sign-in", {"email": target.email, "password": PASSWORD})
    assert _failure_page(again) == (200, True)


def test_password_change_ends_other_sessions_but_not_this_one(app, client, clock):
    user = UserFactory()
    other = signed_in(app, user)
    sign_in(client, user)
    new_password = "a-completely-new-passphrase"
    response = post_form(client, "/account/password", {
        "current_password": PASSWORD, "new_password": new_password, "confirm_password": new_password})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302
    clock(seconds=30)
    assert sign_in(app.test_client(), user, password=new_password)


def test_password_change_validation_keeps_the_user_informed(client):
    user = UserFactory()
    sign_in(client, user)
    response = post_form(client, "/account/password", {
        "current_password": PASSWORD, "new_password": "short", "confirm_password": "short"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "There is a problem" in text and "12 characters or more" in text


def test_one_time_password_must_be_changed_first(client):
    user = UserFactory(must_change_password=True)
    response = sign_in(client, user)
    assert response.headers["Location"].endswith("/account/password")
    assert client.get("/").headers["Location"].endswith("/account/password")
    assert client.get("/admin/users/").headers["Location"].endswith("/account/password")


def test_user_can_end_one_of_their_other_sessions(app, client):
    user = UserFactory()
    laptop = signed_in(app, user)
    sign_in(client, user)
    rows = db.session.execute(select(UserSession).where(UserSession.user_id == user.id)).scalars().all()
    from marac.auth.sessions import token_hash

    laptop_row = next(r for r in rows if r.token_hash == token_hash(session_cookie(laptop)))
    page = client.get("/account").get_data(as_text=True)
    assert str(laptop_row.public_id) in page and "This session" in page
    assert post_form(client, f"/account/sessions/{laptop_row.public_id}/end", token_from="/account").status_code == 302
    assert laptop.get("/").status_code == 302
    assert client.get("/").status_code == 200


def test_another_users_session_cannot_be_ended(app, client):
    victim, attacker = UserFactory(), UserFactory()
    victim_client = signed_in(app, victim)
    sign_in(client, attacker)
    row = db.session.execute(select(UserSession).where(UserSession.user_id == victim.id)).scalars().one()
    response = post_form(client, f"/account/sessions/{row.public_id}/end", token_from="/account")
    assert response.status_code == 404
    assert victim_client.get("/").status_code == 200


def test_sign_out_ends_the_session(client):
    sign_in(client, UserFactory())
    token = session_cookie(client)
    response = post_form(client, "/sign-out", token_from="/account")
    assert response.headers["Location"].endswith("/sign-in")
    from marac.auth.sessions import token_hash

    assert db.session.get(UserSession, token_hash(token)) is None
    assert client.get("/").status_code == 302


def test_mfa_enrolment_when_required(client):
    user = UserFactory(mfa=False)
    response = post_form(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/sign-in/set-up-authenticator")
    page = client.get("/sign-in/set-up-authenticator").get_data(as_text=True)
    assert "<svg" in page
    secret = text_by_id(page, "totp-secret").replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]+", secret), secret
    wrong = post_form(client, "/sign-in/set-up-authenticator", {"code": "000000"})
    assert wrong.status_code == 200 and "does not match" in wrong.get_data(as_text=True)
    done = post_form(client, "/sign-in/set-up-authenticator", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302 and done.headers["Location"].endswith("/")
    stored = db.session.get(User, user.id)
    assert stored.has_mfa and stored.totp_secret == secret
    # The secret is stored encrypted, never as plain text.
    raw = db.session.execute(select(User.__table__.c.totp_secret).where(User.id == user.id)).scalar_one()
    assert secret.encode() not in raw
    assert audit_events("auth.mfa_enrolled")


def test_mfa_is_optional_in_development_config_until_enrolled(app, client):
    app.config["MFA_REQUIRED"] = False
    try:
        user = UserFactory(mfa=False)
        response = post_form(client, "/sign-in", {"email": user.email, "password": PASSWORD})
        assert response.headers["Location"].endswith("/")
        enrolled = UserFactory(mfa=True)
        other = app.test_client()
        response = post_form(other, "/sign-in", {"email": enrolled.email, "password": PASSWORD})
        assert response.headers["Location"].endswith("/sign-in/code")
    finally:
        app.config["MFA_REQUIRED"] = True


def test_code_page_needs_the_password_step_first(client):
    assert client.get("/sign-in/code").headers["Location"].endswith("/sign-in")


def test_every_flashed_message_is_kept_until_shown(client, world):
    """Two steps taken before a page is shown both report back: the session saves a value changed in
    place (Flask appends to the list of flashed messages), which it used to drop as unchanged."""
    import datetime as dt

    from marac.core.timeutil import today
    from tests.helpers import form_tokens
    from tests.referrals import date_parts

    sign_in(client, world.users["manager"])
    url = f"/panels/{world.panel.id}/meetings/new"
    forms = [form_tokens(client, url), form_tokens(client, url)]  # two tabs, then each sent
    for days, tokens in zip((30, 31), forms):
        day = today() + dt.timedelta(days=days)
        assert client.post(url, data={**tokens, **date_parts("meets_on", day), "starts_at": "10:00"}).status_code == 302
    shown = client.get("/").get_data(as_text=True)
    assert shown.count("Meeting added.") == 2
