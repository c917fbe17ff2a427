// The audit head this device last saw, per member and wallet (DESIGN.md, "The
// audit log is a hash chain with a head everyone remembers"). On each visit
// the app fetches the entries after it, recomputes every hash, and checks that
// they extend it and end at the head the server states. If not, history
// changed: the app says so and keeps the old head.

import { getWithHead } from "./api.js";
import { entryHash } from "./canonical.js";

const GENESIS = "0".repeat(64);
const STORE = "heads";

function openStore() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open("huddle", 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function stored(mode, action) {
  const db = await openStore();
  try {
    return await new Promise((resolve, reject) => {
      const request = action(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  } finally {
    db.close();
  }
}

export const rememberedHead = (key) => stored("readonly", (s) => s.get(key));
const remember = (key, head) => stored("readwrite", (s) => s.put(head, key));

function parseHead(header, chain) {
  const [name, rest] = (header || "").split(" ");
  if (name !== chain || !rest) return null;
  const [seq, hash] = rest.split(":");
  return { seq: Number(seq), hash };
}

async function extend(from, entries, chain) {
  let head = from;
  for (const entry of entries) {
    if (entry.chain !== chain || entry.seq !== head.seq + 1 || entry.prev !== head.hash) {
      return { head, broken: entry.seq };
    }
    if (await entryHash(entry) !== entry.hash) return { head, broken: entry.seq };
    head = { seq: entry.seq, hash: entry.hash };
  }
  return { head, broken: null };
}

// -> {state: "first" | "extends" | "changed", head, seq?}
export async function checkHistory(userId, walletId) {
  const chain = `wallet:${walletId}`;
  const key = `user:${userId}/${chain}`;
  const known = await rememberedHead(key);
  let found = { head: known || { seq: 0, hash: GENESIS }, broken: null };
  // The stated head is read just after the entries: an entry appended in
  // between makes it run ahead, so fetch again from where the entries ended.
  for (let round = 0; round < 3; round += 1) {
    const { data, head: header } = await getWithHead(`/wallets/${walletId}/audit?after=${found.head.seq}`);
    const stated = parseHead(header, chain);
    found = await extend(found.head, data.entries, chain);
    if (found.broken !== null || !stated || stated.seq < found.head.seq) break;
    if (stated.seq === found.head.seq) {
      if (stated.hash !== found.head.hash) break;
      await remember(key, found.head);
      return { state: known ? "extends" : "first", head: found.head };
    }
  }
  return { state: "changed", head: known, seq: found.broken ?? found.head.seq };
}
