// Huddle's service worker (docs/pwa.md, "Service worker").
// It caches only the versioned static assets of this app version; the server
// fills in VERSION and ASSETS. /api and /socket.io are never cached: they go
// to the network and fail honestly when it is down. A page load with no
// network gets the offline page, which says so and shows no stale data.

const VERSION = "__VERSION__";
const ASSETS = __ASSETS__;
const PREFIX = "huddle-static-";
const CACHE = PREFIX + VERSION;
const OFFLINE = `/v/${VERSION}/offline.html`;

self.addEventListener("install", (event) => {
  // Awaited: a half-filled cache must fail the install, not pass silently.
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(ASSETS);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith(PREFIX) && name !== CACHE)
      .map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

function neverCached(url) {
  return url.pathname.startsWith("/api/") || url.pathname.startsWith("/socket.io/") ||
    url.pathname === "/healthz";
}

async function fromCacheOrNetwork(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

async function pageOrOffline(request) {
  try {
    return await fetch(request);
  } catch (err) {
    const cache = await caches.open(CACHE);
    return (await cache.match(OFFLINE)) || Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || neverCached(url)) {
    return; // the browser's own network request: nothing stored
  }
  if (url.pathname.startsWith(`/v/${VERSION}/`)) {
    event.respondWith(fromCacheOrNetwork(event.request));
  } else if (event.request.mode === "navigate") {
    event.respondWith(pageOrOffline(event.request));
  }
});

// Web Push (docs/notifications.md): the payload names the kind and the spend's
// screen, with a fixed sentence; nothing else is shown on a lock screen.
self.addEventListener("push", (event) => {
  let notice = {};
  try {
    notice = event.data ? event.data.json() : {};
  } catch (err) {
    notice = {};
  }
  const url = typeof notice.url === "string" && /^\/(?!\/)/.test(notice.url) ? notice.url : "/"; // this origin only
  event.waitUntil(self.registration.showNotification(notice.title || "Huddle", {
    body: notice.body || "Something in Huddle needs you.",
    tag: `${notice.kind || "huddle"}:${notice.proposal || ""}`,
    icon: `/v/${VERSION}/icons/icon-192.png`,
    data: { url },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(event.notification.data && event.notification.data.url || "/", self.location.origin);
  event.waitUntil((async () => {
    const open = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const here = open.find((client) => new URL(client.url).origin === url.origin);
    if (here) {
      await here.navigate(url.href);
      return here.focus().catch(() => null); // focus needs the click's permission; the screen is open anyway
    }
    return self.clients.openWindow(url.href);
  })());
});
