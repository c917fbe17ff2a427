// Coin control for the spend form (docs/pwa.md, "Coin control"): the wallet's coins
// as checkboxes, and a running total of the chosen ones against the amounts plus an
// estimated fee. Loaded only when a member opens "Advanced" in the spend form.
// The checkboxes are named "coin": the form sends exactly the checked ones. A frozen
// coin (BIP-329 spendable false) cannot be ticked; keyholders freeze and unfreeze here.
// Live: another member's freeze, unfreeze or label import redraws the list.

import { get, post } from "./api.js";
import { formatAmount, formatSats } from "./amounts.js";
import { h, problem } from "./dom.js";
import { joinWallet, onWalletEvent } from "./socket.js";

function confirmations(coin) {
  if (coin.confirmations === 0) return "unconfirmed";
  return coin.confirmations === 1 ? "1 confirmation" : `${coin.confirmations.toLocaleString("en-US")} confirmations`;
}

// Why a coin cannot be chosen, or null. The server refuses the same coins
// (coin_locked, coin_frozen, coin_immature).
function refusal(coin) {
  if (coin.locked) {
    return coin.locked_by ? `In proposal ${coin.locked_by}, still pending` : "In another pending proposal";
  }
  if (coin.frozen) {
    const why = coin.frozen_reason; // "frozen by Bob", "frozen by label import (Ada)"
    return `${why[0].toUpperCase()}${why.slice(1)}: unfreeze it to spend it`;
  }
  if (!coin.mature) {
    const more = coin.confirmations_needed;
    return `Not spendable yet: a coinbase needs 100 confirmations (${more} more)`;
  }
  return null;
}

// Freeze or unfreeze (keyholders and admins): the server answers with the coin as
// listed, and the row is drawn again from it.
function freezeButton(coin, onToggle) {
  const text = coin.frozen ? "Unfreeze this coin" : "Freeze this coin";
  return h("button", {
    type: "button", class: "link coin-freeze", "data-action": coin.frozen ? "unfreeze" : "freeze",
    "aria-label": `${text}, ${formatAmount(coin.value)}`,
    onclick: (event) => onToggle(coin, event.currentTarget),
  }, text);
}

function coinRow(coin, ctx) {
  const reason = refusal(coin);
  const box = h("input", { type: "checkbox", name: "coin", value: coin.outpoint, disabled: reason !== null });
  box.addEventListener("change", ctx.onChange);
  const short = `${coin.txid.slice(0, 10)}…:${coin.vout}`;
  return h("li", {
    class: "coin-item", "data-outpoint": coin.outpoint, "data-locked": String(coin.locked),
    "data-frozen": String(coin.frozen),
  },
  h("label", { class: "coin-row" }, box,
    h("span", { class: "coin-text" },
      h("span", { class: "coin-amount" }, formatAmount(coin.value)),
      h("span", { class: coin.label ? "coin-label" : "coin-label muted" }, coin.label || "No label"),
      h("span", { class: "muted small" }, `${confirmations(coin)} · ${coin.branch} ${coin.index} · `,
        h("code", { title: coin.outpoint }, short)),
      reason ? h("span", { class: "coin-reason" }, reason) : null)),
  // A coin a proposal holds is not frozen (coin_locked); one frozen by an import may be.
  ctx.mayFreeze && (!coin.locked || coin.frozen) ? freezeButton(coin, ctx.onToggle) : null);
}

// Weight of the transaction these coins would make, from the server's figures
// (psbt/sizes.py): each recipient counted as the largest common output (P2WSH),
// with change. An estimate for the screen; the server computes the real fee.
export function estimateFee(weights, inputs, recipients, satPerKvb) {
  const weight = weights.overhead + inputs * weights.input + recipients * weights.output_p2wsh
    + weights.change_output;
  const vbytes = BigInt(Math.ceil(weight / 4));
  return (vbytes * satPerKvb + 999n) / 1000n;
}

// Events of the wallet's room after which the list is fetched again (docs/events.md):
// another member froze or unfroze a coin, imported labels, or a proposal took or freed
// coins; a sync found a transaction; or the socket missed too much ("resync").
const LIVE = new Set(["coin_frozen", "coin_unfrozen", "labels_changed", "proposal_created", "proposal_closed",
  "tx_seen", "tx_confirmed", "tx_reorged", "tx_dropped", "resync"]);

// `wanted()` -> { amount: BigInt|null, rate: BigInt|null (sat/kvB), recipients: n }
export async function coinPicker(walletId, wanted) {
  let listed = await get(`/wallets/${walletId}/coins`);
  const total = h("p", { class: "coin-total", id: "coin-total", "aria-live": "polite" });
  const note = h("p", { class: "muted small", id: "coin-note", "aria-live": "polite", hidden: true });
  const place = h("div", { class: "coin-place" });
  let boxes = [];
  let items = [];
  const refresh = () => {
    const chosen = listed.coins.filter((c, i) => boxes[i].checked);
    const sum = chosen.reduce((acc, c) => acc + BigInt(c.value), 0n);
    const { amount, rate, recipients } = wanted();
    total.dataset.state = "auto";
    if (chosen.length === 0) {
      total.textContent = "No coins chosen: Huddle chooses them when you propose.";
      return;
    }
    const head = `Chosen: ${chosen.length} coin${chosen.length === 1 ? "" : "s"}, ${formatAmount(sum)}.`;
    if (amount === null || rate === null) {
      total.textContent = `${head} Fill in the amounts and the fee rate to compare.`;
      return;
    }
    const fee = estimateFee(listed.weights, chosen.length, recipients, rate);
    const need = amount + fee;
    total.dataset.state = sum >= need ? "enough" : "short";
    total.textContent = `${head} Needed: ${formatAmount(need)} (the amounts plus about ${formatSats(fee)} fee). `
      + (sum >= need ? "Enough." : `Short by ${formatSats(need - sum)}.`);
  };
  const ctx = { onChange: () => forget(), mayFreeze: listed.may_freeze, onToggle: null };
  // Draws the whole list from `fresh`, keeping the ticks of coins still choosable;
  // says which ticked coins can no longer be chosen (frozen, taken or spent meanwhile).
  // A coin whose row would look the same keeps its row: a redraw then moves nothing
  // under the member's finger (or a test's locator).
  let drawn = new Map(); // outpoint -> { key, row }
  const rowFor = (coin) => {
    const key = JSON.stringify([coin, ctx.mayFreeze]);
    const kept = drawn.get(coin.outpoint);
    return kept && kept.key === key ? kept : { key, row: coinRow(coin, ctx) };
  };
  const spentChosen = new Set();
  const draw = (fresh) => {
    const ticked = new Set(boxes.filter((b) => b.checked).map((b) => b.value));
    listed = fresh;
    ctx.mayFreeze = fresh.may_freeze;
    const rows = fresh.coins.map(rowFor);
    drawn = new Map(fresh.coins.map((coin, i) => [coin.outpoint, rows[i]]));
    items = rows.map((r) => r.row);
    boxes = items.map((row) => row.querySelector("input"));
    // A coin the member ticked stays ticked when another member takes or freezes it: it
    // is still sent, and the server refuses the spend with the reason. Never a silent
    // switch to coins the member did not choose.
    const why = [];
    for (const box of boxes) {
      const keep = ticked.has(box.value);
      const row = box.closest("li");
      if (keep && box.disabled) {
        box.disabled = false;
        row.dataset.stale = "true";
        why.push(`${box.value.slice(0, 10)}…: ${refusal(fresh.coins.find((c) => c.outpoint === box.value))}`);
      } else if (!keep && row.dataset.stale) {
        box.disabled = true; // unticked by the member: back to what the coin is
        delete row.dataset.stale;
      }
      box.checked = keep;
    }
    // a ticked coin spent meanwhile has no row: it is still sent (hidden), and refused,
    // until the member changes the choice
    for (const outpoint of ticked) if (!fresh.coins.some((c) => c.outpoint === outpoint)) spentChosen.add(outpoint);
    why.push(...[...spentChosen].map((outpoint) => `${outpoint.slice(0, 10)}…: spent`));
    note.replaceChildren(...[...spentChosen].map((outpoint) => h("input", { type: "hidden", name: "coin", value: outpoint })));
    note.hidden = why.length === 0;
    if (why.length) {
      note.prepend(`Still chosen, but no longer spendable: ${why.join("; ")}. Untick ${why.length === 1 ? "it" : "them"}`
        + " to propose; as it is, the server will refuse the spend.");
    }
    const list = place.querySelector("#coins");
    if (fresh.coins.length && list) list.replaceChildren(...items);
    else place.replaceChildren(fresh.coins.length === 0
      ? h("p", { class: "muted" }, fresh.tip_height === null ? "The wallet has not been synced yet." : "The wallet has no coins.")
      : h("ul", { class: "coin-list", id: "coins" }, items));
    refresh();
  };
  ctx.onToggle = async (coin, button) => {
    const row = button.closest("li");
    button.disabled = true;
    try {
      const answer = await post(`/wallets/${walletId}/coins/${coin.frozen ? "unfreeze" : "freeze"}`,
        { outpoint: coin.outpoint });
      const i = listed.coins.findIndex((c) => c.outpoint === answer.coin.outpoint);
      if (i < 0) return; // the list was drawn again meanwhile, without this coin
      listed.coins[i] = answer.coin;
      const fresh = coinRow(answer.coin, ctx);
      items[i].replaceWith(fresh);
      items[i] = fresh;
      drawn.set(answer.coin.outpoint, { key: JSON.stringify([answer.coin, ctx.mayFreeze]), row: fresh });
      boxes[i] = fresh.querySelector("input");
      refresh();
    } catch (err) {
      button.disabled = false;
      row.querySelector(".problem")?.remove();
      row.append(problem(err));
    }
  };
  // The member changed the choice: a spent coin no longer stands in it.
  const forget = () => {
    if (spentChosen.size) {
      spentChosen.clear();
      note.querySelectorAll("input").forEach((input) => input.remove());
    }
    refresh();
  };
  draw(listed);
  const element = h("div", { class: "coin-control" }, place, total, note);
  live(walletId, element, (fresh) => draw(fresh));
  return { element, refresh };
}

// Live: the wallet's room (js/socket.js), so that a coin another member freezes shows
// frozen here without a reload. Events that come together make one fetch, not one each.
function live(walletId, element, draw) {
  let busy = false;
  let again = false;
  const reload = async () => {
    if (busy) { again = true; return; }
    busy = true;
    try {
      do {
        again = false;
        draw(await get(`/wallets/${walletId}/coins`));
      } while (again);
    } catch (err) {
      const note = element.querySelector("#coin-note");
      note.hidden = false;
      note.replaceChildren(problem(err));
    } finally {
      busy = false;
    }
  };
  // After the caller has put `element` on the page (it does so as soon as this
  // function's promise settles): a list no longer on the page stops listening.
  setTimeout(() => {
    const stop = onWalletEvent((eventWallet, envelope) => {
      if (!element.isConnected) { stop(); return; }
      if (eventWallet === walletId && LIVE.has(envelope.type)) reload();
    });
    joinWallet(walletId).catch(() => {});
  }, 0);
}
