// Huddle's PWA: plain ES modules, no build step (docs/pwa.md). This module
// wires the routes, the header and the connection banner, and registers the
// service worker.

import { get } from "./js/api.js";
import { h, link, problem } from "./js/dom.js";
import { navigate, route, start } from "./js/router.js";
import { loadSession, onSession, session, signOut } from "./js/session.js";
import { close as closeSocket, connect, onStatus } from "./js/socket.js";
import { joinView } from "./js/views/join.js";
import { serverMembersView, walletMembersView } from "./js/views/members.js";
import { proposalView } from "./js/views/proposal.js";
import { settingsView } from "./js/views/settings.js";
import { setupView } from "./js/views/setup.js";
import { signInView } from "./js/views/signin.js";
import { spendView } from "./js/views/spend.js";
import { walletView } from "./js/views/wallet.js";
import { walletsView } from "./js/views/wallets.js";

// Views for members only: without a session, go to sign-in (and come back).
function signedInOnly(view) {
  return async (params) => {
    if (!session()) {
      await navigate("/signin", { replace: true });
      return null;
    }
    return view(params);
  };
}

async function home() {
  if (session()) {
    await navigate("/wallets", { replace: true });
    return null;
  }
  const status = await get("/setup");
  if (status.needs_setup) {
    return h("section", { class: "narrow" }, h("h1", {}, "Welcome to Huddle"),
      h("p", {}, "This server has no admin yet. Open the setup link `huddle serve` printed on its first run."));
  }
  await navigate("/signin", { replace: true });
  return null;
}

function header(current) {
  const who = document.getElementById("who");
  if (!current) {
    who.replaceChildren(link("/signin", "Sign in"));
    return;
  }
  const out = h("button", { type: "button", class: "link", id: "sign-out" }, "Sign out");
  out.addEventListener("click", async () => {
    await signOut().catch(() => {});
    closeSocket();
    await navigate("/signin");
  });
  who.replaceChildren(h("span", { id: "user-name" }, current.user.name), " ",
    current.user.is_admin ? link("/members", "Members") : null, " ", link("/settings", "Settings"), " ", out);
}

function banner(text) {
  const el = document.getElementById("connection");
  el.textContent = text;
  el.hidden = !text;
}

function watchConnection() {
  window.addEventListener("offline", () => banner("Offline: nothing on this screen updates until the connection is back."));
  window.addEventListener("online", () => banner(""));
  onStatus((status) => banner(status === "live" ? "" : "Live updates paused: reconnecting to the server…"));
  if (!navigator.onLine) banner("Offline: nothing on this screen updates until the connection is back.");
}

async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  try {
    await navigator.serviceWorker.register("/sw.js", { scope: "/", type: "classic" });
  } catch (err) {
    console.warn("service worker not registered:", err.message);
  }
}

route("/", home);
route("/setup", setupView);
route("/join", joinView);
route("/signin", signInView);
route("/wallets", signedInOnly(walletsView));
route("/wallets/:id", signedInOnly(walletView));
route("/wallets/:id/spend", signedInOnly(spendView));
route("/wallets/:id/members", signedInOnly(walletMembersView));
route("/wallets/:id/proposals/:pid", signedInOnly(proposalView));
route("/members", signedInOnly(serverMembersView));
route("/settings", signedInOnly(settingsView));

async function main() {
  const root = document.getElementById("app");
  onSession(header);
  watchConnection();
  registerWorker();
  try {
    if (await loadSession()) connect();
  } catch (err) {
    root.replaceChildren(problem(err));
    return;
  }
  onSession((current) => { if (current) connect(); });
  await start(root);
}

main();
