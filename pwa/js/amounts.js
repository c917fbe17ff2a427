// Amounts are integer satoshis everywhere (docs/api.md). Text from a member is
// converted with integer arithmetic on its digits, never through floating
// point: 0.1 + 0.2 BTC must be exactly 30,000,000 sat.

export const SATS_PER_BTC = 100000000n;
export const MAX_SATS = 2100000000000000n; // 21 million BTC

export class AmountError extends Error {
  constructor(message) {
    super(message);
    this.code = "bad_amount";
  }
}

// "12.345" with `places` decimals allowed -> 12345 * 10^(places-3) as a BigInt.
export function parseDecimal(text, places, what) {
  const clean = String(text).trim().replace(/[\s_]/g, "");
  if (clean.includes(",")) throw new AmountError(`${what}: use a dot for decimals, not a comma`);
  const match = /^(\d*)(?:\.(\d*))?$/.exec(clean);
  if (!match || (match[1] === "" && !match[2])) throw new AmountError(`${what}: write a number, like 0.0005`);
  const whole = match[1] || "0";
  const fraction = match[2] || "";
  if (fraction.length > places) {
    throw new AmountError(places === 0 ? `${what}: whole numbers only` : `${what}: at most ${places} decimal places`);
  }
  return BigInt(whole) * 10n ** BigInt(places) + BigInt(fraction.padEnd(places, "0") || "0");
}

export function toSats(text, unit) {
  const sats = unit === "btc" ? parseDecimal(text, 8, "amount in BTC") : parseDecimal(text, 0, "amount in sats");
  if (sats <= 0n) throw new AmountError("an amount must be more than zero");
  if (sats > MAX_SATS) throw new AmountError("an amount cannot be more than 21,000,000 BTC");
  return sats;
}

// sat/vB with up to 3 decimals -> sat/kvB, the API's integer fee rate.
export function feeRateToSatPerKvb(text) {
  const rate = parseDecimal(text, 3, "fee rate");
  if (rate < 1000n) throw new AmountError("fee rate: at least 1 sat/vB");
  return rate;
}

export function satsToBtc(sats) {
  const value = BigInt(sats);
  const sign = value < 0n ? "-" : "";
  const abs = value < 0n ? -value : value;
  const fraction = (abs % SATS_PER_BTC).toString().padStart(8, "0");
  return `${sign}${abs / SATS_PER_BTC}.${fraction}`;
}

export function formatSats(sats) {
  return `${BigInt(sats).toLocaleString("en-US")} sat`;
}

// Always with units: "0.00020000 BTC (20,000 sat)".
export function formatAmount(sats) {
  return `${satsToBtc(sats)} BTC (${formatSats(sats)})`;
}
