// A QR code as an SVG element, drawn with the vendored qrcode-generator
// (pwa/vendor/qrcode-generator, MIT): one path of dark modules, built with
// DOM calls (no markup strings), so it passes the CSP and scales crisply.

import qrcode from "../vendor/qrcode-generator/qrcode.mjs";

const SVG = "http://www.w3.org/2000/svg";
const QUIET = 4; // modules of quiet zone (ISO/IEC 18004)

export function qrSvg(text, { label = "QR code", level = "M" } = {}) {
  const code = qrcode(0, level); // 0: the smallest version that fits
  code.addData(text, "Byte");
  code.make();
  const count = code.getModuleCount();
  const size = count + 2 * QUIET;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.setAttribute("class", "qr");
  svg.setAttribute("shape-rendering", "crispEdges");
  const background = document.createElementNS(SVG, "rect");
  background.setAttribute("width", String(size));
  background.setAttribute("height", String(size));
  background.setAttribute("fill", "#fff");
  const parts = [];
  for (let row = 0; row < count; row += 1) {
    for (let col = 0; col < count; col += 1) {
      if (code.isDark(row, col)) parts.push(`M${col + QUIET} ${row + QUIET}h1v1h-1z`);
    }
  }
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", parts.join(""));
  path.setAttribute("fill", "#000");
  svg.append(background, path);
  return svg;
}
