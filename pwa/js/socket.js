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
// The ceremony room (ceremony:<proposal id>) numbers its own events
// (docs/ceremony.md, "Live status over Socket.IO"): kept apart from the wallet's.
const ceremonySeq = new Map(); // proposal id -> last seq seen
const ceremonies = new Map(); // proposal id -> wallet id
const ceremonyListeners = new Set();
// Live events that arrive while a join is waiting for its answer (the server sends the
// joiner's own signer_joined before the answer that replays what came before it).
const joining = new Map(); // proposal id -> envelopes held
const walletJoining = new Map(); // wallet id -> envelopes held, likewise
// agent_presence {wallet_id, user: {id, name}, online}: a plain emit to the wallet's room,
// outside the envelope (no seq, never replayed); a screen starts from its GET (docs/api.md).
const agentListeners = new Set();

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
    // every envelope names its room (docs/events.md): no list of types to keep in step
    if (envelope && String(envelope.room).startsWith("ceremony:") && envelope.data && envelope.data.proposal !== undefined) {
      const held = joining.get(envelope.data.proposal);
      if (held) held.push(envelope);
      else deliverCeremony(envelope.data.proposal, envelope);
      return;
    }
    const walletId = walletOf(envelope);
    if (walletId === undefined) return;
    const held = walletJoining.get(walletId);
    if (held) held.push(envelope);
    else deliver(walletId, envelope);
  });
  socket.on("agent_presence", (presence) => {
    if (!presence || presence.wallet_id === undefined || !presence.user) return;
    for (const listener of agentListeners) listener(presence);
  });
  socket.on("connect", () => {
    for (const walletId of joined) join(walletId);
    for (const [proposalId, walletId] of ceremonies) enterCeremony(walletId, proposalId).catch(() => {});
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
  walletJoining.set(walletId, []);
  let answer = null;
  try {
    answer = await socket.timeout(10000).emitWithAck("join", { wallet_id: walletId, since });
    if (answer && answer.events) {
      for (const envelope of answer.events) deliver(walletId, envelope);
    } else if (answer && answer.resync) {
      for (const listener of listeners) listener(walletId, { type: "resync", seq: since });
    }
  } finally {
    const held = walletJoining.get(walletId) || [];
    walletJoining.delete(walletId);
    for (const envelope of held.sort((a, b) => a.seq - b.seq)) deliver(walletId, envelope);
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

// Calls listener({wallet_id, user, online}) when a member's signer agent comes or goes; returns an unsubscribe.
export function onAgentPresence(listener) {
  agentListeners.add(listener);
  return () => agentListeners.delete(listener);
}

function deliverCeremony(proposalId, envelope) {
  if (envelope.seq <= (ceremonySeq.get(proposalId) || 0)) return;
  ceremonySeq.set(proposalId, envelope.seq);
  for (const listener of ceremonyListeners) listener(proposalId, envelope);
}

// Joins the ceremony's room with the last seq seen, replaying what was missed
// (from 0 on the first visit: presence and steps come only as events).
async function enterCeremony(walletId, proposalId) {
  const since = ceremonySeq.get(proposalId) || 0;
  joining.set(proposalId, []);
  let answer = null;
  try {
    answer = await socket.timeout(10000).emitWithAck("join_ceremony",
      { wallet_id: walletId, proposal_id: proposalId, since });
    if (answer && answer.events) {
      for (const envelope of answer.events) deliverCeremony(proposalId, envelope);
    } else if (answer && answer.resync) {
      for (const listener of ceremonyListeners) listener(proposalId, { type: "resync", seq: since });
    }
  } finally {
    const held = joining.get(proposalId) || [];
    joining.delete(proposalId);
    for (const envelope of held.sort((a, b) => a.seq - b.seq)) deliverCeremony(proposalId, envelope);
  }
  return answer;
}

export async function joinCeremony(walletId, proposalId) {
  connect();
  if (!ceremonies.has(proposalId)) ceremonySeq.delete(proposalId); // a new screen rebuilds from the start
  ceremonies.set(proposalId, walletId);
  if (socket.connected) return enterCeremony(walletId, proposalId);
  return null; // joins on "connect"
}

export function leaveCeremony(proposalId) {
  ceremonies.delete(proposalId);
  if (socket && socket.connected) socket.emit("leave_ceremony", { proposal_id: proposalId });
}

// Calls listener(proposalId, envelope) for each new ceremony event; returns an unsubscribe.
export function onCeremonyEvent(listener) {
  ceremonyListeners.add(listener);
  return () => ceremonyListeners.delete(listener);
}

export function close() {
  if (socket) socket.disconnect();
  socket = null;
  joined.clear();
  ceremonies.clear();
}

// Scanning (docs/pwa.md, "Scanning"): one new distinct QR part to the decoder the
// server keeps for this socket; resolves with the ack (progress, or the error shape).
export function connected() {
  return Boolean(socket && socket.connected);
}

export function socketId() {
  return socket ? socket.id : null;
}

export function qrPart(walletId, proposalId, part) {
  return socket.timeout(10000).emitWithAck("qr_part", { wallet_id: walletId, proposal: proposalId, part });
}
