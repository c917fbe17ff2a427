// The first run: the admin opens the link `huddle serve` printed
// (/setup#TOKEN), names themself and registers a passkey.

import { get, post } from "../api.js";
import { field, form, h, link } from "../dom.js";
import { signedIn } from "../session.js";
import { createPasskey } from "../webauthn.js";
import { recoveryCodes } from "./welcome.js";

export async function setupView() {
  const token = location.hash.slice(1);
  const status = await get("/setup");
  if (!status.needs_setup) {
    return h("section", { class: "narrow" }, h("h1", {}, "Already set up"),
      h("p", {}, "This server has its admin. "), link("/signin", "Sign in", { class: "button" }));
  }
  if (!token) {
    return h("section", { class: "narrow" }, h("h1", {}, "Setup link needed"),
      h("p", {}, "Open the whole link `huddle serve` printed on its first run, including the part after #."));
  }
  const section = h("section", { class: "narrow" }, h("h1", {}, "Create the admin account"),
    h("p", {}, "You become this server's admin. Your passkey is how you sign in and approve spends."));
  section.append(form({ id: "setup" }, [
    field("Your name", h("input", { name: "name", required: true, maxlength: 64, autocomplete: "name" })),
    h("button", { type: "submit", class: "primary" }, "Create my passkey"),
  ], async (data) => {
    const name = String(data.get("name") || "").trim();
    const options = await post("/setup/options", { token, name });
    const credential = await createPasskey(options);
    const answer = await post("/setup", { token, name, credential });
    history.replaceState({}, "", "/setup"); // the token is spent; keep it out of history
    await signedIn(answer);
    section.replaceWith(recoveryCodes(answer.recovery_codes));
  }));
  return section;
}
