// Invites and, for the server's admin, the users. An invite link is shown
// once, with its QR to open on a phone. The API has no list of a wallet's
// members yet (docs/pwa.md).

import { get, post } from "../api.js";
import { field, form, h, problem, when } from "../dom.js";
import { session } from "../session.js";

async function shownOnce(answer) {
  const { qrSvg } = await import("../qr.js"); // the QR library loads only when a code is shown
  return h("div", { class: "invite", id: "invite-link" },
    h("p", {}, "Send this link to the person you invite. It is shown only now, and works once, until ",
      when(answer.invite.expires_at), "."),
    h("p", {}, h("code", { class: "link" }, answer.link)),
    qrSvg(answer.link, { label: "the invite link as a QR code" }));
}

function inviteForm(path, withRole) {
  const result = h("div");
  const roles = h("select", { name: "role" }, ["viewer", "keyholder", "admin"].map((r) => h("option", { value: r }, r)));
  return h("div", {}, form({ class: "invite-form" }, [
    withRole ? field("Role", roles, "Viewers read; keyholders propose, approve and sign; admins also invite.") : null,
    h("button", { type: "submit", class: "primary" }, "Make an invite link"),
  ], async (data) => {
    const answer = await post(path, withRole ? { role: String(data.get("role")) } : {});
    result.replaceChildren(await shownOnce(answer));
  }), result);
}

export async function walletMembersView({ id }) {
  const walletId = Number(id);
  const { wallet } = await get(`/wallets/${walletId}`);
  return h("section", { class: "narrow" }, h("h1", {}, `Invite to ${wallet.name}`),
    inviteForm(`/wallets/${walletId}/invites`, true));
}

function userRow(user) {
  const status = h("span", { class: "muted" }, user.revoked ? " (revoked)" : "");
  const row = h("li", { "data-user": user.id }, user.name, user.is_admin ? " · admin" : "", status);
  if (!user.revoked && !user.is_admin) {
    row.append(" ", form({ class: "inline" }, [h("button", { type: "submit", class: "danger small" }, "Revoke")],
      async () => {
        if (!window.confirm(`Revoke ${user.name}? Their sessions, tokens and sockets end now.`)) return;
        await post(`/users/${user.id}/revoke`);
        status.textContent = " (revoked)";
      }));
  }
  return row;
}

export async function serverMembersView() {
  const me = session();
  if (!me.user.is_admin) {
    return h("section", {}, h("h1", {}, "Members"), h("p", {}, "Only the server's admin manages the server's users."));
  }
  let users;
  try {
    users = (await get("/users")).users;
  } catch (err) {
    return problem(err);
  }
  return h("section", { class: "narrow" }, h("h1", {}, "Members"),
    h("ul", { class: "users", id: "users" }, users.map(userRow)),
    h("h2", {}, "Invite someone to this server"),
    h("p", { class: "muted" }, "They join with no wallet; you can then give them a slot in a new wallet."),
    inviteForm("/invites", false));
}
