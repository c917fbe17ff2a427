// Settings: pairing a signer agent (docs/agent.md, "Pairing"), and which notices
// this device shows (docs/notifications.md). A device's push subscription is its
// own: a member turns each kind on or off per device.

import { api, get, post } from "../api.js";
import { form, h, problem, when } from "../dom.js";

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

// The pairing link (docs/agent.md, "The pairing link"): the code and this server's
// address in one paste or scan. ":" and "/" stay readable, as the agent allows.
export function pairUri(code, server) {
  return `huddle-pair:${code}?server=${encodeURIComponent(server).replace(/%3A/g, ":").replace(/%2F/g, "/")}`;
}

async function pairingShown(answer) {
  const uri = pairUri(answer.code, window.location.origin);
  const { qrSvg } = await import("../qr.js"); // the QR library loads only when a code is shown
  return h("div", { class: "invite", id: "pairing-code" },
    h("p", {}, "It is shown only now, works once, until ", when(answer.pairing.expires_at),
      ", and gives the agent a token of yours."),
    h("p", {}, "The code: ", h("code", { id: "pairing-text" }, answer.code)),
    h("p", {}, "The pairing link, the code with this server's address:"),
    h("p", {}, h("code", { class: "link", id: "pairing-uri" }, uri)),
    h("p", {}, "On the signer's computer, paste it into ", h("code", {}, "huddle agent pair"),
      ", or save a photo or screenshot of this QR code and run ", h("code", {}, "huddle agent pair --qr PHOTO"),
      ". The agent shows the server's address, ", h("strong", { id: "pairing-host" }, window.location.hostname),
      ": check that it is this site's."),
    qrSvg(uri, { label: "the pairing link as a QR code" }));
}

function agentPairing() {
  const result = h("div");
  return h("div", { id: "agent-pairing" }, h("h2", {}, "Signer agent"),
    h("p", { class: "muted" }, "Pair the Huddle agent on the computer where your hardware wallet is plugged in."),
    form({ id: "pairing-form" }, [h("button", { type: "submit", class: "primary", id: "pairing-make" },
      "Make a pairing code")], async () => {
      result.replaceChildren(await pairingShown(await post("/agent/pairings")));
    }), result);
}

export async function settingsView() {
  const section = h("section", { class: "narrow", id: "settings" }, h("h1", {}, "Settings"), agentPairing(),
    h("h2", {}, "Notifications"));
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
