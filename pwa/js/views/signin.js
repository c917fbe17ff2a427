// Sign in with a passkey, or with a one-time recovery code.

import { post } from "../api.js";
import { field, form, h } from "../dom.js";
import { navigate } from "../router.js";
import { signedIn } from "../session.js";
import { getPasskey, supported } from "../webauthn.js";

async function withPasskey() {
  const options = await post("/session/options");
  const credential = await getPasskey(options);
  await signedIn(await post("/session", { credential }));
  await navigate("/wallets", { replace: true });
}

async function withCode(data) {
  await signedIn(await post("/session/recovery", { code: String(data.get("code") || "").trim() }));
  await navigate("/wallets", { replace: true });
}

export async function signInView() {
  return h("section", { class: "narrow" },
    h("h1", {}, "Sign in"),
    supported() ? null : h("p", { class: "problem" }, "This browser cannot use passkeys. Use a recovery code, or another browser."),
    form({ id: "passkey-signin" }, [
      h("button", { type: "submit", class: "primary", id: "signin-passkey" }, "Sign in with my passkey"),
    ], withPasskey),
    h("details", {},
      h("summary", {}, "Lost your passkey? Use a recovery code"),
      form({ id: "recovery-signin" }, [
        field("Recovery code", h("input", { name: "code", autocomplete: "one-time-code", required: true, spellcheck: "false" }),
          "Each code works once. Add a new passkey after signing in."),
        h("button", { type: "submit" }, "Sign in with the code"),
      ], withCode)));
}
