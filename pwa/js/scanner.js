// Reading a signed PSBT back from a signer's animated QR with the camera
// (docs/pwa.md, "Scanning"). The browser's BarcodeDetector reads frames where
// it exists; elsewhere a worker runs the vendored jsQR. This module only
// collects the distinct part strings: each new one goes once over the socket
// (qr_part) to the decoder the server keeps for this socket, which says how far
// it got. Without a socket, all parts so far go to POST .../qr/decode.

import { ApiError, post } from "./api.js";
import { h, problem } from "./dom.js";
import { connected, qrPart, socketId } from "./socket.js";

const INTERVAL = 100; // ms between camera frames looked at
const SIDE = 640; // the longest side of the frame given to the decoder

async function detectorOrWorker() {
  if ("BarcodeDetector" in window) {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    if (formats.includes("qr_code")) {
      const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return { kind: "native", read: async (video) => (await detector.detect(video)).map((b) => b.rawValue), stop() {} };
    }
  }
  const worker = new Worker(new URL("./scan-worker.js", import.meta.url));
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  return {
    kind: "jsqr",
    read: (video) => new Promise((resolve) => {
      const ratio = Math.min(1, SIDE / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * ratio);
      canvas.height = Math.round(video.videoHeight * ratio);
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
      worker.onmessage = (event) => resolve(event.data ? [event.data] : []);
      worker.postMessage({ data: image.data, width: image.width, height: image.height }, [image.data.buffer]);
    }),
    stop() { worker.terminate(); },
  };
}

// Opens the camera; calls onPsbt(base64) once the server has the whole PSBT.
export function scanSignedPsbt(base, onPsbt, onClose) {
  const parts = new Set();
  const queue = []; // parts not yet acknowledged by this socket's decoder
  const [, , walletId, , proposalId] = base.split("/").map(Number);
  const state = { stream: null, reader: null, timer: null, sending: false, dirty: false, done: false, sid: null };
  const video = h("video", { id: "scan-video", playsinline: true, muted: true, autoplay: true });
  const bar = h("progress", { id: "scan-progress", max: 100, value: 0 });
  const label = h("p", { id: "scan-label", "aria-live": "polite" }, "Point the camera at the signer's QR code.");
  const status = h("div", { class: "status" });
  const close = h("button", { type: "button", id: "scan-close" }, "Stop scanning");
  const overlay = h("div", { class: "qr-overlay", id: "scan-overlay", role: "dialog", "aria-label": "Scan the signed PSBT" },
    video, h("label", { class: "field" }, h("span", {}, "Progress"), bar), label, status, close);

  const stop = () => {
    clearInterval(state.timer);
    if (state.reader) state.reader.stop();
    if (state.stream) for (const track of state.stream.getTracks()) track.stop();
    overlay.remove();
  };
  close.addEventListener("click", () => { stop(); onClose(); });

  const show = async (answer) => {
    const p = answer.progress;
    bar.value = p.percent;
    overlay.dataset.percent = String(p.percent);
    label.textContent = `${p.percent}% · ${p.parts_seen} of ${p.parts_total || "?"} parts` +
      (p.format ? ` · ${p.format.toUpperCase()}` : "");
    if (answer.psbt) {
      state.done = true;
      stop();
      await onPsbt(answer.psbt);
    }
  };

  const overSocket = async () => {
    if (socketId() !== state.sid) { // a new socket has a new decoder: it needs every part
      state.sid = socketId();
      queue.splice(0, queue.length, ...parts);
    }
    while (queue.length && !state.done) {
      const answer = await qrPart(walletId, proposalId, queue[0]);
      if (answer.error) throw new ApiError(0, answer.error.code, answer.error.message, answer.error.details);
      queue.shift();
      await show(answer);
    }
  };

  const send = async () => {
    if (state.sending || state.done) { state.dirty = true; return; }
    state.sending = true;
    state.dirty = false;
    try {
      if (connected()) await overSocket();
      else await show(await post(`${base}/qr/decode`, { parts: [...parts] }));
    } catch (err) {
      status.replaceChildren(problem(err));
      if (err.code === "rate_limited") { // the server's per-user budget: send again once it refills
        setTimeout(() => { status.replaceChildren(); send(); }, 1000 * Number(err.details.retry_after || 1));
      }
    } finally {
      state.sending = false;
      if (state.dirty && !state.done) send();
    }
  };

  const look = async () => {
    if (state.busy || video.readyState < 2) return;
    state.busy = true;
    try {
      for (const text of await state.reader.read(video)) {
        if (text && !parts.has(text)) {
          parts.add(text);
          queue.push(text);
          send();
        }
      }
    } finally {
      state.busy = false;
    }
  };

  (async () => {
    try {
      state.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      video.srcObject = state.stream;
      video.muted = true;
      await video.play().catch(() => {});
      state.reader = await detectorOrWorker();
      overlay.dataset.reader = state.reader.kind;
      state.timer = setInterval(() => { look().catch(() => {}); }, INTERVAL);
    } catch (err) {
      status.replaceChildren(problem({ code: "camera_unavailable", message: `The camera cannot be used: ${err.message}` }));
    }
  })();
  document.body.append(overlay);
  return overlay;
}
