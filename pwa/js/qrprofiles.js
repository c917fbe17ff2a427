// Per-device profiles for showing a PSBT as animated QR: the format, density
// and frame rate a cosigner's device reads best, picked by the slot's device
// kind. Each entry cites its source (docs/qr.md, "Device profiles"); a device
// that is not documented gets the default, UR at medium, 5 fps, full PSBT.

export const DEFAULT_PROFILE = Object.freeze({ format: "ur", density: "medium", fps: 5,
  source: "default: UR crypto-psbt is read by every documented signer; medium suits most (docs/qr.md)" });

const PROFILES = {
  // Keystone reads UR crypto-psbt (docs/qr.md Devices table); high is the table's recommendation.
  keystone: { format: "ur", density: "high", fps: 5, source: "docs/qr.md Devices: Keystone reads UR crypto-psbt" },
  // Passport reads UR crypto-psbt and does not read BBQr (the issue-8 brief, docs/qr.md).
  passport: { format: "ur", density: "high", fps: 5, source: "docs/qr.md Devices: Passport reads UR, not BBQr" },
  // SeedSigner's small camera: low (docs/qr.md); BBQr only in releases with SeedSigner PR #601.
  seedsigner: { format: "ur", density: "low", fps: 5, source: "docs/qr.md Devices: SeedSigner UR low (BBQr: PR #601)" },
  // Krux reads UR and, since 24.07.0, BBQr (release notes "Add BBQr Support"); low for its camera.
  krux: { format: "ur", density: "low", fps: 5, source: "docs/qr.md Devices: Krux UR/BBQr (24.07.0 release notes)" },
  // Jade in QR mode reads UR crypto-psbt; low for its camera (docs/qr.md).
  jade: { format: "ur", density: "low", fps: 5, source: "docs/qr.md Devices: Jade (QR mode) UR low" },
  // Coldcard Q: BBQr is its native animated format (Coldcard Q scanner docs; docs/qr.md).
  coldcard_q: { format: "bbqr", density: "medium", fps: 5, source: "docs/qr.md Devices: Coldcard Q reads BBQr (Coldcard Q docs)" },
};

function kindOf(device) {
  const name = String(device || "").toLowerCase().replace(/[\s-]+/g, "_");
  if (name === "coldcard_q" || name === "coldcardq" || name === "q1") return "coldcard_q";
  return name;
}

export function profileFor(device) {
  const kind = kindOf(device);
  return Object.prototype.hasOwnProperty.call(PROFILES, kind) ? { kind, ...PROFILES[kind] } : { kind, ...DEFAULT_PROFILE };
}

// The UR/BBQr choice a member made for one signer device, remembered on this device.
const KEY = "huddle.qr.format.";

export function rememberedFormat(fingerprint) {
  try {
    const found = localStorage.getItem(KEY + fingerprint);
    return found === "ur" || found === "bbqr" ? found : null;
  } catch (err) {
    return null;
  }
}

export function rememberFormat(fingerprint, format) {
  try {
    localStorage.setItem(KEY + fingerprint, format);
  } catch (err) {
    // private mode: the choice lasts for this screen only
  }
}
