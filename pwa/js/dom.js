// Building the DOM from data: text goes in through text nodes and attributes
// only, never innerHTML, so nothing a member or the server wrote can run.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttributes(el, attrs);
  add(el, children);
  return el;
}

function setAttributes(el, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "value") el.value = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
}

export function add(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function link(href, text, attrs) {
  return h("a", { href, "data-nav": true, ...attrs }, text);
}

export function field(label, input, hint) {
  return h("label", { class: "field" }, h("span", {}, label), input, hint ? h("small", { class: "muted" }, hint) : null);
}

export function problem(err) {
  const code = err && err.code ? err.code : "error";
  const message = err && err.message ? err.message : String(err);
  return h("p", { class: "problem", role: "alert", "data-code": code }, message, " ", h("code", {}, code));
}

export function when(seconds) {
  return new Date(seconds * 1000).toLocaleString();
}

// A form whose submit runs `action` once at a time, showing its error in place.
export function form(attrs, children, action) {
  const status = h("div", { class: "status", "aria-live": "polite" });
  const el = h("form", attrs, children, status);
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (el.dataset.busy) return;
    el.dataset.busy = "1";
    status.replaceChildren();
    try {
      await action(new FormData(el), status);
    } catch (err) {
      status.replaceChildren(problem(err));
    } finally {
      delete el.dataset.busy;
    }
  });
  return el;
}
