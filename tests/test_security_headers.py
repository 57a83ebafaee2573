"""Security headers on every kind of response, error pages included."""
import pytest

from tests.factories import UserFactory
from tests.helpers import sign_in

REQUIRED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}


def check(response):
    for name, value in REQUIRED.items():
        assert response.headers.get(name) == value, f"{name} on {response.status_code}"
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp and "'nonce-" in csp
    assert response.headers["Cache-Control"] == "no-store"


@pytest.fixture
def failing_app(app):
    """An app with one route that fails, to see the 500 page."""
    from config import TestConfig
    from marac import create_app
    from marac.core.permissions import access

    probe = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})

    @access("public")
    def boom():
        raise RuntimeError("boom with a Fakename Person inside")

    probe.add_url_rule("/boom", "boom", boom)
    probe.config["PROPAGATE_EXCEPTIONS"] = False
    return probe


def test_headers_on_200_302_403_404(client):
    check(client.get("/sign-in"))                     # 200
    check(client.get("/"))                            # 302
    sign_in(client, UserFactory())
    check(client.get("/admin/users/"))                # 403
    check(client.get("/no-such-page"))                # 404


def test_headers_on_500_and_nothing_leaks(failing_app, caplog):
    response = failing_app.test_client().get("/boom")
    assert response.status_code == 500
    check(response)
    assert "Fakename" not in response.get_data(as_text=True)
    assert "Sorry, there is a problem with the service" in response.get_data(as_text=True)


def test_nonce_changes_per_response_and_matches_inline_scripts(client):
    first, second = client.get("/sign-in"), client.get("/sign-in")
    nonce = first.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert nonce != second.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    html = first.get_data(as_text=True)
    assert html.count("<script") == html.count(f'nonce="{nonce}"')


def test_session_cookie_flags(client):
    response = client.get("/sign-in")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("marac_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_every_download_goes_through_the_one_attachment_helper():
    """Files are handed over by core.downloads.attachment only, so none is cached on the way or sniffed
    into another type: no other module sets a Content-Disposition of its own."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "marac"
    own = [str(p.relative_to(root)) for p in root.rglob("*.py")
           if "Content-Disposition" in p.read_text() and p.name != "downloads.py"]
    assert not own, f"set Content-Disposition through core.downloads.attachment: {own}"


def test_an_attachment_is_named_never_cached_and_never_sniffed(app):
    from marac.core.downloads import attachment

    with app.test_request_context():
        response = attachment("MARAC-2026-0001.pdf", b"%PDF-", "application/pdf")
    assert response.headers["Content-Disposition"] == 'attachment; filename="MARAC-2026-0001.pdf"'
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "application/pdf"
