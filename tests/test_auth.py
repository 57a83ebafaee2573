"""Signing in: same answer for unknown email and wrong password, throttling, single-use codes,
new session id at sign-in, idle and absolute expiry, and sessions that end at once."""
import re
import secrets

import pyotp
import pytest
from sqlalchemy import select

from config import SECRET_NAMES, TestConfig
from marac import create_app
from marac.auth.models import UserSession
from marac.extensions import db, limiter
from marac.users.models import User
from tests.factories import UserFactory
from tests.helpers import (PASSWORD, REDIS_TEST_URL, audit_events, csrf_from, next_code, page_text, post_form,
                           redis_or_skip, session_cookie, sign_in, signed_in, soup, text_by_id)


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


def test_unknown_and_known_emails_take_the_same_time(app, client):
    """With the production hashing profile, a wrong password for a known email and any password for an
    unknown one each cost one verification: 15 interleaved sign-ins of each, medians within 1.5x.
    (Before, an unknown email made a new dummy hash on every call as well: about twice as slow.)"""
    import statistics
    import time

    saved = {key: app.config[key] for key in ("PASSWORD_HASH_FAST", "SIGN_IN_LIMIT_PER_ACCOUNT",
                                              "SIGN_IN_LIMIT_PER_ADDRESS")}
    app.config.update(PASSWORD_HASH_FAST=False, SIGN_IN_LIMIT_PER_ACCOUNT="1000 per minute",
                      SIGN_IN_LIMIT_PER_ADDRESS="1000 per minute")
    try:
        user = UserFactory()  # hashed with the production profile, as real accounts are
        token = csrf_from(client, "/sign-in")

        def answer_time(email):
            started = time.perf_counter()
            response = client.post("/sign-in", data={"email": email, "password": "not-the-password",
                                                     "csrf_token": token})
            elapsed = time.perf_counter() - started
            assert _failure_page(response) == (200, True)
            return elapsed

        answer_time(user.email), answer_time("warm-up@example.test")  # the dummy hash is made here, once
        known, unknown = [], []
        for n in range(15):
            known.append(answer_time(user.email))
            unknown.append(answer_time(f"nobody{n}@example.test"))
    finally:
        app.config.update(saved)
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 1 / 1.5 < ratio < 1.5, (statistics.median(known), statistics.median(unknown))


def test_the_dummy_hash_is_made_once_with_the_real_parameters(app):
    from marac.auth import passwords

    assert passwords.dummy_hash() is passwords.dummy_hash()
    assert not passwords.needs_rehash(passwords.dummy_hash())  # the parameters real hashes have


def test_an_email_no_account_can_have_is_an_ordinary_failure(client):
    """A NUL (which PostgreSQL refuses in any query) finds no account, with the usual answer, not a 500."""
    for email in ("a\x00b@example.org", "\x00"):
        assert _failure_page(post_form(client, "/sign-in", {"email": email, "password": "wrong-password-x"})) == (
            200, True)


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


def crowd_fails(app, count=30, **environ):
    """`count` failed sign-ins with made-up emails from one address (by default the test clients'),
    as a crowd behind a council's NAT address, or a password spray, makes."""
    crowd = app.test_client()
    crowd.environ_base.update(environ)
    token = csrf_from(crowd, "/sign-in")
    answers = [crowd.post("/sign-in", data={"email": f"made.up{n}@example.test", "password": "wrong-password-x",
                                            "csrf_token": token}).status_code for n in range(count)]
    return answers


def held_back(response):
    """Whether the answer is the held-back sign-in page: refused, asking for the code with the password."""
    return response.status_code == 429 and soup(response).find("input", attrs={"name": "code"}) is not None


def test_a_crowd_behind_one_address_does_not_lock_out_a_known_browser(app, client):
    user = UserFactory()
    sign_in(client, user)
    post_form(client, "/sign-out", token_from="/account")
    assert crowd_fails(app) == [200] * 30
    # The address has used up its failures: a new guess from a new browser is refused ...
    assert held_back(post_form(app.test_client(), "/sign-in", {"email": "made.up99@example.test",
                                                                "password": "wrong-password-x"}))
    # ... while the browser that signed in before signs in as usual: password, then code.
    assert sign_in(client, user).headers["Location"].endswith("/")
    assert client.get("/").status_code == 200


def test_a_new_browser_signs_in_from_a_held_back_address_with_its_password_and_code(app):
    user = UserFactory()
    crowd_fails(app)
    browser = app.test_client()
    first = post_form(browser, "/sign-in", {"email": user.email, "password": PASSWORD})
    assert held_back(first)
    assert "enter your password and the security code" in page_text(first)
    assert user.email in first.get_data(as_text=True)  # what was typed is kept, but the password
    done = post_form(browser, "/sign-in", {"email": user.email, "password": PASSWORD, "code": next_code(user)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/")
    assert browser.get("/").status_code == 200
    assert [event.object_id for event in audit_events("auth.sign_in")] == [str(user.id)]


def test_a_held_back_address_tells_a_spray_nothing(app):
    """From a held-back address a correct password alone gets the very answer a wrong one gets, so a
    password spray learns nothing there; wrong guesses, with or without a code, are refused."""
    user, newcomer = UserFactory(), UserFactory(mfa=False)
    crowd_fails(app)

    def answer(data):
        response = post_form(app.test_client(), "/sign-in", data)
        assert held_back(response)
        return page_text(response)

    right = answer({"email": user.email, "password": PASSWORD})
    assert answer({"email": user.email, "password": "wrong-password-x"}) == right
    assert answer({"email": user.email, "password": "wrong-password-x", "code": next_code(user)}) == right
    assert answer({"email": user.email, "password": PASSWORD, "code": "000000"}) == right
    # No authenticator yet: the password alone cannot be let through.
    assert answer({"email": newcomer.email, "password": PASSWORD}).replace(newcomer.email, user.email) == right
    assert db.session.execute(select(UserSession).where(UserSession.user_id == user.id)).first() is None


def test_the_account_limit_still_holds_at_a_held_back_address(app):
    """Each refusal at a held-back address counts against the account: after five, even the right
    password and code from a new browser wait (a known browser would not)."""
    user = UserFactory()
    crowd_fails(app)
    for _ in range(5):
        post_form(app.test_client(), "/sign-in", {"email": user.email, "password": PASSWORD, "code": "123456"})
    late = post_form(app.test_client(), "/sign-in", {"email": user.email, "password": PASSWORD,
                                                     "code": next_code(user)})
    assert late.status_code == 429 and "Wait 15 minutes" in page_text(late)


def test_a_known_browser_has_a_limit_of_its_own(app, client):
    """Known browsers are exempt from the per-address and per-account limits, not from all limits: a
    browser someone once signed in on is no place to guess without end."""
    user = UserFactory()
    sign_in(client, user)
    post_form(client, "/sign-out", token_from="/account")
    for _ in range(10):
        assert post_form(client, "/sign-in", {"email": user.email, "password": "wrong-password-x"}).status_code == 200
    assert post_form(client, "/sign-in", {"email": user.email, "password": PASSWORD}).status_code == 429
    # Its failures did not count against the address or the account: another browser is not held back.
    other = post_form(app.test_client(), "/sign-in", {"email": user.email, "password": PASSWORD})
    assert other.headers["Location"].endswith("/sign-in/code")


@pytest.fixture
def another_app(app):
    """another_app(config=TestConfig, **overrides): another instance of the application on the test
    database with the test keys, as another worker or a differently configured deployment is.
    Flask-Limiter's limiter is one object per process, re-initialised by each create_app, as a new
    worker's would be; it is given back to the test app afterwards."""
    def make(config=TestConfig, **overrides):
        shared = {name: app.config[name] for name in ("SQLALCHEMY_DATABASE_URI", *SECRET_NAMES)}
        made = create_app(config, overrides={**shared, **overrides})
        made.test_client_class = app.test_client_class
        return made

    yield make
    limiter.init_app(app)


def client_at(app, remote_addr, forwarded_for=None):
    """A browser whose connection comes from remote_addr, with an X-Forwarded-For header if given."""
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = remote_addr
    if forwarded_for:
        browser.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return browser


def wrong_guess(browser, email="made.up@example.test"):
    return post_form(browser, "/sign-in", {"email": email, "password": "wrong-password-x"})


def test_without_trusted_proxies_a_forged_forwarded_for_changes_nothing(app):
    assert app.config["TRUSTED_PROXIES"] == 0  # the default
    app.config["SIGN_IN_LIMIT_PER_ADDRESS"] = "3 per 15 minutes"
    try:
        for n in range(3):
            wrong_guess(client_at(app, "192.0.2.10", f"203.0.113.{n}"), f"made.up{n}@example.test")
        # A new forged header does not make a new address: the connection's address is held back.
        assert held_back(wrong_guess(client_at(app, "192.0.2.10", "203.0.113.99")))
        assert wrong_guess(client_at(app, "192.0.2.11")).status_code == 200
    finally:
        app.config["SIGN_IN_LIMIT_PER_ADDRESS"] = "30 per 15 minutes"
    assert {event.client_addr for event in audit_events("auth.sign_in_failed")} == {"192.0.2.10", "192.0.2.11"}


def test_behind_one_trusted_proxy_the_client_is_the_last_forwarded_address(another_app):
    proxied = another_app(TRUSTED_PROXIES=1, SIGN_IN_LIMIT_PER_ADDRESS="3 per 15 minutes")
    for n in range(3):
        wrong_guess(client_at(proxied, "10.0.0.1", "198.51.100.7"), f"made.up{n}@example.test")
    # The proxy's last hop is the client: another client behind the same proxy is not held back ...
    assert wrong_guess(client_at(proxied, "10.0.0.1", "198.51.100.8")).status_code == 200
    # ... and this one is, whatever it adds in front of what the proxy appended.
    assert held_back(wrong_guess(client_at(proxied, "10.0.0.1", "192.0.2.77, 198.51.100.7")))
    assert {event.client_addr for event in audit_events("auth.sign_in_failed")} == {"198.51.100.7", "198.51.100.8"}


def test_trusted_proxies_must_be_a_whole_number(monkeypatch):
    from config import ConfigError

    monkeypatch.setenv("MARAC_TRUSTED_PROXIES", "2")
    assert TestConfig.load()["TRUSTED_PROXIES"] == 2
    monkeypatch.setenv("MARAC_TRUSTED_PROXIES", "yes")
    with pytest.raises(ConfigError, match="MARAC_TRUSTED_PROXIES"):
        TestConfig.load()


def two_workers_count(another_app, config):
    """Failures through one worker (against an address and an account), then a second worker: whether
    the second refuses both. Addresses and email are new on each run, so runs never share counts."""
    limits = {"SIGN_IN_LIMIT_PER_ADDRESS": "3 per 15 minutes", "SIGN_IN_LIMIT_PER_ACCOUNT": "2 per 15 minutes"}
    run = secrets.token_hex(4)
    crowd, email = f"2001:db8:{run[:4]}::{run[4:]}", f"target-{run}@example.test"
    first = another_app(config, **limits)
    for n in range(3):
        wrong_guess(client_at(first, crowd), f"made.up{n}-{run}@example.test")
    for n in range(2):
        wrong_guess(client_at(first, f"2001:db8:{run[:4]}::{n + 1:x}:{run[4:]}"), email)
    second = another_app(config, **limits)  # a new worker: its limiter storage is made anew
    return (held_back(wrong_guess(client_at(second, crowd), f"made.up9-{run}@example.test")),
            wrong_guess(client_at(second, f"2001:db8:{run[:4]}::9:{run[4:]}"), email).status_code == 429)


def test_limits_are_shared_between_workers_through_redis(another_app):
    redis_or_skip()

    class RedisConfig(TestConfig):
        REDIS_URL = REDIS_TEST_URL

    assert RedisConfig.load()["RATELIMIT_STORAGE_URI"] == REDIS_TEST_URL
    assert two_workers_count(another_app, RedisConfig) == (True, True)


def test_without_redis_each_worker_counts_alone(another_app):
    """The control for the test above: with memory storage a second worker starts from nothing."""
    assert TestConfig.load()["RATELIMIT_STORAGE_URI"] == "memory://"
    assert two_workers_count(another_app, TestConfig) == (False, False)


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


def test_posting_the_authenticator_form_without_loading_it_asks_to_scan_again(client):
    """The set-up key lives in the session from the page that shows it: a post without it (a stale
    tab, an expired session) is told to scan the new code, and the new one works."""
    user = UserFactory(mfa=False)
    post_form(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    response = post_form(client, "/sign-in/set-up-authenticator", {"code": "123456"}, token_from="/sign-in")
    assert response.status_code == 200
    assert "Your set-up key has changed" in page_text(response)
    secret = text_by_id(response, "totp-secret").replace(" ", "")
    done = post_form(client, "/sign-in/set-up-authenticator", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302 and db.session.get(User, user.id).has_mfa


def test_posting_the_account_authenticator_form_without_loading_it_asks_to_scan_again(app, client):
    app.config["MFA_REQUIRED"] = False
    try:
        user = UserFactory(mfa=False)
        sign_in(client, user)
        response = post_form(client, "/account/authenticator", {"code": "123456"}, token_from="/account")
    finally:
        app.config["MFA_REQUIRED"] = True
    assert response.status_code == 200 and "Your set-up key has changed" in page_text(response)
    assert not db.session.get(User, user.id).has_mfa


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize("digits", [FULL_WIDTH, ARABIC_INDIC], ids=["full-width", "arabic-indic"])
def test_a_code_typed_in_other_digits_is_read_as_ascii(client, digits):
    user = UserFactory()
    post_form(client, "/sign-in", {"email": user.email, "password": PASSWORD})
    done = post_form(client, "/sign-in/code", {"code": " ".join([next_code(user)[:3], next_code(user)[3:]])
                                                .translate(digits)})
    assert done.status_code == 302 and done.headers["Location"].endswith("/")


# Text typed as a security code that is not six ASCII digits as it stands.
ODD_CODES = ["１２３４５６", "²²²²²²", "𝟏𝟐𝟑𝟒𝟓𝟔", "١٢٣٤٥٦", "一二三四五六", "ⅠⅡⅢⅣⅤⅥ", "12345６7", "123456\u200b",
             "\x00" * 6, "12\u300034\u00a056", "-12345", "1" * 5000]


@pytest.mark.parametrize("code", ODD_CODES)
def test_every_page_that_reads_a_code_answers_odd_text_with_a_message(app, code):
    """The code step, both set-up pages and the held-back sign-in read a code through one field
    (totp.normalise_code): whatever is typed, the answer is a page with a message, never a 500."""
    messages = ("The security code must be 6 digits", "wrong or has already been used", "does not match",
                "Too many failed sign-in attempts")
    user, newcomer = UserFactory(), UserFactory(mfa=False)
    answers = []
    browser = app.test_client()
    post_form(browser, "/sign-in", {"email": user.email, "password": PASSWORD})
    answers.append(post_form(browser, "/sign-in/code", {"code": code}))
    browser = app.test_client()
    post_form(browser, "/sign-in", {"email": newcomer.email, "password": PASSWORD})
    answers.append(post_form(browser, "/sign-in/set-up-authenticator", {"code": code}))
    app.config.update(MFA_REQUIRED=False, SIGN_IN_LIMIT_PER_ADDRESS="1 per 15 minutes")
    try:
        browser = signed_in(app, newcomer)
        answers.append(post_form(browser, "/account/authenticator", {"code": code}))
        crowd = client_at(app, "192.0.2.50")
        wrong_guess(crowd)
        answers.append(post_form(crowd, "/sign-in", {"email": user.email, "password": PASSWORD, "code": code}))
    finally:
        app.config.update(MFA_REQUIRED=True, SIGN_IN_LIMIT_PER_ADDRESS="30 per 15 minutes")
    for answer in answers:
        assert answer.status_code in (200, 429), answer.status_code
        assert any(message in page_text(answer) for message in messages), page_text(answer)[:300]
    assert not db.session.get(User, newcomer.id).has_mfa


def test_normalise_code_reads_any_digits_and_keeps_the_rest():
    from marac.auth.totp import is_code, matching_step, normalise_code

    assert normalise_code("１２３ ４５６") == normalise_code("١٢٣٤٥٦") == normalise_code("12 34 56") == "123456"
    assert normalise_code("²²²") == "222" and normalise_code(None) == ""
    assert not is_code(normalise_code("一二三四五六")) and not is_code(normalise_code("1234567"))
    # The check itself is as careful as the form: odd text is no match, not an error.
    from marac.core.timeutil import utcnow

    assert all(matching_step(pyotp.random_base32(), code, utcnow()) is None for code in ODD_CODES[4:])


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


@pytest.mark.parametrize("writes_session", [False, True], ids=["session unchanged", "session changed"])
def test_a_session_ended_while_a_request_runs_stays_ended(app, world, monkeypatch, writes_session):
    """Another request (a sign-out elsewhere, a password change, a deactivation) ends the session while
    this one is being served: saving this request's session, changed or not, must not bring it back
    under a new token."""
    from flask import session

    from marac.auth.sessions import end_sessions
    from marac.home import services as home_services
    from tests.helpers import signed_in

    manager = world.users["manager"]
    client = signed_in(app, manager)
    assert client.get("/").status_code == 200
    summary = home_services.manager_summary

    def ended_meanwhile(panel, on):
        end_sessions(manager.id)
        db.session.commit()
        if writes_session:
            session["noted"] = True
        return summary(panel, on)

    monkeypatch.setattr(home_services, "manager_summary", ended_meanwhile)
    client.get("/")
    monkeypatch.setattr(home_services, "manager_summary", summary)
    assert db.session.execute(select(UserSession).where(UserSession.user_id == manager.id)).first() is None
    response = client.get("/")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
