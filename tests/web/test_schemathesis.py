"""Schemathesis fuzzes every operation of /api/v1/openapi.json, once per role
(anonymous, a viewer, the admin) against a seeded database so that it gets past
the 401s, with a bounded number of examples: no 500, and every response fits
the document (status, content type, body schema). Rate limits are off here:
they are tested in test_limits.py, and a fuzzer is a brute-forcer."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from coordinator.accounts import invites, roles, sessions, setup
from coordinator.store import open_database, wallets
from coordinator.web import WebConfig, create_app

from .. import keys
from .conftest import ORIGIN

CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]
ROLES = ("anonymous", "viewer", "admin")


def _seeded() -> tuple[object, dict[str, dict[str, str]]]:
    path = Path(tempfile.mkdtemp(prefix="huddle-fuzz-")) / "huddle.sqlite3"
    app = create_app(WebConfig(path, "s" * 32, ORIGIN, network="testnet", rate_limits=False))
    db = open_database(path)
    admin = setup.complete(db, setup.issue_token(db), "Ada")
    wallet = wallets.add(db, "Fuzz vault", "testnet", keys.descriptor(2, 3))
    roles.grant(db, admin.id, wallet.id, "admin")
    viewer = invites.accept(db, invites.create(db, wallet.id, "viewer", admin.id)[1], "Vi")
    headers = {"anonymous": {"X-Huddle-CSRF": "x"}}
    for name, user in (("viewer", viewer), ("admin", admin)):
        token, session = sessions.start(db, user.id)
        headers[name] = {"Cookie": f"huddle_session={token}", "X-Huddle-CSRF": session.csrf_token}
    db.close()
    return app, headers


APP, HEADERS = _seeded()
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(max_examples=10, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
def test_the_api_never_500s_and_keeps_to_its_document(case, role):
    case.call_and_validate(headers=HEADERS[role], checks=CHECKS)
