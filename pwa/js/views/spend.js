// A new spend: recipients with amounts in BTC or sats (exact integer
// conversion, js/amounts.js), a memo and a fee rate in sat/vB; under
// "Advanced", coin control (js/coins.js, loaded when opened).

import { get, post } from "../api.js";
import { feeRateToSatPerKvb, formatAmount, toSats } from "../amounts.js";
import { field, form, h, problem } from "../dom.js";
import { navigate } from "../router.js";

function recipientRow(index) {
  return h("fieldset", { class: "recipient" },
    h("legend", {}, `Recipient ${index}`),
    field("Address", h("input", { name: "address", required: true, autocomplete: "off", spellcheck: "false" })),
    field("Amount", h("input", { name: "amount", required: true, inputmode: "decimal", autocomplete: "off" })));
}

export function readPayments(formData, unit) {
  const addresses = formData.getAll("address");
  const amounts = formData.getAll("amount");
  return addresses.map((address, i) => ({
    address: String(address).trim(),
    amount: Number(toSats(amounts[i], unit)), // <= 21e14 < 2^53: exact as a JSON number
  }));
}

// Buttons from the chain backend's estimates (sat/kvB, shown in sat/vB); without a
// backend the member types a rate.
const TARGETS = [[1, "Next block"], [6, "About an hour"], [144, "About a day"]];

async function feePresets(walletId, rate, into) {
  let estimates;
  try {
    ({ estimates } = await get(`/wallets/${walletId}/fee-estimates`));
  } catch (err) {
    into.replaceChildren(h("p", { class: "muted small" }, `No fee estimates: ${err.message}`));
    return;
  }
  const pick = (target) => estimates.filter((e) => e.target <= target).pop();
  into.replaceChildren(...TARGETS.map(([target, name]) => pick(target)).map((found, i) => {
    if (!found) return null;
    const satPerVb = (found.fee_rate / 1000).toFixed(3).replace(/\.?0+$/, "");
    const button = h("button", { type: "button", class: "small", "data-target": TARGETS[i][0] },
      `${TARGETS[i][1]}: ${satPerVb} sat/vB`);
    button.addEventListener("click", () => { rate.value = satPerVb; });
    return button;
  }));
}

// What the coin list compares its total with: the amounts and the rate typed so
// far (null while one does not parse).
function wanted(formEl) {
  const data = new FormData(formEl);
  const attempt = (compute) => { try { return compute(); } catch (err) { return null; } };
  return {
    amount: attempt(() => readPayments(data, data.get("unit")).reduce((acc, p) => acc + BigInt(p.amount), 0n)),
    rate: attempt(() => feeRateToSatPerKvb(data.get("fee_rate"))),
    recipients: data.getAll("address").length,
  };
}

// "Advanced": the coin list, fetched the first time it is opened. No coin checked
// means the server chooses, as without it.
function advancedPanel(walletId, formRef) {
  const place = h("div", { id: "coin-control" });
  const panel = h("details", { class: "spend-advanced", id: "advanced" },
    h("summary", {}, "Advanced: choose the coins"),
    h("p", { class: "muted small", id: "coin-hint" }, "Tick coins to spend exactly those; leave all unticked to let "
      + "Huddle choose. Huddle never takes a frozen coin, a coinbase short of 100 confirmations or a coin "
      + "another pending proposal holds."),
    place);
  let picker = null;
  panel.addEventListener("toggle", async () => {
    if (!panel.open || place.dataset.loaded) return;
    place.dataset.loaded = "1";
    place.replaceChildren(h("p", { class: "muted" }, "Loading the coins…"));
    try {
      const { coinPicker } = await import("../coins.js");
      picker = await coinPicker(walletId, () => wanted(formRef.el));
      place.replaceChildren(picker.element);
    } catch (err) {
      delete place.dataset.loaded;
      place.replaceChildren(problem(err));
    }
  });
  return { panel, refresh: () => picker && picker.refresh() };
}

export async function spendView({ id }) {
  const walletId = Number(id);
  const rows = h("div", { class: "recipients" }, recipientRow(1));
  const unit = h("select", { name: "unit", id: "unit" },
    h("option", { value: "btc" }, "BTC"), h("option", { value: "sats" }, "sats"));
  const total = h("p", { class: "muted", id: "total", "aria-live": "polite" });
  const more = h("button", { type: "button", class: "link" }, "Add a recipient");
  more.addEventListener("click", () => rows.append(recipientRow(rows.children.length + 1)));
  const rate = h("input", { name: "fee_rate", id: "fee-rate", required: true, inputmode: "decimal", value: "2" });
  const presets = h("div", { class: "actions", id: "fee-presets" });
  feePresets(walletId, rate, presets);
  const formRef = {};
  const advanced = advancedPanel(walletId, formRef);
  const body = form({ id: "spend" }, [
    rows, more,
    field("Unit of the amounts", unit),
    field("Memo", h("input", { name: "memo", required: true, maxlength: 500 }), "Why: the group sees this."),
    field("Fee rate (sat/vB)", rate), presets,
    advanced.panel,
    total,
    h("button", { type: "submit", class: "primary" }, "Propose this spend"),
  ], async (data) => {
    const payments = readPayments(data, data.get("unit"));
    const sum = payments.reduce((acc, p) => acc + BigInt(p.amount), 0n);
    total.textContent = `Paying ${formatAmount(sum)} plus the fee.`;
    const coins = data.getAll("coin").map(String);
    const made = await post(`/wallets/${walletId}/proposals`, {
      payments,
      memo: String(data.get("memo") || ""),
      fee_rate: Number(feeRateToSatPerKvb(data.get("fee_rate"))),
      ...(coins.length ? { coins } : {}), // exactly these coins; none chosen: the server chooses
    });
    await navigate(`/wallets/${walletId}/proposals/${made.proposal.id}`);
  });
  formRef.el = body;
  body.addEventListener("input", advanced.refresh);
  presets.addEventListener("click", advanced.refresh); // a preset sets the rate without an input event
  return h("section", { class: "narrow" }, h("h1", {}, "New spend"), body);
}
