"""``GET /healthz``: anyone may ask, it answers "ok" only after the database does,
and when the database is gone it is a 503 in the one error shape that names no
path."""

from __future__ import annotations

from .conftest import API


def test_healthz_answers_ok_without_signing_in(app):
    client = app.test_client()

    for path in ("/healthz", f"{API}/healthz"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.get_json() == {"status": "ok"}


def test_healthz_is_503_in_the_error_shape_when_the_database_is_unreachable(app, config):
    client = app.test_client()
    moved = config.database.with_name("elsewhere.sqlite3")
    config.database.rename(moved)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.get_json() == {"error": {"code": "database_error", "message": "the database does not answer"}}
    assert str(config.database.parent) not in response.get_data(as_text=True)
    assert not config.database.exists()  # the check did not create an empty database in its place
    moved.rename(config.database)
    assert client.get("/healthz").status_code == 200
