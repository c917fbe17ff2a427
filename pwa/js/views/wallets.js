// The caller's wallets: policy, role, balance (integer sats the server counts
// from the synced coins; the app never adds up coins itself) and the number of
// spends waiting.

import { get } from "../api.js";
import { formatAmount } from "../amounts.js";
import { h, link, problem } from "../dom.js";

async function pendingCount(walletId) {
  const found = await get(`/wallets/${walletId}/proposals`);
  return found.proposals.filter((p) => p.state === "open").length;
}

function card(wallet, pending) {
  const waiting = pending instanceof Error ? problem(pending)
    : h("span", { class: "pending", "data-pending": pending },
      pending === 1 ? "1 spend waiting" : `${pending} spends waiting`);
  return h("li", { class: "card", "data-wallet": wallet.id },
    link(`/wallets/${wallet.id}`, wallet.name, { class: "title" }),
    h("p", {}, `${wallet.threshold} of ${wallet.n} · ${wallet.network} · you are ${wallet.role}`),
    h("p", { class: "balance", "data-sats": wallet.balance.total }, `Balance: ${formatAmount(wallet.balance.confirmed)}`,
      wallet.balance.pending ? ` (${formatAmount(wallet.balance.pending)} pending)` : ""),
    waiting);
}

export async function walletsView() {
  const { wallets } = await get("/wallets");
  if (wallets.length === 0) {
    return h("section", {}, h("h1", {}, "Wallets"),
      h("p", { class: "muted" }, "You are not in any wallet yet. A wallet admin can invite you, or the server's admin can import or set one up."));
  }
  const counts = await Promise.all(wallets.map((w) => pendingCount(w.id).catch((err) => err)));
  return h("section", {}, h("h1", {}, "Wallets"),
    h("ul", { class: "cards", id: "wallets" }, wallets.map((w, i) => card(w, counts[i]))));
}
