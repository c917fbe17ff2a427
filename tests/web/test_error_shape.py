"""Every error the API gives, on every route, is the one JSON shape with the
status edge.py gives its kind: unknown routes, wrong methods, oversized and
unreadable bodies, and bugs included."""

from __future__ import annotations

import re

import pytest

from coordinator import edge
from coordinator.errors import CODES, HuddleError
from coordinator.store import wallets
from coordinator.web import WebConfig, create_app

from .conftest import API, ORIGIN, WALLET_TEXT

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _routes(app) -> list[tuple[str, str]]:
    """Every API rule with concrete values in place of its variables."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API):
            path = re.sub(r"<(?:int:)?[a-z_]+>", "1", rule.rule)
            out += [(path, method) for method in METHODS]
    return sorted(set(out))


def _assert_error_shape(response) -> None:
    body = response.get_json()
    assert response.mimetype == "application/json", response.get_data()[:100]
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]) <= {"code", "message", "details"}
    assert body["error"]["code"] in CODES


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory):
    return create_app(WebConfig(tmp_path_factory.mktemp("web") / "h.sqlite3", "s" * 32, ORIGIN,
                                rate_limits=False))


def test_every_route_and_method_answers_json_with_the_error_shape_when_it_fails(shared_app):
    client = shared_app.test_client()
    checked = 0
    for path, method in _routes(shared_app):
        for headers in ({}, {"X-Huddle-CSRF": "x"}):
            response = client.open(path, method=method, headers=headers, json={})
            if response.status_code >= 400:
                _assert_error_shape(response)
                checked += 1
            else:
                assert response.mimetype == "application/json"
    assert checked > 40


@pytest.mark.parametrize("path,method,status,code", [
    ("/api/v1/no/such/route", "GET", 404, "route_not_found"),
    ("/nowhere", "GET", 404, "route_not_found"),
    ("/api/v1/openapi.json", "DELETE", 405, "method_not_allowed"),
])
def test_werkzeug_errors_take_the_shape(shared_app, path, method, status, code):
    response = shared_app.test_client().open(path, method=method, headers={"X-Huddle-CSRF": "x"})

    assert response.status_code == status and response.get_json()["error"]["code"] == code
    _assert_error_shape(response)


def test_an_oversized_body_is_413_in_the_shape(shared_app):
    response = shared_app.test_client().post(f"{API}/session/recovery", data=b"{" + b" " * (1024 * 1024 + 1),
                                             content_type="application/json", headers={"X-Huddle-CSRF": "x"})
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "body_too_large"


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'"text"', b'{"code": 5}', b'{"code": "x", "more": 1}', b"",
                                  b'{"code": "ab\\ud800cd"}'],
                         ids=["broken", "array", "string", "wrong type", "unknown field", "empty", "lone surrogate"])
def test_unreadable_or_wrong_json_is_bad_json(shared_app, body):
    response = shared_app.test_client().post(f"{API}/session/recovery", data=body, content_type="application/json",
                                             headers={"X-Huddle-CSRF": "x"})

    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_json"


def test_a_bug_is_a_500_in_the_shape_without_a_traceback(tmp_path):
    app = create_app(WebConfig(tmp_path / "h.sqlite3", "s" * 32, ORIGIN))

    def explode():
        raise ZeroDivisionError("secret internals")

    app.add_url_rule(f"{API}/explode", view_func=explode)
    response = app.test_client().get(f"{API}/explode")

    assert response.status_code == 500 and response.get_json()["error"]["code"] == "internal_error"
    assert b"secret internals" not in response.get_data() and b"Traceback" not in response.get_data()


@pytest.mark.parametrize("text", ["not a wallet", "wsh(sortedmulti(3,{k},{k}))"],
                         ids=["unknown format", "threshold above n"])
def test_a_core_error_gets_the_code_and_status_the_core_and_edge_give_it(admin, db, text):
    if "{k}" in text:
        text = text.format(k=WALLET_TEXT.split(",")[1])
    with pytest.raises(HuddleError) as core_err:
        wallets.import_text(db, text, "testnet", "x")

    response = admin.post("/wallets/import", {"text": text, "name": "x"})

    assert response.get_json() == core_err.value.to_dict()
    assert response.status_code == edge.http_status(core_err.value)


def test_a_memo_with_a_lone_surrogate_is_bad_json_and_stores_nothing(proposal):
    bob, path = proposal
    wallet_path = path.rsplit("/", 1)[0]
    before = bob.get(wallet_path).get_json()["proposals"]
    body = b'{"payments": [{"address": "bcrt1qxyz", "amount": 1000}], "memo": "pa\\ud800int", "fee_rate": 2000}'

    response = bob.client.post(f"{API}{wallet_path}", data=body, content_type="application/json",
                               headers={"X-Huddle-CSRF": bob.csrf})

    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_json"
    assert "Unicode" in response.get_json()["error"]["message"]
    assert bob.get(wallet_path).get_json()["proposals"] == before
