// What this device knows about a wallet's history, shown on its screens.

import { h, problem } from "../dom.js";
import { checkHistory } from "../history.js";
import { session } from "../session.js";

export async function historyPanel(walletId) {
  let result;
  try {
    result = await checkHistory(session().user.id, walletId);
  } catch (err) {
    return { result: { state: "unknown" }, el: h("section", { class: "panel", id: "history" }, problem(err)) };
  }
  if (result.state === "changed") {
    return { result, el: h("section", { class: "panel problem", id: "history", role: "alert", "data-state": "changed" },
      h("h2", {}, "History changed"),
      h("p", {}, `The server's history of this wallet does not extend what this device saw before (from entry ${result.seq}). `,
        "Someone may have rewritten it. Do not approve or sign anything; tell your group, and compare with a signer agent's ",
        "`huddle audit verify`.")) };
  }
  const text = result.state === "first"
    ? `History recorded on this device: ${result.head.seq} entries, each hash checked.`
    : `History checked: ${result.head.seq} entries, extending what this device saw before.`;
  return { result, el: h("p", { class: "muted small", id: "history", "data-state": result.state }, text) };
}
