// The wallet's ledger (docs/ledger.md): every transaction in and out, newest first,
// with the memo (the proposer's "why"), the group's BIP-329 label, who proposed,
// approved and signed, and the confirmed balance after it. Loaded by the wallet
// screen, which calls refresh() on labels_changed and the chain's events.

import { get } from "../api.js";
import { formatAmount, formatSats } from "../amounts.js";
import { h, link, problem, when } from "../dom.js";

const DIRECTION = { incoming: "Received", outgoing: "Sent", self: "Moved within the wallet" };

// A signer is also named by its key (one member may hold two of the cosigners).
function names(people) {
  return people.map((p) => {
    const who = p.name || p.cosigner || p.fingerprint;
    return p.fingerprint && who !== p.fingerprint ? `${who} (key ${p.fingerprint})` : who;
  }).join(", ");
}

function status(entry) {
  if (entry.pending) return "pending, in the mempool";
  return entry.confirmations === 1 ? "1 confirmation" : `${entry.confirmations.toLocaleString("en-US")} confirmations`;
}

function memoLine(entry) {
  if (entry.memo === null) return null;
  const changed = entry.memo_verified === false
    ? h("span", { class: "problem" }, " (changed since it was proposed: its hash is not the one the audit chain holds)")
    : null;
  return h("p", { class: "ledger-memo" }, h("span", { class: "muted" }, "Memo: "), entry.memo, changed);
}

function entryItem(walletId, entry) {
  const who = [
    entry.proposal !== null ? link(`/wallets/${walletId}/proposals/${entry.proposal}`, `Proposal ${entry.proposal}`) : null,
    entry.proposer ? ` by ${entry.proposer.name}` : null,
    entry.approved_by.length ? ` · approved by ${names(entry.approved_by)}` : null,
    entry.signed_by.length ? ` · signed by ${names(entry.signed_by)}` : null,
  ].filter(Boolean);
  return h("li", { class: `card ledger-${entry.direction}`, "data-txid": entry.txid },
    h("p", {}, h("span", { class: "badge" }, DIRECTION[entry.direction] || entry.direction), " ",
      h("strong", { class: "ledger-amount" }, formatAmount(entry.net)),
      entry.fee !== null ? h("span", { class: "muted small" }, ` · fee ${formatSats(entry.fee)}`) : null),
    memoLine(entry),
    entry.label !== null ? h("p", { class: "ledger-label" }, h("span", { class: "muted" }, "Label: "), entry.label) : null,
    who.length ? h("p", { class: "small" }, who) : null,
    h("p", { class: "muted small" }, `${entry.time === null ? "" : `${when(entry.time)} · `}${status(entry)}`,
      entry.balance_after !== null ? ` · balance after: ${formatAmount(entry.balance_after)}` : null,
      " · ", h("code", { title: entry.txid }, `${entry.txid.slice(0, 12)}…`)));
}

function body(walletId, ledger) {
  if (ledger.entries.length === 0) {
    return [h("p", { class: "muted" }, ledger.tip_height === null ? "The wallet has not been synced yet." : "No transactions yet.")];
  }
  return [
    h("p", { class: "small", id: "ledger-balance" }, `Confirmed balance: ${formatAmount(ledger.balance.confirmed)}`,
      ledger.balance.pending !== 0 ? ` · pending: ${formatAmount(ledger.balance.pending)}` : null),
    h("ul", { class: "cards", id: "ledger-entries" }, [...ledger.entries].reverse().map((e) => entryItem(walletId, e))),
  ];
}

export async function ledgerPanel(walletId) {
  const el = h("section", { class: "panel", id: "ledger" }, h("h2", {}, "Ledger"));
  const place = h("div", {});
  el.append(place);
  let busy = false;
  let again = false;
  // Events that come together make one fetch, not one each.
  const refresh = async () => {
    if (busy) { again = true; return; }
    busy = true;
    try {
      do {
        again = false;
        const { ledger } = await get(`/wallets/${walletId}/ledger`);
        place.replaceChildren(...body(walletId, ledger));
      } while (again);
    } catch (err) {
      place.replaceChildren(problem(err));
    } finally {
      busy = false;
    }
  };
  await refresh();
  return { el, refresh };
}
