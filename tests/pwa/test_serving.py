"""How the coordinator serves the PWA: the same page at every app route with a
strict CSP and camera limited to self, versioned assets cached for a year with
the right MIME types, a revalidated service worker allowed at /, and the API
still answering in its own shape."""

from __future__ import annotations

import json

import pytest

from coordinator.web import WebConfig, create_app
from coordinator.web.pwa import CSP, DEFAULT_DIR

PAGES = ["/", "/setup", "/join", "/signin", "/wallets", "/wallets/1", "/wallets/1/proposals/2", "/members"]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    config = WebConfig(tmp_path_factory.mktemp("pwa") / "h.sqlite3", "s" * 32, "http://localhost:5000",
                       rate_limits=False)
    return create_app(config).test_client()


def _version(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return page.split('src="/v/', 1)[1].split("/", 1)[0]


@pytest.mark.parametrize("path", PAGES)
def test_every_app_route_is_the_page_with_the_strict_csp(client, path):
    response = client.get(path)

    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == CSP
    assert "camera=(self)" in response.headers["Permissions-Policy"]
    assert response.headers["Cache-Control"] == "no-cache"
    assert "<script>" not in response.get_data(as_text=True) and "style=" not in response.get_data(as_text=True)


def test_the_csp_allows_only_self():
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))

    assert directives["default-src"] == directives["script-src"] == directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CSP


@pytest.mark.parametrize("name,mimetype", [("app.js", "text/javascript"), ("js/api.js", "text/javascript"),
                                           ("vendor/qrcode-generator/qrcode.mjs", "text/javascript"),
                                           ("styles.css", "text/css"), ("icons/icon-192.png", "image/png"),
                                           ("icons/icon.svg", "image/svg+xml"), ("offline.html", "text/html")])
def test_versioned_assets_have_their_type_and_are_immutable(client, name, mimetype):
    response = client.get(f"/v/{_version(client)}/{name}")

    assert response.status_code == 200 and response.mimetype == mimetype
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Content-Security-Policy"] == CSP


def test_the_offline_page_names_this_versions_stylesheet(client):
    version = _version(client)

    assert f"/v/{version}/styles.css" in client.get(f"/v/{version}/offline.html").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/v/000000000000/app.js", "/v/{v}/no-such.js", "/v/{v}/../coordinator/edge.py",
                                  "/v/{v}/sw.js", "/v/{v}/icons/make_icons.py", "/v/{v}/README.md"])
def test_another_version_or_an_unknown_file_is_not_found_in_the_one_shape(client, path):
    response = client.get(path.format(v=_version(client)))

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "route_not_found"


def test_the_service_worker_is_revalidated_allowed_at_root_and_knows_this_version(client):
    response = client.get("/sw.js")
    body = response.get_data(as_text=True)

    assert response.mimetype == "text/javascript" and response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert f'const VERSION = "{_version(client)}";' in body
    assets = json.loads(body.split("const ASSETS = ", 1)[1].split(";\n", 1)[0])
    assert all(a.startswith(f"/v/{_version(client)}/") for a in assets)
    assert f"/v/{_version(client)}/offline.html" in assets and f"/v/{_version(client)}/sw.js" not in assets


def test_the_manifest_is_json_with_versioned_icons(client):
    response = client.get("/manifest.webmanifest")
    manifest = json.loads(response.get_data(as_text=True))

    assert response.mimetype == "application/manifest+json"
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200
    assert {"any", "maskable"} <= {icon["purpose"] for icon in manifest["icons"]}


def test_the_api_and_unknown_paths_keep_their_own_answers(client):
    assert client.get("/api/v1/setup").get_json() == {"needs_setup": True}
    assert client.get("/api/v1/setup").headers["Cache-Control"] == "no-store"
    assert client.get("/nowhere").get_json()["error"]["code"] == "route_not_found"


def test_the_served_folder_is_the_repositorys_pwa():
    assert (DEFAULT_DIR / "index.html").is_file() and (DEFAULT_DIR / "sw.js").is_file()


def test_a_folder_that_is_not_the_pwa_is_refused_at_start(tmp_path, monkeypatch):
    from coordinator.errors import InvalidInput

    monkeypatch.setenv("HUDDLE_PWA_DIR", str(tmp_path))
    with pytest.raises(InvalidInput) as refused:
        create_app(WebConfig(tmp_path / "h.sqlite3", "s" * 32, "http://localhost:5000"))
    assert refused.value.code == "bad_config"


def test_text_is_gzipped_for_a_browser_that_accepts_it_and_plain_otherwise(client):
    import gzip

    name = f"/v/{_version(client)}/app.js"
    plain = client.get(name)
    zipped = client.get(name, headers={"Accept-Encoding": "gzip, deflate, br"})

    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    assert "Content-Encoding" not in client.get(f"/v/{_version(client)}/icons/icon-192.png",
                                                headers={"Accept-Encoding": "gzip"}).headers


def test_no_script_builds_markup_from_text_or_evaluates_it():
    sources = [p for p in DEFAULT_DIR.rglob("*") if p.suffix in (".js", ".mjs", ".html")]
    code = {p: "\n".join(line for line in p.read_text(encoding="utf-8").splitlines()
                         if not line.lstrip().startswith("//")) for p in sources}

    for path, text in code.items():
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in text, f"{path.relative_to(DEFAULT_DIR)} uses {sink}"
    assert len(sources) > 15
