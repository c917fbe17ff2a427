// One wallet: its policy, its proposals with their memos, and links to spend
// and to invite. Live: the wallet's room refreshes the list on each event.

import { get } from "../api.js";
import { h, link, when } from "../dom.js";
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

function receivePanel() {
  return h("section", { class: "panel" }, h("h2", {}, "Receive"),
    h("p", { class: "muted" },
      "This server does not hand out receive addresses yet. Take one from a cosigner's device or the signer agent ",
      "(`huddle agent show-address`), which derives it from the pinned descriptor and shows it on the device."));
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
    receivePanel(),
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
