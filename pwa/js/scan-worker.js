// Decodes one camera frame with the vendored jsQR (pwa/vendor/jsqr, Apache-2.0),
// off the page's thread; used where the browser has no BarcodeDetector (desktop
// Chromium on Linux, Firefox). Answers the QR's text, or null.
/* global jsQR */
importScripts("../vendor/jsqr/jsQR.js");

self.onmessage = (event) => {
  const { data, width, height } = event.data;
  const found = jsQR(data, width, height, { inversionAttempts: "dontInvert" });
  self.postMessage(found ? found.data : null);
};
