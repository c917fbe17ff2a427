// Showing a PSBT as animated QR, full screen (docs/pwa.md, "Animated QR").
// The frame strings come from the server, made by the core's encoders
// (GET .../qr); this module only draws each string with the vendored
// qrcode-generator, every frame at the version the server names, so the
// symbol does not change size between frames. Tap the code to pause.

import qrcode from "../vendor/qrcode-generator/qrcode.mjs";
import { get } from "./api.js";
import { h, problem } from "./dom.js";
import { profileFor, rememberFormat, rememberedFormat } from "./qrprofiles.js";

const QUIET = 4; // modules of quiet zone (ISO/IEC 18004)
const ALPHANUMERIC = /^[0-9A-Z $%*+\-./:]*$/;

function symbol(text, version) {
  const mode = ALPHANUMERIC.test(text) ? "Alphanumeric" : "Byte";
  for (const type of [version, 0]) { // a later fountain part may need one more version
    try {
      const code = qrcode(type, "L");
      code.addData(text, mode);
      code.make();
      return code;
    } catch (err) {
      if (type === 0) throw err;
    }
  }
  return null;
}

export function drawFrame(canvas, text, version) {
  const shown = text.slice(0, 3).toLowerCase() === "ur:" ? text.toUpperCase() : text; // BCR-2020-005: upper case fits alphanumeric mode
  const code = symbol(shown, version);
  const count = code.getModuleCount();
  const scale = Math.max(2, Math.floor(canvas.width / (count + 2 * QUIET)));
  const offset = Math.floor((canvas.width - scale * count) / 2);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#000";
  for (let row = 0; row < count; row += 1) {
    for (let col = 0; col < count; col += 1) {
      if (code.isDark(row, col)) ctx.fillRect(offset + col * scale, offset + row * scale, scale, scale);
    }
  }
}

function choice(label, name, options, value, onChange) {
  const select = h("select", { name, id: `qr-${name}` }, options.map(([v, text]) =>
    h("option", { value: v, selected: v === value }, text)));
  select.addEventListener("change", () => onChange(select.value));
  return h("label", { class: "field" }, h("span", {}, label), select);
}

function toggle(format, onChange) {
  const buttons = ["ur", "bbqr"].map((f) => h("button", { type: "button", class: "small", "data-format": f,
    "aria-pressed": String(f === format) }, f === "ur" ? "UR" : "BBQr"));
  for (const b of buttons) b.addEventListener("click", () => onChange(b.dataset.format));
  return h("div", { class: "segmented", id: "qr-format", role: "group", "aria-label": "QR format" }, buttons);
}

function compactToggle(on, onChange) {
  const box = h("input", { type: "checkbox", id: "qr-compact", checked: on });
  box.addEventListener("change", () => onChange(box.checked));
  return h("label", { class: "field" }, box,
    h("span", {}, " Compact PSBT (without the full previous transactions, which this device does not read)"));
}

// cosigners: the wallet's slots ({position, fingerprint, label, device}); base: the proposal's API path.
export function showAnimatedQr(base, cosigners, onClose) {
  const first = cosigners[0] || { fingerprint: "", device: "" };
  const state = { signer: first, format: "ur", density: "high", fps: 5, compact: null, offerCompact: null,
    bytes: 0, frames: [], version: 1, index: 0, paused: false, timer: null };
  const canvas = h("canvas", { id: "qr-canvas", width: 720, height: 720, role: "img",
    "aria-label": "Animated QR code of the PSBT: tap to pause" });
  const counter = h("p", { id: "qr-counter", class: "muted small", "aria-live": "off" });
  const status = h("div", { class: "status" });
  const source = h("p", { id: "qr-profile", class: "muted small" });
  const controls = h("div", { class: "qr-controls" });
  const overlay = h("div", { class: "qr-overlay", id: "qr-overlay", role: "dialog", "aria-label": "Show the PSBT as QR" },
    canvas, counter, status, controls, source);

  const tick = () => {
    if (!state.frames.length) return;
    state.index = (state.index + 1) % state.frames.length;
    paint();
  };
  const paint = () => {
    drawFrame(canvas, state.frames[state.index], state.version);
    canvas.dataset.index = String(state.index);
    counter.textContent = `Frame ${state.index + 1} of ${state.frames.length} · ${state.format.toUpperCase()} · ` +
      `${state.density} · ${state.fps} fps · ${state.bytes} B${state.compact ? " compact" : ""}` +
      `${state.paused ? " · paused" : ""}`;
  };
  const schedule = () => {
    clearInterval(state.timer);
    state.timer = state.paused ? null : setInterval(tick, 1000 / state.fps);
  };
  const load = async () => {
    status.replaceChildren();
    try {
      const compact = state.compact ? `&compact=${encodeURIComponent(state.compact)}` : "";
      const found = await get(`${base}/qr?format=${state.format}&density=${state.density}${compact}`);
      Object.assign(state, { frames: found.frames, version: found.version, index: 0, bytes: found.psbt_bytes });
      canvas.dataset.format = found.format;
      canvas.dataset.density = found.density;
      canvas.dataset.compact = found.compact || "";
      canvas.dataset.psbtBytes = String(found.psbt_bytes);
      canvas.dataset.frames = String(found.frames.length);
      paint();
      schedule();
    } catch (err) {
      status.replaceChildren(problem(err));
    }
  };
  const pick = (signer) => {
    state.signer = signer;
    const profile = profileFor(signer.device);
    // compact only where the device's own code is documented not to read non_witness_utxo
    const offerCompact = profile.compact ? profile.kind : null;
    Object.assign(state, { format: rememberedFormat(signer.fingerprint) || profile.format,
      density: profile.density, fps: profile.fps, compact: offerCompact, offerCompact });
    source.textContent = `Profile for ${signer.device || "an unnamed device"}: ${profile.source}`;
    drawControls();
    load();
  };
  const drawControls = () => {
    const speed = h("input", { type: "range", id: "qr-speed", min: 2, max: 10, step: 1, value: state.fps,
      "aria-label": "Frames per second" });
    speed.addEventListener("input", () => { state.fps = Number(speed.value); schedule(); paint(); });
    const close = h("button", { type: "button", id: "qr-close" }, "Close");
    close.addEventListener("click", () => { clearInterval(state.timer); overlay.remove(); onClose(); });
    controls.replaceChildren(
      cosigners.length > 1 ? choice("Signer device", "signer", cosigners.map((c) =>
        [String(c.position), `${c.label || `Key ${c.position + 1}`} · ${c.device || "device not named"} · ${c.fingerprint}`]),
      String(state.signer.position), (v) => pick(cosigners.find((c) => String(c.position) === v))) : null,
      toggle(state.format, (f) => { state.format = f; rememberFormat(state.signer.fingerprint, f); drawControls(); load(); }),
      choice("Density", "density", [["low", "Low (small cameras)"], ["medium", "Medium"], ["high", "High"]],
        state.density, (v) => { state.density = v; load(); }),
      state.offerCompact ? compactToggle(state.compact !== null, (on) => {
        state.compact = on ? state.offerCompact : null;
        load();
      }) : null,
      h("label", { class: "field" }, h("span", {}, "Speed (2 to 10 frames per second)"), speed),
      close);
  };
  canvas.addEventListener("click", () => { state.paused = !state.paused; schedule(); paint(); });
  pick(first);
  document.body.append(overlay);
  if (overlay.requestFullscreen) overlay.requestFullscreen().catch(() => {}); // needs a user gesture; best effort
  return overlay;
}
