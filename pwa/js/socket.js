// The live connection: Socket.IO namespace /wallets (docs/events.md). A wallet
// view joins its room; events arrive in one envelope with a per-room `seq`.
// On reconnect the app joins again with the last seq it saw and gets what it
// missed; a seq already seen is dropped (events sent while joining may repeat).

import { io } from "../vendor/socket.io-client/socket.io.esm.min.js";

let socket = null;
const lastSeq = new Map(); // wallet id -> last seq seen
const joined = new Set();
const listeners = new Set();
const statusListeners = new Set();

function deliver(walletId, envelope) {
  if (envelope.seq <= (lastSeq.get(walletId) || 0)) return;
  lastSeq.set(walletId, envelope.seq);
  for (const listener of listeners) listener(walletId, envelope);
}

function walletOf(envelope) {
  return envelope && envelope.data ? envelope.data.wallet_id : undefined;
}

export function connect() {
  if (socket) return socket;
  socket = io("/wallets", { withCredentials: true });
  socket.on("event", (envelope) => {
    const walletId = walletOf(envelope);
    if (walletId !== undefined) deliver(walletId, envelope);
  });
  socket.on("connect", () => {
    for (const walletId of joined) join(walletId);
    setStatus("live");
  });
  socket.on("disconnect", () => setStatus("disconnected"));
  socket.on("connect_error", () => setStatus("disconnected"));
  return socket;
}

function setStatus(status) {
  for (const listener of statusListeners) listener(status);
}

export function onStatus(listener) {
  statusListeners.add(listener);
}

async function join(walletId) {
  const since = lastSeq.get(walletId) || 0;
  const answer = await socket.timeout(10000).emitWithAck("join", { wallet_id: walletId, since });
  if (answer && answer.events) {
    for (const envelope of answer.events) deliver(walletId, envelope);
  } else if (answer && answer.resync) {
    for (const listener of listeners) listener(walletId, { type: "resync", seq: since });
  }
  return answer;
}

export async function joinWallet(walletId) {
  connect();
  joined.add(walletId);
  if (socket.connected) return join(walletId);
  return null; // joins on "connect"
}

// Calls listener(walletId, envelope) for each new event; returns an unsubscribe.
export function onWalletEvent(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function close() {
  if (socket) socket.disconnect();
  socket = null;
  joined.clear();
}
