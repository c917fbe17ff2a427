// Who is signed in: the user, their CSRF token and their wallets with roles
// (GET /api/v1/session), kept for the views.

import { ApiError, get, del, setCsrf } from "./api.js";

let current = null;
const listeners = new Set();

export function session() {
  return current;
}

export function onSession(listener) {
  listeners.add(listener);
}

function publish() {
  for (const listener of listeners) listener(current);
}

export async function loadSession() {
  try {
    const found = await get("/session");
    current = { user: found.user, wallets: found.wallets, csrf: found.csrf_token };
    setCsrf(found.csrf_token);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
    current = null;
    setCsrf("");
  }
  publish();
  return current;
}

// After sign-in, setup or an invite: the answer's CSRF token, then the full session.
export async function signedIn(answer) {
  setCsrf(answer.csrf_token);
  return loadSession();
}

export async function signOut() {
  try {
    await del("/session");
  } finally {
    current = null;
    setCsrf("");
    publish();
  }
}

export function roleIn(walletId) {
  const found = (current ? current.wallets : []).find((w) => w.id === walletId);
  return found ? found.role : null;
}

const RANK = { viewer: 1, keyholder: 2, admin: 3 };

export function atLeast(walletId, role) {
  return (RANK[roleIn(walletId)] || 0) >= RANK[role];
}
