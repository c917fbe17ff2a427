// The end of setup and of an invite: the new member is signed in, and sees
// their recovery codes once.

import { h, link } from "../dom.js";

export function recoveryCodes(codes) {
  return h("section", { class: "narrow", id: "recovery-codes" },
    h("h1", {}, "Save your recovery codes"),
    h("p", {}, "You are signed in. If you lose your passkey, each of these codes signs you in once. ",
      "Huddle shows them only now: write them down or keep them in your password manager."),
    h("ol", { class: "codes" }, codes.map((code) => h("li", {}, h("code", {}, code)))),
    link("/wallets", "I saved them: continue", { class: "button primary", id: "continue" }));
}
