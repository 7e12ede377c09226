// The POS service worker: keeps the POS shell (page, script, styles, icon) so the
// page opens with no network. Pages and assets: network first, the cached copy
// when the network fails. POS API calls and everything but GET pass through
// untouched: a sale is never answered from a cache.
"use strict";
const CACHE = "stsgas-pos-v1";
const PAGE = "/pos";
const ASSETS = [
  "/static/web/app.css",
  "/static/web/console.js",
  "/static/web/pos.js",
  "/static/web/pos-queue.js",
  "/pos/manifest.webmanifest",
  "/pos/icon-192.png",
];

// The page only when it is the signed-in POS itself (not the login page a
// signed-out request is redirected to).
// A redirect (to the login page) means signed out: the kept page is dropped.
async function keepPage(cache, response) {
  if (response.ok && !response.redirected && response.type === "basic") {
    await cache.put(PAGE, response.clone());
  } else if (response.redirected || response.type === "opaqueredirect") {
    await cache.delete(PAGE);
  }
  return response;
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(ASSETS);
    try { await keepPage(cache, await fetch(PAGE, { credentials: "same-origin" })); } catch (e) { /* offline: kept on the next visit */ }
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/pos/api/")) return;
  const isPage = req.mode === "navigate" && url.pathname === PAGE;
  if (!isPage && !ASSETS.includes(url.pathname)) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const fresh = await fetch(req);
      if (isPage) return keepPage(cache, fresh);
      if (fresh.ok) await cache.put(url.pathname, fresh.clone());
      return fresh;
    } catch (e) {
      const kept = await cache.match(isPage ? PAGE : url.pathname);
      if (kept) return kept;
      throw e;
    }
  })());
});
