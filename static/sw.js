// Peel's service worker: the page keeps working offline once it has been loaded (issue 13).
//
// Network first, then this cache: online, every file is fetched (and revalidated) as before, so a
// new build shows up at once; offline, the last copy answers. The weights (*.safetensors) are not
// kept here: the model worker keeps them in its own Cache API store, keyed by their SHA-256.
//
// `scripts/offline-postbuild.mjs` writes the build's file list into ASSETS, so that each build's
// sw.js differs, the browser installs it, and the new files are cached before the first offline visit.
const ASSETS = [];
const CACHE = "peel-app";

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(ASSETS);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    // Drop the files of older builds (content-hashed names that this build no longer has).
    const cache = await caches.open(CACHE);
    const keep = new Set(ASSETS.map((path) => new URL(path, self.registration.scope).href));
    for (const request of await cache.keys()) {
      const url = new URL(request.url);
      if (!keep.has(url.href) && !url.pathname.includes("/samples/")) await cache.delete(request);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.endsWith(".safetensors")) return;
  event.respondWith(networkFirst(request));
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (offline) {
    // A navigation to "/" or "/?backend=cpu" is answered by the cached page.
    const hit = await cache.match(request, { ignoreSearch: request.mode === "navigate" });
    if (hit) return hit;
    throw offline;
  }
}
