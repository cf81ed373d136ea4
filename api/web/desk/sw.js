// The desk's service worker (scope /desk/): keeps the page, its modules, the engine (with its
// wasm), the pinned configuration and the catalogues, so the desk opens with no network.
// Network first (a deployment's new files are used at once), the kept copy when the network fails.
// The verifier bundle is not kept here: the page keeps the verifier's state itself.

const CACHE = "epermit-desk-v1";
const PRECACHE = [
  "/desk/",
  "/desk/desk.js",
  "/desk/lists.js",
  "/desk/result.js",
  "/desk/camera.js",
  "/desk/live.js",
  "/desk/desk.css",
  "/web/style.css",
  "/web/i18n.js",
  "/web/api.js",
  "/web/dom.js",
  "/web/districts.js",
  "/web/engine.js",
  "/web/epermit_web.wasm",
  "/web/config.json",
  "/web/i18n/zh-CN.json",
  "/web/i18n/en.json",
];
const NETWORK_WAIT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => Promise.all(PRECACHE.map((url) => cache.add(url).catch(() => undefined))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("epermit-desk-") && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

// The page names what it loaded (the engine's wasm among it) so it is kept too.
self.addEventListener("message", (event) => {
  const urls = (event.data?.keep || []).filter(keeps);
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => Promise.all(urls.map((url) => cache.match(url).then((hit) => hit || cache.add(url)))))
      .then(() => event.source?.postMessage({ kept: urls.length }))
      .catch(() => event.source?.postMessage({ kept: 0, failed: true })),
  );
});

function keeps(url) {
  const target = new URL(url, self.location.origin);
  return target.origin === self.location.origin && /^\/(web|desk)\//.test(target.pathname);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || !keeps(request.url)) return;
  event.respondWith(networkFirst(request));
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await withTimeout(fetch(request), NETWORK_WAIT_MS);
    if (response.ok && response.type === "basic") cache.put(request, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(request, { ignoreSearch: true })
      || (request.mode === "navigate" ? await cache.match("/desk/") : undefined);
    if (kept) return kept;
    throw error;
  }
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); }, (error) => { clearTimeout(timer); reject(error); });
  });
}
