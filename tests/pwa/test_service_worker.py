"""Installability: the service worker installs and caches only this version's
static assets (never /api, never /socket.io, never a page), an offline page
load gets the honest offline page, and the manifest parses with icons that load."""

from __future__ import annotations

from .conftest import set_up_admin

CACHED = """async () => {
  const out = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    out[name] = (await cache.keys()).map((r) => new URL(r.url).pathname);
  }
  return out;
}"""


def _ready(page) -> str:
    """Wait until the worker controls the page; returns its script URL."""
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    return page.evaluate("navigator.serviceWorker.controller.scriptURL")


def _version(page) -> str:
    return page.evaluate("document.querySelector('script[type=module]').src").split("/v/", 1)[1].split("/")[0]


def test_the_worker_caches_only_versioned_assets_and_never_the_api(tab):
    set_up_admin(tab, "Ada")
    page = tab.page
    assert _ready(page).endswith("/sw.js")
    tab.goto("/wallets")  # API calls and a socket, now through the worker
    page.evaluate("fetch('/api/v1/session').then((r) => r.json())")

    caches = page.evaluate(CACHED)
    version = _version(page)

    assert list(caches) == [f"huddle-static-{version}"]
    paths = caches[f"huddle-static-{version}"]
    assert f"/v/{version}/app.js" in paths and f"/v/{version}/offline.html" in paths
    assert all(p.startswith(f"/v/{version}/") for p in paths), paths
    assert not any(p.startswith(("/api", "/socket.io")) for p in paths)


def test_an_old_versions_cache_is_deleted_when_the_new_worker_activates(tab):
    page = tab.page
    tab.goto("/")
    _ready(page)
    page.evaluate("caches.open('huddle-static-000000000000').then((c) => c.put('/v/000000000000/app.js', "
                  "new Response('old')))")
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.unregister())")
    page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")

    assert list(page.evaluate(CACHED)) == [f"huddle-static-{_version(page)}"]


def test_offline_a_page_load_shows_the_honest_offline_page(tab):
    page = tab.page
    tab.goto("/")
    _ready(page)
    tab.context.set_offline(True)
    try:
        page.goto(tab.server.url + "/wallets/1")
        heading = page.locator("h1").text_content()
        text = page.locator("main").text_content()
    finally:
        tab.context.set_offline(False)

    assert heading == "Offline"
    assert "cannot reach your Huddle server" in text and "nothing here would be current" in text


def test_the_manifest_parses_and_its_icons_load(tab):
    page = tab.page
    tab.goto("/")
    found = tab.cdp.send("Page.getAppManifest")

    assert found["errors"] == [], found["errors"]
    icons = page.evaluate("""async () => {
      const manifest = await (await fetch('/manifest.webmanifest')).json();
      return Promise.all(manifest.icons.map((icon) => new Promise((resolve) => {
        const img = new Image();
        img.onload = () => resolve([icon.sizes, icon.purpose, img.naturalWidth, img.naturalHeight]);
        img.onerror = () => resolve([icon.sizes, icon.purpose, 0, 0]);
        img.src = icon.src;
      })));
    }""")
    for sizes, purpose, width, height in icons:
        assert width > 0 and height > 0
        if sizes != "any":
            assert sizes == f"{width}x{height}"
    assert {purpose for _, purpose, _, _ in icons} == {"any", "maskable"}
