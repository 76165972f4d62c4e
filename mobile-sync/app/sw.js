// The field app's service worker (scope /m/): keeps the app shell so that the app opens with no
// signal. The server fills in the shell's file list and a version (a hash over those files):
// a new binary with a changed app installs a new worker, which fetches the new shell and drops
// the old one. Only the shell is cached here; the user's data lives in IndexedDB, and requests
// to /api, /sync and /files always go to the network.
const VERSION = "__VERSION__";
const SHELL = ["__SHELL__"];
const CACHE = `griddispatch-field-${VERSION}`;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith("griddispatch-field-") && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  const page = req.mode === "navigate" && url.pathname.startsWith("/m/");
  const path = page ? "/m/" : url.pathname;
  if (!SHELL.includes(path)) return;
  // The shell from the cache first (opens with no signal, fast on a slow link); the network
  // only for what the cache lacks.
  event.respondWith(caches.open(CACHE).then(async (c) => (await c.match(path)) || fetch(req)));
});
