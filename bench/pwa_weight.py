"""The PWA's weight and speed (issue 13, "Done when: Weight"; DESIGN.md "Speed").

Runs the app from the factory on loopback and drives Debian's Chromium
(Playwright) under mobile emulation (Pixel 7: 412x839, DPR 2.625, touch), each
run in a fresh browser context (a cold cache, no service worker yet). Prints:

- the app shell's first load in bytes on the wire (gzip, headers included),
  as Chromium's Network domain counts them for the page's own requests, beside
  Specter Desktop's first page (235 KB, the figure issue 13 gives);
- what the service worker then precaches in the background (not part of the
  first load: it starts after the page is interactive);
- that the scanner (scanner.js, scan-worker.js, jsQR) and the QR library
  (qr.js, animated.js, qrcode-generator) are outside the static import graph of
  app.js, that no request for them is made on the screens a member opens first,
  and that the QR library is fetched once a QR code is shown (an invite link);
- time to interactive, median over several cold loads, on loopback and under
  4x CPU throttling with Slow 4G (Lighthouse's throttling figures).

"Interactive" here: from navigation start (performance.now() = 0) to the
router's ``huddle:rendered`` event for /signin, i.e. the sign-in screen is in
the DOM with its handlers attached (the view is built, then inserted, then the
event fires), and app.js's session check has answered. A tap on "Sign in with
my passkey" then works.

Run from the repo root:  .venv/bin/python bench/pwa_weight.py [runs]
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import logging  # noqa: E402

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.pwa.conftest import ARGS, CHROMIUM, Page, serving, set_up_admin  # noqa: E402

SPECTER_FIRST_PAGE = 235_000  # bytes; issue 13
GOAL_BYTES, GOAL_TTI = 100_000, 1.0
ON_DEMAND = ("js/scanner.js", "js/scan-worker.js", "vendor/jsqr/", "js/qr.js", "js/animated.js",
             "vendor/qrcode-generator/")
# Lighthouse's mobile "Slow 4G" under DevTools throttling: RTT 150 ms x 3.75, 1.6 Mbps x 0.9 down, 750 kbps x 0.9 up.
SLOW_4G = {"offline": False, "latency": 562.5, "downloadThroughput": 1_474_560 / 8,
           "uploadThroughput": 675_000 / 8}
RENDERED = ("window.__rendered = new Promise(ok => document.addEventListener('huddle:rendered', e => "
            "{ if (e.detail === '/signin') ok(performance.now()); }));")
IMPORT = re.compile(r"""^\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']""", re.M)


def static_graph(folder: Path, entry: str = "app.js") -> set[str]:
    """Every module app.js imports statically, transitively (dynamic import() is not followed)."""
    seen, todo = set(), [entry]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for target in IMPORT.findall((folder / name).read_text()):
            todo.append(os.path.normpath(Path(name).parent / target))
    return seen


def cold_load(browser, device: dict, url: str, throttled: bool) -> tuple[float, int, list[str]]:
    """One cold load of /signin: (seconds to interactive, bytes on the wire, URLs requested)."""
    context = browser.new_context(**device)
    page = context.new_page()
    page.add_init_script(RENDERED)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    sizes: dict[str, int] = {}
    urls: dict[str, str] = {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    if throttled:
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
        cdp.send("Network.emulateNetworkConditions", SLOW_4G)
    page.goto(url + "/signin")
    tti = page.evaluate("window.__rendered") / 1000
    page.wait_for_load_state("networkidle")
    wire = sum(sizes.values())
    context.close()
    return tti, wire, list(urls.values())


def qr_loads_when_shown(browser, server) -> tuple[list[str], list[str]]:
    """Sign in as the admin, open the first screens, then show an invite's QR code:
    (on-demand files fetched before, on-demand files fetched after)."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    requested: list[str] = []
    tab = Page(context, server)
    tab.page.on("request", lambda r: requested.append(r.url))  # the page's own, not the service worker's precache
    set_up_admin(tab)
    tab.goto("/members")
    tab.page.locator("main[data-view='/members']").wait_for()
    before = [u for u in requested if any(part in u for part in ON_DEMAND)]
    tab.page.get_by_role("button", name=re.compile("invite", re.I)).first.click()
    tab.page.locator("#invite-link svg").wait_for()
    after = [u for u in requested if any(part in u for part in ON_DEMAND)]
    context.close()
    return before, after


def main(runs: int) -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line a request would bury the figures
    folder = ROOT / "pwa"
    graph = static_graph(folder)
    eager = sorted(n for n in graph if n.startswith(ON_DEMAND))
    with tempfile.TemporaryDirectory() as tmp, serving(Path(tmp)) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        device = pw.devices["Pixel 7"]
        cold_load(browser, device, server.url, False)  # warm the server's gzip cache and the OS
        loopback = [cold_load(browser, device, server.url, False) for _ in range(runs)]
        slow = [cold_load(browser, device, server.url, True) for _ in range(max(3, runs // 2))]
        bundle = server_bundle(server)
        precache = sum(len(bundle.zipped(n, bundle.files[n]) if not n.endswith(".png") else bundle.files[n])
                       for n in (a.split("/", 3)[3] for a in bundle.assets()))
        before, after = qr_loads_when_shown(browser, server)
        browser.close()
    wire = statistics.median(w for _, w, _ in loopback)
    first_urls = loopback[0][2]
    fetched_eagerly = [u for u in first_urls if any(part in u for part in ON_DEMAND)]
    print(f"runs: {len(loopback)} loopback, {len(slow)} throttled; Chromium mobile emulation (Pixel 7); cold cache each run")
    print(f"first load of the app shell (/signin), on the wire: {wire / 1000:.1f} KB in {len(first_urls)} requests "
          f"(goal <= {GOAL_BYTES / 1000:.0f} KB; Specter's first page {SPECTER_FIRST_PAGE / 1000:.0f} KB)")
    print(f"  then precached by the service worker in the background (gzip bodies, no headers): {precache / 1000:.1f} KB")
    print(f"scanner and QR library in app.js's static import graph: {eager or 'none'}")
    print(f"  requested on the first load: {fetched_eagerly or 'none'}; signed in, on /wallets and /members: "
          f"{before or 'none'}")
    print(f"  requested once an invite's QR code is shown: {[u.rsplit('/', 1)[-1] for u in after] or 'none'}")
    print(f"time to interactive, median (min-max): loopback {_median(loopback)} (goal < {GOAL_TTI:.0f} s); "
          f"4x CPU + Slow 4G {_median(slow)}")


def server_bundle(server):
    from coordinator.web.pwa import Bundle

    return Bundle(ROOT / "pwa")


def _median(samples) -> str:
    times = [t for t, _, _ in samples]
    return f"{statistics.median(times) * 1000:.0f} ms ({min(times) * 1000:.0f}-{max(times) * 1000:.0f})"


if __name__ == "__main__":
    started = time.monotonic()
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
    print(f"bench took {time.monotonic() - started:.0f} s")
