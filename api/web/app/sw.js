// The resident app's service worker (scope /app/): keeps the app shell — this folder's files and
// the shared /web/ modules, catalogues and engine — so the app opens without a network. Answers
// of the API (/v1/…) carry personal data and are never cached: they always go to the network.

const CACHE = "epermit-app-shell-v1";
const SHELL = [
  "/app/",
  "/app/index.html",
  "/app/app.css",
  "/app/app.js",
  "/app/applications.js",
  "/app/device_key.js",
  "/app/districts.js",
  "/app/dom.js",
  "/app/live_qr.js",
  "/app/login.js",
  "/app/permit.js",
  "/app/problems.js",
  "/app/profile.js",
  "/app/registrations.js",
  "/app/report.js",
  "/app/manifest.webmanifest",
  "/app/icon-192.png",
  "/app/icon-512.png",
  "/web/style.css",
  "/web/i18n.js",
  "/web/api.js",
  "/web/dom.js",
  "/web/districts.js",
  "/web/engine.js",
  "/web/epermit_web.wasm",
  "/web/i18n/zh-CN.json",
  "/web/i18n/en.json",
];

/** Whether a request is for the shell (never for the API or anything else). */
function isShell(url) {
  return (
    url.origin === self.location.origin &&
    (url.pathname.startsWith("/app/") || url.pathname.startsWith("/web/"))
  );
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      // One missing file must not stop the others from being kept.
      Promise.all(SHELL.map((path) => cache.add(path).catch(() => undefined))),
    ),
  );
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

// Network first, so a new version shows at once when online; the kept copy when offline.
self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || !isShell(url)) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      })
      .catch(() =>
        caches
          .match(request, { ignoreSearch: true })
          .then((hit) => hit || caches.match("/app/index.html")),
      ),
  );
});
