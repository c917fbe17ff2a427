// Accepting an invite: the link is /join#TOKEN. The invitee sees what it
// grants, names themself and registers a passkey.

import { post } from "../api.js";
import { field, form, h, when } from "../dom.js";
import { signedIn } from "../session.js";
import { createPasskey } from "../webauthn.js";
import { recoveryCodes } from "./welcome.js";

export async function joinView() {
  const token = location.hash.slice(1);
  if (!token) {
    return h("section", { class: "narrow" }, h("h1", {}, "Invite link needed"),
      h("p", {}, "Open the whole invite link you were sent, including the part after #."));
  }
  const invite = await post("/invites/check", { token });
  const grants = invite.role ? `the wallet as ${invite.role}` : "this Huddle server (a wallet comes later)";
  const section = h("section", { class: "narrow" }, h("h1", {}, "You are invited"),
    h("p", { id: "invite-grants" }, `This invite lets you join ${grants}. It expires ${when(invite.expires_at)}.`));
  section.append(form({ id: "join" }, [
    field("Your name", h("input", { name: "name", required: true, maxlength: 64, autocomplete: "name" }),
      "The other members see this name."),
    h("button", { type: "submit", class: "primary" }, "Create my passkey and join"),
  ], async (data) => {
    const name = String(data.get("name") || "").trim();
    const options = await post("/invites/options", { token, name });
    const credential = await createPasskey(options);
    const answer = await post("/invites/accept", { token, name, credential });
    history.replaceState({}, "", "/join");
    await signedIn(answer);
    section.replaceWith(recoveryCodes(answer.recovery_codes));
  }));
  return section;
}
