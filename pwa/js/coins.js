// Coin control for the spend form (docs/pwa.md, "Coin control"): the wallet's coins
// as checkboxes, and a running total of the chosen ones against the amounts plus an
// estimated fee. Loaded only when a member opens "Advanced" in the spend form.
// The checkboxes are named "coin": the form sends exactly the checked ones. A frozen
// coin (BIP-329 spendable false) cannot be ticked; keyholders freeze and unfreeze here.

import { get, post } from "./api.js";
import { formatAmount, formatSats } from "./amounts.js";
import { h, problem } from "./dom.js";

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

// `wanted()` -> { amount: BigInt|null, rate: BigInt|null (sat/kvB), recipients: n }
export async function coinPicker(walletId, wanted) {
  const listed = await get(`/wallets/${walletId}/coins`);
  const total = h("p", { class: "coin-total", id: "coin-total", "aria-live": "polite" });
  const boxes = [];
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
  const ctx = { onChange: () => refresh(), mayFreeze: listed.may_freeze, onToggle: null };
  ctx.onToggle = async (coin, button) => {
    const i = listed.coins.indexOf(coin);
    button.disabled = true;
    try {
      const answer = await post(`/wallets/${walletId}/coins/${coin.frozen ? "unfreeze" : "freeze"}`,
        { outpoint: coin.outpoint });
      listed.coins[i] = answer.coin;
      const row = coinRow(answer.coin, ctx);
      items[i].replaceWith(row);
      items[i] = row;
      boxes[i] = row.querySelector("input");
      refresh();
    } catch (err) {
      button.disabled = false;
      items[i].querySelector(".problem")?.remove();
      items[i].append(problem(err));
    }
  };
  const items = listed.coins.map((coin) => {
    const row = coinRow(coin, ctx);
    boxes.push(row.querySelector("input"));
    return row;
  });
  refresh();
  const body = listed.coins.length === 0
    ? h("p", { class: "muted" }, listed.tip_height === null ? "The wallet has not been synced yet." : "The wallet has no coins.")
    : h("ul", { class: "coin-list", id: "coins" }, items);
  return { element: h("div", { class: "coin-control" }, body, total), refresh };
}
