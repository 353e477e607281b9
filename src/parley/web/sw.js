// Parley's service worker, served at /sw.js by parley.web.pwa, which fills in the
// release, the shell's files and the extension scripts below (docs/web-client.md).
//
// Online, every request goes to the network as if this worker weren't here: code is
// never served from a cache while the server answers, so a new release can't be
// hidden behind an old one. What it keeps is for when the server can't be reached:
//   - the app shell (the page, scripts, styles, icons) of this release, in
//     parley-shell-<release>, fetched at install and dropped when the next one activates;
//   - the signed-in person's last /api/me, /api/rooms and newest page (at most
//     KEEP_MESSAGES) of each room they opened, in parley-data, wiped on sign-in, sign-out,
//     a refused session or another person's /api/me.
// Offline, those stand in for the network, and the page is told ("offline") so that it
// shows itself read-only. A new worker waits, is announced ("update") and takes over
// when the page asks ("skip-waiting").
"use strict";

const RELEASE = "__PARLEY_RELEASE__";
const SHELL = ["__PARLEY_SHELL__"];
const SHELL_CACHE = `parley-shell-${RELEASE}`;
const DATA_CACHE = "parley-data"; // also deleted by the page on sign-out (js/app.js)
const ME = "/api/me";
const ROOMS = "/api/rooms";
const KEEP_MESSAGES = 50; // the page size the client asks for
const KEEP_ROOMS = 200; // rooms whose history is kept; the least recently opened go
const PAGES = /^\/(?:login|register|account|rooms\/.*|invite\/.*)?$/; // parley.web.pages
const LATEST_PAGE = /^\/api\/rooms\/[^/]+\/messages$/;
const SIGN_IN_OR_OUT = /^\/api\/auth\/(?:.*\/)?(?:login|logout|register)$/;

/* __PARLEY_EXTENSIONS__ */

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    // Past the HTTP cache: the files must be this release's.
    await cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload" })));
    if (!self.registration.active) {
      await self.skipWaiting(); // the first worker: nothing older to be out of step with
      return;
    }
    for (const client of await self.clients.matchAll({ type: "window", includeUncontrolled: true })) {
      client.postMessage("update");
    }
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("parley-shell-") && name !== SHELL_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
    // Learn whose data may be kept now, not at the next visit's /api/me.
    if ((await keptUser()) === null) await learnUser();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method !== "GET") {
    // Whoever signs in next must not find the last person's rooms: forgotten before,
    // and again after, so that nothing kept while the request ran survives it.
    if (SIGN_IN_OR_OUT.test(url.pathname)) event.respondWith(signInOrOut(request));
    return;
  }
  if (request.mode === "navigate") {
    if (PAGES.test(url.pathname)) event.respondWith(page(request));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(shellFile(request));
  } else if (url.pathname === ME || url.pathname === ROOMS || isLatestPage(url)) {
    event.respondWith(kept(event, url));
  }
});

async function signInOrOut(request) {
  await forget();
  try {
    return await fetch(request);
  } finally {
    await forget();
  }
}

function isLatestPage(url) {
  return LATEST_PAGE.test(url.pathname) && !url.searchParams.has("before_seq") && !url.searchParams.has("after_seq");
}

/**
 * The network's answer; when there is none (or a proxy's 502-504 for a server that is
 * down), `fallback()`'s if it has one. `fresh(response)` sees each real answer.
 */
async function networkOr(request, fallback, fresh = () => {}) {
  let response = null;
  try {
    response = await fetch(request);
    if (response.status < 502 || response.status > 504) {
      fresh(response);
      return response;
    }
  } catch {
    response = null;
  }
  return (await fallback()) || response || Response.error();
}

function page(request) {
  return networkOr(request, () => caches.match(SHELL[0], { cacheName: SHELL_CACHE }));
}

function shellFile(request) {
  return networkOr(request, () => caches.match(request, { cacheName: SHELL_CACHE, ignoreSearch: true }));
}

/** The network's answer, kept for later; offline, the kept one and a word to the page. */
function kept(event, url) {
  const key = url.pathname;
  return networkOr(event.request, async () => {
    const copy = await (await caches.open(DATA_CACHE)).match(key);
    const client = copy && event.clientId && await self.clients.get(event.clientId);
    if (client) client.postMessage("offline");
    return copy;
  }, (response) => event.waitUntil(keep(key, response.clone()).catch(() => {})));
}

async function keep(key, response) {
  if (key === ME) {
    if (response.status === 401) return forget();
    if (!response.ok) return;
    const user = (await response.clone().json()).user;
    if (!user || user.id !== (await keptUser())) await forget();
    const cache = await caches.open(DATA_CACHE);
    return cache.put(ME, response);
  }
  if (!response.ok) return;
  // Only under the person's own /api/me: just after a sign-in (which wiped the cache)
  // the worker asks whose these are.
  if ((await keptUser()) === null) await learnUser();
  if ((await keptUser()) === null) return;
  let body = await response.json();
  if (key !== ROOMS && Array.isArray(body.messages)) {
    body = { ...body, messages: body.messages.slice(-KEEP_MESSAGES) };
  }
  const cache = await caches.open(DATA_CACHE);
  await cache.delete(key); // re-added last: keys() lists the least recently kept first
  await cache.put(key, new Response(JSON.stringify(body), { headers: { "Content-Type": "application/json" } }));
  const pages = (await cache.keys()).filter((request) => LATEST_PAGE.test(new URL(request.url).pathname));
  for (const old of pages.slice(0, Math.max(0, pages.length - KEEP_ROOMS))) await cache.delete(old);
}

function learnUser() {
  return fetch(ME).then((response) => keep(ME, response)).catch(() => {});
}

async function keptUser() {
  const me = await (await caches.open(DATA_CACHE)).match(ME);
  if (!me) return null;
  try {
    return (await me.json()).user.id;
  } catch {
    return null;
  }
}

function forget() {
  return caches.delete(DATA_CACHE);
}
