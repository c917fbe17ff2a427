"""The notification settings and the service worker's push handlers (issue 13 item 6).

Headless Chromium has no push service to subscribe with, so the browser side is
checked in two halves: the settings screen (three toggles, what this device has),
and the service worker showing a pushed payload, delivered through the DevTools
protocol (ServiceWorker.deliverPushMessage) as a push service would, with the
spend's screen as its link. A click on a notification cannot be driven headless,
so the click is the worker's own ``notificationclick`` event, dispatched inside
the worker on the notification it showed: the open app goes to the spend. The
server side, from event
to an encrypted, VAPID-signed push, is tests/web/test_push.py."""

from __future__ import annotations

import json

from .conftest import set_up_admin

NOTIFICATIONS = """async () => (await (await navigator.serviceWorker.ready).getNotifications())
  .map((n) => ({title: n.title, body: n.body, tag: n.tag, url: n.data.url}))"""


def test_the_settings_screen_offers_the_three_kinds(tab):
    set_up_admin(tab, "Ada")
    tab.page.get_by_role("link", name="Settings").click()
    tab.page.locator("#notify-kinds").wait_for()
    kinds = tab.page.locator("#notify-kinds input[type=checkbox]")
    assert [kinds.nth(i).get_attribute("data-kind") for i in range(kinds.count())] == ["approve", "sign", "confirmed"]
    assert tab.page.locator("#notify-state").get_attribute("data-on") == "false"
    assert tab.violations == [] and tab.errors == []


def test_a_pushed_notice_is_shown_with_the_link_to_its_spend(tab):
    tab.context.grant_permissions(["notifications"], origin=tab.server.url)
    set_up_admin(tab, "Ada")
    page = tab.page
    page.evaluate("navigator.serviceWorker.ready")
    cdp = tab.cdp
    cdp.send("ServiceWorker.enable")
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    for _ in range(200):  # the registration event arrives
        if registrations:
            break
        page.wait_for_timeout(50)
    payload = {"kind": "approve", "title": "Huddle", "body": "A spend waits for your approval.", "wallet_id": 1,
               "proposal": 7, "url": "/wallets/1/proposals/7"}
    cdp.send("ServiceWorker.deliverPushMessage", {"origin": tab.server.url + "/",
                                                 "registrationId": registrations[0]["registrationId"],
                                                 "data": json.dumps(payload)})
    shown = []
    for _ in range(200):  # the worker shows it once the push event has run
        shown = page.evaluate(NOTIFICATIONS)
        if shown:
            break
        page.wait_for_timeout(50)
    assert shown == [{"title": "Huddle", "body": "A spend waits for your approval.",
                                             "tag": "approve:7", "url": "/wallets/1/proposals/7"}]

    worker = next(w for w in tab.context.service_workers if w.url.endswith("/sw.js"))
    worker.evaluate("""async () => {
      const [shown] = await self.registration.getNotifications();
      self.dispatchEvent(new NotificationEvent("notificationclick", {notification: shown}));
    }""")
    page.wait_for_url(f"{tab.server.url}/wallets/1/proposals/7")
    assert page.evaluate(NOTIFICATIONS) == []  # the click closed it
