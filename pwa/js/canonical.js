// The canonical encoding (docs/canonical.md, coordinator/canonical.py): RFC 8785
// JSON over UTF-8 for the values Huddle hashes — keys sorted by UTF-16 code
// units, no whitespace, integers within ±(2^53−1), no floats — and SHA-256.
// tests/pwa/test_history.py runs tests/vectors/canonical.json through it.

export class NotCanonical extends Error {
  constructor(message) {
    super(message);
    this.code = "not_canonical";
  }
}

export function canonical(value, depth = 0) {
  if (depth > 32) throw new NotCanonical("nested deeper than 32 levels");
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new NotCanonical(`${value} is not an integer within ±(2^53−1)`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, depth + 1)).join(",")}]`;
  if (typeof value === "object") {
    const keys = Object.keys(value).sort(); // default sort compares UTF-16 code units
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k], depth + 1)}`).join(",")}}`;
  }
  throw new NotCanonical(`a ${typeof value} cannot be encoded`);
}

export function hexToBytes(hex) {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i += 1) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

export function bytesToHex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function sha256Hex(...parts) {
  const chunks = parts.map((p) => (typeof p === "string" ? new TextEncoder().encode(p) : p));
  const joined = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    joined.set(chunk, at);
    at += chunk.length;
  }
  return bytesToHex(await crypto.subtle.digest("SHA-256", joined));
}

// An audit entry's hash: SHA-256(prev hash bytes || canonical(entry without "hash")).
export async function entryHash(entry) {
  const { hash, ...unhashed } = entry;
  return sha256Hex(hexToBytes(entry.prev), canonical(unhashed));
}
