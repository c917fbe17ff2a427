// One wallet: its policy, its proposals with their memos, and links to spend
// and to invite. Live: the wallet's room refreshes the list on each event.

import { get, post } from "../api.js";
import { field, form, h, link, problem, when } from "../dom.js";
import { atLeast } from "../session.js";
import { joinWallet, onWalletEvent } from "../socket.js";
import { historyPanel } from "./history.js";

const LIVE = new Set(["proposal_created", "proposal_closed", "approval_added", "resync"]);
// The ledger (js/views/ledger.js) is fetched again when labels change or a sync finds a transaction.
const LEDGER_LIVE = new Set(["labels_changed", "tx_seen", "tx_confirmed", "tx_reorged", "tx_dropped", "resync"]);

function proposalItem(walletId, proposal) {
  return h("li", { class: `card state-${proposal.state}`, "data-proposal": proposal.id },
    link(`/wallets/${walletId}/proposals/${proposal.id}`, proposal.memo || "(no memo)", { class: "title" }),
    h("p", {}, h("span", { class: "badge" }, proposal.state), ` proposed ${when(proposal.created_at)}`));
}

async function proposalList(walletId) {
  const { proposals } = await get(`/wallets/${walletId}/proposals`);
  if (proposals.length === 0) return h("p", { class: "muted", id: "proposals" }, "No proposals yet.");
  return h("ul", { class: "cards", id: "proposals" }, proposals.map((p) => proposalItem(walletId, p)));
}

// Address checks (docs/agent.md, "Showing an address when asked"): the member's own
// agent shows the address on their device; the answer comes as a wallet event.
const CHECK_EVENTS = new Set(["address_verified", "address_mismatch", "address_check_refused"]);
const POLL_MS = 3000;
const POLL_TRIES = 100; // five minutes: a device may wait that long for a button press

function checkLine(check) {
  const where = `${check.branch} ${check.index}`;
  if (check.outcome === "verified") {
    return h("li", { class: "verified", "data-address": check.address },
      h("span", { class: "badge ok" }, "✓ verified"), ` ${where} `, h("code", { class: "address" }, check.address),
      ` on ${check.device} ${check.fingerprint} by ${check.name}, ${when(check.answered_at)}`);
  }
  if (check.outcome === "mismatch") {
    return h("li", { class: "problem", "data-address": check.address },
      h("span", { class: "badge" }, "✗ mismatch"), ` ${where}: ${check.reason} (${check.name}, ${when(check.answered_at)})`);
  }
  return h("li", { class: "muted" }, `${where}: not shown by ${check.name}'s agent: ${check.reason}`);
}

async function checkList(walletId) {
  const { checks } = await get(`/wallets/${walletId}/address-checks`);
  const el = h("section", { class: "panel", id: "address-checks" }, h("h2", {}, "Addresses checked on a device"));
  el.append(checks.length ? h("ul", { class: "checks" }, checks.map(checkLine))
    : h("p", { class: "muted" }, "No address has been shown on a device yet."));
  return { el, checks };
}

// The outcome of check `requestId`: its wallet event, or (if the socket missed it)
// the listing, asked every few seconds.
function outcomeOf(walletId, requestId, seen) {
  return new Promise((resolve) => {
    let tries = 0;
    let timer = null;
    let stop = () => {};
    const done = (found) => { stop(); clearInterval(timer); resolve(found); };
    if (seen.has(requestId)) { done(seen.get(requestId)); return; }
    stop = onWalletEvent((eventWallet, envelope) => {
      if (eventWallet === walletId && CHECK_EVENTS.has(envelope.type) && envelope.data.request === requestId) {
        done({ type: envelope.type, ...envelope.data, at: envelope.at });
      }
    });
    timer = setInterval(async () => {
      tries += 1;
      if (tries > POLL_TRIES) { done(null); return; }
      const { checks } = await get(`/wallets/${walletId}/address-checks`).catch(() => ({ checks: [] }));
      const found = checks.find((c) => c.request_id === requestId);
      if (found) done(fromListing(found));
    }, POLL_MS);
  });
}

function fromListing(check) {
  const type = { verified: "address_verified", mismatch: "address_mismatch" }[check.outcome] || "address_check_refused";
  const [code, ...rest] = String(check.reason || "").split(": ");
  return { ...check, type, expected: check.address, code, message: rest.join(": "), at: check.answered_at };
}

function markVerified(mark, text) {
  mark.className = "ok";
  mark.dataset.verified = "true";
  mark.replaceChildren(text);
}

function showOutcome(found, status, mark) {
  if (found === null) {
    status.replaceChildren(h("p", { class: "problem" }, "Your agent has not answered yet. Is `huddle agent run` still connected?"));
  } else if (found.type === "address_verified") {
    const line = `Shown on ${found.device} ${found.fingerprint}: matches (${when(found.at)})`;
    status.replaceChildren(h("p", { class: "ok", id: "verify-result", "data-outcome": "verified" }, line));
    markVerified(mark, `Verified: ${line}.`);
  } else if (found.type === "address_mismatch") {
    status.replaceChildren(h("p", { class: "problem", role: "alert", id: "verify-result", "data-outcome": "mismatch" },
      `MISMATCH: ${found.reason}. Do not pay to this address; tell your group.`));
  } else {
    status.replaceChildren(h("p", { class: "problem", id: "verify-result", "data-outcome": "refused" },
      `Your agent did not show it: ${found.message} `, h("code", {}, found.code)));
  }
}

// "Verify on my device": asks the member's own agent(s) through the server.
function verifyButton(walletId, address, mark, seen) {
  const status = h("div", { class: "status", id: "verify-status", "aria-live": "polite" });
  const button = h("button", { type: "button", id: "verify-address" }, "Verify on my device");
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.replaceChildren(h("p", { class: "muted" }, "Asking your agent…"));
    try {
      const asked = await post(`/wallets/${walletId}/address-checks`, { branch: "receive", index: address.index });
      status.replaceChildren(h("p", { class: "muted", id: "verify-asked" },
        `Asked your agent (${asked.agents} connected): compare your device's screen with the address above.`));
      showOutcome(await outcomeOf(walletId, asked.request_id, seen), status, mark);
    } catch (err) {
      status.replaceChildren(problem(err));
    } finally {
      button.disabled = false;
    }
  });
  return h("div", { class: "verify" }, button, status);
}

// A receive address the server hands out once (never twice, gap-limited), with
// its label; marked unverified until a device has shown it (DESIGN, "Coins, locks
// and replacements"), which the member's own agent can do from here.
function receivePanel(walletId, checks, seen) { // checks(): the answered checks, kept fresh
  const shown = h("div", { id: "receive-address" });
  const panel = h("section", { class: "panel", id: "receive" }, h("h2", {}, "Receive"));
  if (!atLeast(walletId, "keyholder")) {
    panel.append(h("p", { class: "muted" }, "Keyholders and admins hand out receive addresses."));
    return panel;
  }
  const el = form({ id: "receive-form" }, [
    field("What is it for?", h("input", { name: "label", required: true, maxlength: 255 }), "The group sees this label."),
    h("button", { type: "submit" }, "Get a new receive address"),
  ], async (data) => {
    const { address } = await post(`/wallets/${walletId}/addresses`, { label: String(data.get("label")).trim() });
    const { qrSvg } = await import("../qr.js"); // the QR library loads only when a code is shown
    const earlier = checks().find((c) => c.outcome === "verified" && c.address === address.address);
    const mark = h("p", { class: "problem", id: "unverified", "data-verified": "false" },
      "Unverified: no device has shown this address yet. Before anyone pays to it, check it on your signer.");
    if (earlier) markVerified(mark, `Verified on ${earlier.device} ${earlier.fingerprint} (${when(earlier.answered_at)}).`);
    shown.replaceChildren(
      h("p", {}, h("code", { class: "address", id: "address-text" }, address.address)),
      qrSvg(`bitcoin:${address.address}`, { label: "QR code of the receive address" }),
      h("p", {}, `For: ${address.label} · index ${address.index}`),
      mark, verifyButton(walletId, address, mark, seen));
    el.reset();
  });
  panel.append(el, shown);
  return panel;
}

export async function walletView({ id }) {
  const walletId = Number(id);
  const { wallet } = await get(`/wallets/${walletId}`);
  let list = await proposalList(walletId);
  const history = await historyPanel(walletId);
  let checked = await checkList(walletId);
  const { ledgerPanel } = await import("./ledger.js"); // not in the first load
  const ledger = await ledgerPanel(walletId);
  const seen = new Map(); // check events that came before their POST's answer
  const section = h("section", { "data-wallet": walletId },
    h("h1", {}, wallet.name),
    h("p", {}, `${wallet.threshold} of ${wallet.n} · ${wallet.script_type} · ${wallet.network} · you are ${wallet.role}`),
    h("p", { class: "muted small" }, `Policy ${wallet.policy_id}`),
    history.el,
    h("nav", { class: "actions" },
      atLeast(walletId, "keyholder") ? link(`/wallets/${walletId}/spend`, "New spend", { class: "button primary", id: "new-spend" }) : null,
      atLeast(walletId, "admin") ? link(`/wallets/${walletId}/members`, "Invite members", { class: "button" }) : null),
    receivePanel(walletId, () => checked.checks, seen),
    checked.el,
    h("h2", {}, "Proposals"), list, ledger.el);
  const stop = onWalletEvent(async (eventWallet, envelope) => {
    if (!section.isConnected) { stop(); return; }
    if (eventWallet !== walletId) return;
    if (CHECK_EVENTS.has(envelope.type)) {
      seen.set(envelope.data.request, { type: envelope.type, ...envelope.data, at: envelope.at });
      const fresh = await checkList(walletId);
      checked.el.replaceWith(fresh.el);
      checked = fresh;
      return;
    }
    if (LEDGER_LIVE.has(envelope.type)) ledger.refresh();
    if (!LIVE.has(envelope.type)) return;
    const fresh = await proposalList(walletId);
    list.replaceWith(fresh);
    list = fresh;
  });
  joinWallet(walletId).catch(() => {});
  return section;
}
