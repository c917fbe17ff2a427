// The caller's wallets: policy, role, and the number of spends waiting.
// The server reports no balance yet (docs/pwa.md, "What the API does not give
// yet"), so the app says so instead of adding up coins itself.

import { get } from "../api.js";
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
    h("p", { class: "balance muted" }, "Balance: not reported by this server yet"),
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
