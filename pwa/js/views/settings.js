// Settings: which notices this device shows (docs/notifications.md). A device's
// push subscription is its own: a member turns each kind on or off per device.

import { api, get, post } from "../api.js";
import { form, h, problem } from "../dom.js";

const KINDS = [
  ["approve", "A spend waits for my approval"],
  ["sign", "My signature is asked for"],
  ["confirmed", "A spend of my wallet is confirmed"],
];

function supported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

// The VAPID key as the bytes PushManager.subscribe() wants (base64url, RFC 8292).
function keyBytes(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

async function subscribeDevice(publicKey, kinds) {
  if ((await Notification.requestPermission()) !== "granted") {
    throw new Error("Notifications are blocked for this site in the browser's settings.");
  }
  const registration = await navigator.serviceWorker.ready;
  const found = await registration.pushManager.getSubscription() ||
    await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) });
  return post("/push/subscriptions", { subscription: found.toJSON(), kinds });
}

async function unsubscribeDevice() {
  const registration = await navigator.serviceWorker.ready;
  const found = await registration.pushManager.getSubscription();
  if (!found) return;
  await api("DELETE", "/push/subscriptions", { endpoint: found.endpoint }).catch((err) => {
    if (err.code !== "subscription_not_found") throw err;
  });
  await found.unsubscribe();
}

function toggles(chosen) {
  return h("fieldset", { id: "notify-kinds" }, h("legend", {}, "Tell me when"),
    KINDS.map(([kind, label]) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "kind", value: kind, "data-kind": kind, checked: chosen.includes(kind) }),
      " ", label)));
}

export async function settingsView() {
  const section = h("section", { class: "narrow", id: "settings" }, h("h1", {}, "Settings"), h("h2", {}, "Notifications"));
  if (!supported()) {
    section.append(h("p", { class: "problem" }, "This browser cannot show notifications from a web app."));
    return section;
  }
  const { public_key: publicKey, subscriptions } = await get("/push/subscriptions");
  const registration = await navigator.serviceWorker.ready;
  const current = await registration.pushManager.getSubscription();
  const mine = current && subscriptions.find((s) => s.endpoint === current.endpoint);
  const state = h("p", { id: "notify-state", "data-on": mine ? "true" : "false" },
    mine ? "Notifications are on for this device." : "Notifications are off for this device.");
  section.append(state, h("p", { class: "muted" },
    "A notice says only what needs you and opens the spend: no wallet name, memo or amount."),
  form({ id: "notify-form" }, [
    toggles(mine ? mine.kinds : KINDS.map(([kind]) => kind)),
    h("button", { type: "submit", class: "primary", id: "notify-save" }, mine ? "Save" : "Turn on for this device"),
  ], async (data, status) => {
    await subscribeDevice(publicKey, data.getAll("kind").map(String));
    status.replaceChildren(h("p", { class: "ok", id: "notify-saved" }, "Saved."));
    state.dataset.on = "true";
    state.textContent = "Notifications are on for this device.";
  }));
  if (mine) {
    const off = h("button", { type: "button", id: "notify-off" }, "Turn off for this device");
    off.addEventListener("click", () => unsubscribeDevice().then(() => {
      state.dataset.on = "false";
      state.textContent = "Notifications are off for this device.";
    }, (err) => section.append(problem(err))));
    section.append(off);
  }
  return section;
}
