// One wallet: its policy, its proposals with their memos, and links to spend
// and to invite. Live: the wallet's room refreshes the list on each event.

import { get, post } from "../api.js";
import { field, form, h, link, when } from "../dom.js";
import { atLeast } from "../session.js";
import { joinWallet, onWalletEvent } from "../socket.js";
import { historyPanel } from "./history.js";

const LIVE = new Set(["proposal_created", "proposal_closed", "approval_added", "resync"]);

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

// A receive address the server hands out once (never twice, gap-limited), with
// its label; marked unverified, because only a device showing it proves it is
// the wallet's (DESIGN, "Coins, locks and replacements").
function receivePanel(walletId) {
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
    shown.replaceChildren(
      h("p", {}, h("code", { class: "address", id: "address-text" }, address.address)),
      qrSvg(`bitcoin:${address.address}`, { label: "QR code of the receive address" }),
      h("p", {}, `For: ${address.label} · index ${address.index}`),
      h("p", { class: "problem", id: "unverified", "data-verified": String(address.verified) },
        "Unverified: no device has shown this address yet. Before anyone pays to it, check it on your signer ",
        `(\`huddle agent show-address\`, receive index ${address.index}).`));
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
  const section = h("section", { "data-wallet": walletId },
    h("h1", {}, wallet.name),
    h("p", {}, `${wallet.threshold} of ${wallet.n} · ${wallet.script_type} · ${wallet.network} · you are ${wallet.role}`),
    h("p", { class: "muted small" }, `Policy ${wallet.policy_id}`),
    history.el,
    h("nav", { class: "actions" },
      atLeast(walletId, "keyholder") ? link(`/wallets/${walletId}/spend`, "New spend", { class: "button primary", id: "new-spend" }) : null,
      atLeast(walletId, "admin") ? link(`/wallets/${walletId}/members`, "Invite members", { class: "button" }) : null),
    receivePanel(walletId),
    h("h2", {}, "Proposals"), list);
  const stop = onWalletEvent(async (eventWallet, envelope) => {
    if (!section.isConnected) { stop(); return; }
    if (eventWallet !== walletId || !LIVE.has(envelope.type)) return;
    const fresh = await proposalList(walletId);
    list.replaceWith(fresh);
    list = fresh;
  });
  joinWallet(walletId).catch(() => {});
  return section;
}
