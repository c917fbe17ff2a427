"""CSRF: every state-changing request needs X-Huddle-CSRF (the session's token
when a session cookie is sent), no foreign Origin, and a JSON body. The session
cookie is HttpOnly and SameSite=Lax, and Secure behind TLS."""

from __future__ import annotations

import pytest

from coordinator.web import WebConfig, create_app

from ..authenticator import SoftAuthenticator
from .conftest import API, ORIGIN, Browser, setup_token


def _reason(response) -> str:
    assert response.status_code == 403, response.get_json()
    return response.get_json()["error"]["details"]["reason"]


def test_a_signed_in_request_without_the_header_is_refused(admin, wallet_id):
    response = admin.client.post(f"{API}/wallets/{wallet_id}/invites", json={"role": "viewer"})

    assert _reason(response) == "csrf_missing"


def test_a_signed_in_request_with_another_token_is_refused(admin, wallet_id):
    response = admin.client.post(f"{API}/wallets/{wallet_id}/invites", json={"role": "viewer"},
                                 headers={"X-Huddle-CSRF": "guessed"})

    assert _reason(response) == "csrf_mismatch"


def test_a_foreign_origin_is_refused_even_with_the_right_token(admin, wallet_id):
    response = admin.post(f"/wallets/{wallet_id}/invites", {"role": "viewer"},
                          headers={"Origin": "https://evil.example"})

    assert _reason(response) == "csrf_origin"


def test_the_right_token_from_the_pinned_origin_passes(admin, wallet_id):
    response = admin.post(f"/wallets/{wallet_id}/invites", {"role": "viewer"}, headers={"Origin": ORIGIN})

    assert response.status_code == 201


def test_a_form_post_is_refused(admin):
    response = admin.client.post(f"{API}/session/recovery", data={"code": "x"},
                                 headers={"X-Huddle-CSRF": admin.csrf})

    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_json"


def test_sign_in_routes_need_the_header_too(app):
    response = app.test_client().post(f"{API}/session/options")

    assert _reason(response) == "csrf_missing"


def test_bearer_token_requests_need_no_csrf_header(app, admin, wallet_id):
    secret = admin.post("/tokens", {"scopes": ["agent"]}).get_json()["secret"]

    response = app.test_client().delete(f"{API}/session", headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code != 403


def test_reads_need_no_header(admin):
    assert admin.client.get(f"{API}/session").status_code == 200


def _cookie_attributes(response) -> str:
    [cookie] = [v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("huddle_session=")]
    return cookie


def _setup_response(app, config, browser: Browser):
    token = setup_token(config)
    options = browser.post("/setup/options", {"token": token, "name": "Ada"}).get_json()
    return browser.post("/setup", {"token": token, "name": "Ada", "credential": browser.passkey.create(options)})


def test_the_session_cookie_is_httponly_and_lax_and_not_secure_on_localhost(app, config):
    cookie = _cookie_attributes(_setup_response(app, config, Browser(app.test_client())))

    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_behind_tls_the_session_cookie_is_secure(tmp_path):
    origin = "https://huddle.example.org"
    config = WebConfig(tmp_path / "h.sqlite3", "s" * 32, origin)
    app = create_app(config)
    browser = Browser(app.test_client(), SoftAuthenticator(origin, "huddle.example.org"))

    cookie = _cookie_attributes(_setup_response(app, config, browser))

    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("origin", ["http://192.168.1.5:5000", "http://huddle.lan", "ftp://x.example",
                                    "https://x.example/path", "https://[::1]"])
def test_origins_passkeys_cannot_use_are_refused_at_start(origin):
    from coordinator.errors import InvalidInput
    from coordinator.web.config import check_origin

    with pytest.raises(InvalidInput) as err:
        check_origin(origin)
    assert err.value.code == "bad_config"
