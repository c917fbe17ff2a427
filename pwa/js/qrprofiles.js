// Per-device profiles for showing a PSBT as animated QR: the format, density
// and frame rate a cosigner's device reads, picked by the slot's device kind,
// and whether it gets the compact PSBT (without the segwit inputs'
// non_witness_utxo, which these devices' own code never reads). The same table
// as coordinator/qr/profiles.py (tests/pwa/test_qr_profiles.py checks they
// agree); docs/qr.md, "Device profiles", has the sources. A device that is not
// listed gets the default, with the full PSBT.

const SPARROW = "Sparrow's default for every device: UR, 400-byte fragments, 5 fps (QRDensity.NORMAL)";

export const DEFAULT_PROFILE = Object.freeze({ format: "ur", density: "high", fps: 5, compact: false,
  source: `any other device: UR crypto-psbt, read by every documented signer; high is ${SPARROW}; the full PSBT` });

const PROFILES = {
  // Keystone compares non_witness_utxo with witness_utxo (wrapped_psbt.rs): full PSBT.
  keystone: { format: "ur", density: "high", fps: 5, compact: false,
    source: `reads UR crypto-psbt; high is ${SPARROW}; full PSBT: Keystone compares non_witness_utxo with witness_utxo (keystone3-firmware wrapped_psbt.rs)` },
  // Passport reads UR, not BBQr, and checks non_witness_utxo's txid (passport2 psbt.py).
  passport: { format: "ur", density: "high", fps: 5, compact: false,
    source: `reads UR crypto-psbt, not BBQr; high is ${SPARROW}; full PSBT: Passport checks non_witness_utxo when present (passport2 psbt.py)` },
  // SeedSigner: embit signs from witness_utxo; its camera runs at 5-6 fps (scan_screens.py).
  seedsigner: { format: "ur", density: "medium", fps: 5, compact: true,
    source: "reads UR crypto-psbt; its camera runs at 5-6 fps (scan_screens.py), so 5 fps; medium (V11) is our choice, between Sparrow's low and default; compact: embit signs from witness_utxo (psbt_parser.py, embit psbt.py)" },
  // Krux reads BBQr since 24.07.0 (CHANGELOG); embit signs from witness_utxo; QVGA camera.
  krux: { format: "bbqr", density: "medium", fps: 5, compact: true,
    source: "reads BBQr since 24.07.0 (CHANGELOG 'Add BBQr Support'); QVGA camera (camera.py), so medium (V11) is our choice; compact: embit signs from witness_utxo (krux psbt.py)" },
  // Jade reads UR only; libwally's best utxo is witness_utxo first; QVGA camera.
  jade: { format: "ur", density: "medium", fps: 5, compact: true,
    source: "reads UR crypto-psbt in QR mode (bcur.c), not BBQr; QVGA camera (camera.c), so medium (V11) is our choice; compact: sign_psbt.c reads witness_utxo first (wally_psbt_get_input_best_utxo)" },
  // Coldcard Q reads BBQr only; Sparrow shows it parts of about V27; it prefers non_witness_utxo.
  coldcard_q: { format: "bbqr", density: "high", fps: 5, compact: false,
    source: "reads BBQr, not UR (shared/decoders.py); Sparrow shows Coldcard BBQr parts of about V27, so high (V16) is within it; full PSBT: Coldcard prefers non_witness_utxo when present (History-Q 1.4.1Q)" },
};

export function kindOf(device) {
  const name = String(device || "").trim().toLowerCase().replace(/[\s-]+/g, "_");
  if (name === "coldcard_q" || name === "coldcardq" || name === "q1") return "coldcard_q";
  return name;
}

export function profileFor(device) {
  const kind = kindOf(device);
  return Object.prototype.hasOwnProperty.call(PROFILES, kind) ? { kind, ...PROFILES[kind] } : { kind, ...DEFAULT_PROFILE };
}

// The table, for the test that checks it against coordinator/qr/profiles.py.
export function allProfiles() {
  return { ...PROFILES, default: DEFAULT_PROFILE };
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
