// The signing ceremony of a proposal (docs/ceremony.md): its state, a live grid
// of signers (presence, device, step, signed) built from the ceremony room's
// events (replayed from seq 0 on opening, then caught up by seq), and the ways
// a signature arrives: ask a member's agent, show the PSBT as animated QR, scan
// the signed PSBT, upload a file; download the PSBT; broadcast once ready,
// behind a confirmation.

import { get, post } from "../api.js";
import { form, h, problem } from "../dom.js";
import { atLeast, session } from "../session.js";
import { joinCeremony, leaveCeremony, onAgentPresence, onCeremonyEvent } from "../socket.js";

const STATES = {
  collecting: "Collecting signatures", ready: "Ready to broadcast", broadcasting: "Broadcasting…",
  broadcast: "Broadcast: waiting for a block", confirmed: "Confirmed", failed: "Failed",
  cancelled: "Cancelled", expired: "Expired", replaced: "Replaced",
};
const STEPS = { device_ready: "device ready", reviewing: "reviewing on the device", signed: "signed", declined: "declined" };

function blankSigner() {
  return { pwa: false, agent: false, device: null, step: null, reason: null };
}

// agents: the user ids whose signer agent is connected (GET's agents_online, then agent_presence).
function grid(members, live, agents, ceremony, canAsk, ask) {
  const signedUsers = new Set();
  const signedKeys = new Set();
  for (const input of ceremony.inputs) {
    for (const s of input.signed_by) { if (s.user !== null) signedUsers.add(s.user); signedKeys.add(s.fingerprint); }
  }
  const rows = members.filter((m) => m.role !== "viewer" && !m.revoked).map((m) => {
    const s = live.get(m.user) || blankSigner();
    const agent = s.agent || agents.has(m.user);
    const here = [s.pwa ? "here (app)" : null, agent ? "agent connected" : null].filter(Boolean).join(", ") || "away";
    const device = s.device ? `${s.device.device_type} ${s.device.fingerprint}` +
      (s.device.matches_slot === false ? " (not their slot!)" : "") : "—";
    const signed = signedUsers.has(m.user) || m.slots.some((slot) => signedKeys.has(slot.key.slice(1, 9)));
    const askButton = canAsk && !signed ? h("button", { type: "button", class: "small", "data-ask": m.user }, "Ask to sign") : null;
    if (askButton) askButton.addEventListener("click", () => ask(m.user, askButton));
    return h("tr", { "data-user": m.user },
      h("th", { scope: "row" }, m.name),
      h("td", { class: "presence", "data-here": String(s.pwa || agent), "data-agent": String(agent) }, here),
      h("td", { class: "device" }, device),
      h("td", { class: "step", "data-step": s.step || "" }, s.step ? STEPS[s.step] || s.step : "—", s.reason ? ` (${s.reason})` : ""),
      h("td", { class: "signed", "data-signed": String(signed) }, signed ? "✔ signed" : "not yet"),
      h("td", {}, askButton));
  });
  return h("table", { class: "signers", id: "signers" },
    h("thead", {}, h("tr", {}, ["Member", "Here", "Device", "Step", "Signed", ""].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows));
}

function apply(live, envelope) {
  const d = envelope.data || {};
  if (d.user === undefined || d.user === null) return;
  const s = live.get(d.user) || blankSigner();
  if (envelope.type === "signer_joined") s[d.via === "agent" ? "agent" : "pwa"] = true;
  if (envelope.type === "signer_left") s[d.via === "agent" ? "agent" : "pwa"] = false;
  if (envelope.type === "device_connected") s.device = d;
  if (envelope.type === "signer_step") { s.step = d.step; s.reason = d.reason; }
  live.set(d.user, s);
}

function download(base, proposalId) {
  const a = h("a", { class: "button", id: "download-psbt", href: `/api/v1${base}/psbt`,
    download: `proposal-${proposalId}.psbt` }, "Download PSBT");
  return a;
}

function uploadForm(base, done) {
  const input = h("input", { type: "file", name: "file", id: "psbt-file", accept: ".psbt,.txt,application/octet-stream" });
  return form({ id: "upload" }, [h("label", { class: "field" }, h("span", {}, "Upload a signed PSBT file"), input),
    h("button", { type: "submit" }, "Upload")], async (_, status) => {
    const file = input.files[0];
    if (!file) throw Object.assign(new Error("choose the signed PSBT file first"), { code: "no_file" });
    const bytes = new Uint8Array(await file.arrayBuffer());
    const answer = await post(`${base}/signatures`, { psbt: toBase64(bytes), channel: "upload" });
    status.replaceChildren(h("p", { class: "ok" }, `Added ${answer.added} signature${answer.added === 1 ? "" : "s"}.`));
    await done();
  });
}

function toBase64(bytes) {
  // A text PSBT (base64 or hex) goes as it is; the server reads either.
  const text = new TextDecoder("ascii", { fatal: false }).decode(bytes).trim();
  if (/^(cHNidP8|70736274ff)/i.test(text)) return text;
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function broadcastPanel(base, ceremony, done) {
  if (ceremony.state !== "ready") return null;
  const status = h("div", { class: "status" });
  const start = h("button", { type: "button", class: "primary", id: "broadcast" }, "Broadcast…");
  const panel = h("div", { class: "panel", id: "broadcast-panel" }, start, status);
  start.addEventListener("click", () => {
    const yes = h("button", { type: "button", class: "primary", id: "broadcast-confirm" }, "Yes, broadcast it now");
    const no = h("button", { type: "button", id: "broadcast-cancel" }, "Not yet");
    const ask = h("div", { role: "alertdialog", id: "broadcast-ask", "aria-label": "Confirm the broadcast" },
      h("p", {}, "Send this transaction to the Bitcoin network? Once it is out it cannot be called back."), yes, " ", no);
    no.addEventListener("click", () => ask.replaceWith(start));
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      try {
        await post(`${base}/broadcast`);
        await done();
      } catch (err) {
        status.replaceChildren(problem(err));
        ask.replaceWith(start);
      }
    });
    start.replaceWith(ask);
  });
  return panel;
}

// The watcher sent the transaction again after it left the mempool (docs/events.md).
function resent(d) {
  return d.accepted
    ? h("p", { class: "ok", id: "resent" }, "The transaction left the mempool unconfirmed; it was sent again.")
    : h("p", { class: "problem", id: "resent" }, `The transaction left the mempool and the node refused it again ` +
      `(${d.reason}). The fee may be too low now: propose a fee bump.`);
}

// The caller's own slot first: it is the device they are most likely holding.
function mineFirst(cosigners) {
  const me = session() ? session().user.id : null;
  return [...cosigners.filter((c) => c.owner === me), ...cosigners.filter((c) => c.owner !== me)];
}

export async function ceremonyPanel(walletId, proposalId) {
  const base = `/wallets/${walletId}/proposals/${proposalId}`;
  const [{ wallet }, { members }] = await Promise.all([get(`/wallets/${walletId}`), get(`/wallets/${walletId}/members`)]);
  const live = new Map();
  const keyholder = atLeast(walletId, "keyholder");
  const notice = h("div", { class: "status", "aria-live": "polite" }); // outlives the redraws
  const section = h("section", { class: "panel", id: "ceremony" }, h("h2", {}, "Signing"), notice);
  let body = h("div");
  section.append(body);
  let current = null;
  // Agents online: the GET's agents_online, with agent_presence events that came while it was
  // on its way laid over it (the GET may have been answered before them).
  const agents = new Set();
  const inFlight = new Set();
  const setAgent = (user, online) => { if (online) agents.add(user); else agents.delete(user); };
  const fetchCeremony = async () => {
    const pending = new Map();
    inFlight.add(pending);
    try {
      const answer = await get(`${base}/ceremony`);
      agents.clear();
      for (const user of answer.agents_online || []) agents.add(user);
      for (const [user, online] of pending) setAgent(user, online);
      return answer;
    } finally {
      inFlight.delete(pending);
    }
  };
  const ask = async (user, button) => {
    button.disabled = true;
    try {
      const answer = await post(`${base}/sign-requests`, { user });
      button.textContent = answer.agents ? "Asked" : "Asked (no agent connected)";
    } catch (err) {
      button.replaceWith(problem(err));
    }
  };
  const draw = () => {
    const c = current.ceremony;
    const open = c.state === "collecting" || c.state === "ready";
    const actions = h("div", { class: "actions" },
      keyholder && open ? h("button", { type: "button", id: "show-qr" }, "Show QR") : null,
      keyholder && open ? h("button", { type: "button", id: "scan" }, "Scan signed PSBT") : null,
      download(base, proposalId));
    const fresh = h("div", {},
      h("p", {}, "State: ", h("strong", { id: "ceremony-state", "data-state": c.state }, STATES[c.state] || c.state),
        c.txid ? h("span", {}, " · txid ", h("code", { id: "txid" }, c.txid)) : null,
        c.reason ? h("span", { class: "problem" }, ` ${c.reason}`) : null),
      h("p", { class: "muted small" }, `${c.threshold} signatures needed on each input; ` +
        `${c.inputs.filter((i) => i.needed === 0).length} of ${c.inputs.length} inputs complete.`),
      grid(members, live, agents, c, keyholder && open, ask), actions,
      keyholder && open ? uploadForm(base, refresh) : null,
      keyholder ? broadcastPanel(base, c, refresh) : null);
    const qr = actions.querySelector("#show-qr");
    if (qr) {
      qr.addEventListener("click", async () => {
        const { showAnimatedQr } = await import("../animated.js"); // the QR library loads only when shown
        showAnimatedQr(base, mineFirst(wallet.cosigners), () => {});
      });
    }
    const scan = actions.querySelector("#scan");
    if (scan) scan.addEventListener("click", () => scanInto(base, notice, refresh));
    body.replaceWith(fresh);
    body = fresh;
  };
  const refresh = async () => {
    try {
      current = await fetchCeremony();
      draw();
    } catch (err) {
      body.prepend(problem(err));
    }
  };
  let mounted = false; // events may come before proposal.js puts the section on the page
  const stopAgents = onAgentPresence((presence) => {
    if (section.isConnected) mounted = true;
    else if (mounted) { stopAgents(); return; }
    if (presence.wallet_id !== walletId) return;
    for (const pending of inFlight) pending.set(presence.user.id, presence.online);
    setAgent(presence.user.id, presence.online);
    if (current) draw();
  });
  current = await fetchCeremony().catch((err) => { stopAgents(); throw err; });
  draw();
  const stop = onCeremonyEvent((pid, envelope) => {
    if (!section.isConnected) { stop(); leaveCeremony(proposalId); return; }
    if (pid !== proposalId) return;
    apply(live, envelope);
    if (envelope.type === "broadcast_resent") notice.replaceChildren(resent(envelope.data));
    if (["signature_added", "threshold_reached", "broadcasting", "broadcast", "confirmed", "failed",
      "ceremony_closed", "resync"].includes(envelope.type)) refresh();
    else draw();
  });
  joinCeremony(walletId, proposalId).catch(() => {});
  return section;
}

async function scanInto(base, notice, refresh) {
  const { scanSignedPsbt } = await import("../scanner.js"); // the scanner loads only when needed
  scanSignedPsbt(base, async (psbt) => {
    try {
      const answer = await post(`${base}/signatures`, { psbt, channel: "qr" });
      notice.replaceChildren(h("p", { class: "ok", id: "scan-done" },
        `Scanned: ${answer.added} new signature${answer.added === 1 ? "" : "s"}.`));
      await refresh();
    } catch (err) {
      notice.replaceChildren(problem(err));
    }
  }, () => {});
}
