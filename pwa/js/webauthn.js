// Passkeys: the server's WebAuthn options arrive as JSON with base64url
// binary fields (py_webauthn's options_to_json); the browser wants
// ArrayBuffers, and the server wants the credential back as JSON.

export function fromB64url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const raw = atob(b64);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
  return bytes.buffer;
}

export function toB64url(buffer) {
  const bytes = new Uint8Array(buffer);
  let raw = "";
  for (const byte of bytes) raw += String.fromCharCode(byte);
  return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const withIds = (list) => (list || []).map((c) => ({ ...c, id: fromB64url(c.id) }));

export function supported() {
  return typeof window.PublicKeyCredential === "function" && !!navigator.credentials;
}

export async function createPasskey(options) {
  const publicKey = {
    ...options,
    challenge: fromB64url(options.challenge),
    user: { ...options.user, id: fromB64url(options.user.id) },
    excludeCredentials: withIds(options.excludeCredentials),
  };
  const credential = await navigator.credentials.create({ publicKey });
  return {
    id: credential.id,
    rawId: toB64url(credential.rawId),
    type: credential.type,
    response: {
      clientDataJSON: toB64url(credential.response.clientDataJSON),
      attestationObject: toB64url(credential.response.attestationObject),
    },
    clientExtensionResults: credential.getClientExtensionResults(),
  };
}

export async function getPasskey(options) {
  const publicKey = {
    ...options,
    challenge: fromB64url(options.challenge),
    allowCredentials: withIds(options.allowCredentials),
  };
  const credential = await navigator.credentials.get({ publicKey });
  const response = {
    clientDataJSON: toB64url(credential.response.clientDataJSON),
    authenticatorData: toB64url(credential.response.authenticatorData),
    signature: toB64url(credential.response.signature),
  };
  if (credential.response.userHandle) response.userHandle = toB64url(credential.response.userHandle);
  return {
    id: credential.id,
    rawId: toB64url(credential.rawId),
    type: credential.type,
    response,
    clientExtensionResults: credential.getClientExtensionResults(),
  };
}
