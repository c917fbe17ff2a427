// Path routing with the History API. The server serves the same page at every
// route (coordinator/web/pwa.py PAGES), so a reload or a shared link works.
// Setup and invite links carry their token after "#", which never reaches the
// server's logs.

import { h, problem } from "./dom.js";

const routes = [];
let root = null;
let rendering = 0;

export function route(pattern, view) {
  const names = [];
  const source = pattern.replace(/:(\w+)/g, (_, name) => {
    names.push(name);
    return "([^/]+)";
  });
  routes.push({ regex: new RegExp(`^${source}/?$`), names, view });
}

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState({}, "", path);
  else history.pushState({}, "", path);
  return render();
}

function match(pathname) {
  for (const candidate of routes) {
    const found = candidate.regex.exec(pathname);
    if (found) {
      const params = {};
      candidate.names.forEach((name, i) => { params[name] = decodeURIComponent(found[i + 1]); });
      return { view: candidate.view, params };
    }
  }
  return null;
}

export async function render() {
  const ticket = ++rendering;
  const found = match(location.pathname);
  let node;
  try {
    node = found ? await found.view(found.params) : h("p", {}, "There is no such page in Huddle.");
  } catch (err) {
    if (err.status === 401 && location.pathname !== "/signin") {
      return navigate("/signin", { replace: true }); // the session ended (expired, signed out elsewhere, revoked)
    }
    node = h("section", {}, h("h1", {}, "Something went wrong"), problem(err));
  }
  if (ticket !== rendering || node === null) return; // a later navigation won
  root.replaceChildren(node);
  root.dataset.view = location.pathname;
  document.dispatchEvent(new CustomEvent("huddle:rendered", { detail: location.pathname }));
}

export function start(element) {
  root = element;
  window.addEventListener("popstate", render);
  document.addEventListener("click", (event) => {
    const anchor = event.target.closest("a[data-nav]");
    if (!anchor || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey ||
        event.shiftKey || event.altKey) return;
    const url = new URL(anchor.href);
    if (url.origin !== location.origin) return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
  return render();
}
