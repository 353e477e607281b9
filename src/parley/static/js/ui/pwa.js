// The installable app's page side, fetched when the service worker (/sw.js) has
// something to say: a new release is waiting ("update"), or the server can't be
// reached and the worker is showing what it kept ("offline"). See docs/web-client.md.

import { h } from "./dom.js";
import { useStyles } from "./styles.js";

let notice = null;

/** A new release waits: say so, and apply it when asked. */
export function update() {
  if (notice) return;
  useStyles("/static/css/pwa.css");
  notice = h("div", { class: "pwa-update", role: "status" },
    h("span", {}, "A new version of Parley is available."),
    h("button", { type: "button", class: "pwa-reload", onclick: apply }, "Reload"),
    h("button", { type: "button", class: "link", "aria-label": "Dismiss", onclick: () => notice.remove() }, "×"));
  document.body.append(notice);
}

async function apply() {
  const sw = navigator.serviceWorker;
  const registration = await sw.getRegistration();
  const next = registration && (registration.waiting || registration.installing);
  if (!next) return location.reload();
  // The new worker takes over, then the page reloads under it: new code, one step.
  sw.addEventListener("controllerchange", () => location.reload(), { once: true });
  next.postMessage("skip-waiting");
}

let reading = false;

/**
 * The server is out of reach and the chat shows what the worker kept: say so and
 * lock the composer until the chat's connection is back (its shell loses "offline").
 */
export function offline() {
  if (reading) return;
  reading = true;
  useStyles("/static/css/pwa.css");
  const root = document.getElementById("app");
  const note = h("p", { class: "banner pwa-offline", role: "status" },
    "Offline — read only. This is what this device kept from your last visit.");
  const watch = new MutationObserver(check);
  watch.observe(root, { subtree: true, childList: true, attributes: true, attributeFilter: ["class"] });
  check();

  function check() {
    const shell = root.querySelector(".shell");
    if (!shell) return note.remove(); // signed out: nothing to read
    if (!shell.classList.contains("offline")) return leave(); // connected again
    if (!note.isConnected) shell.prepend(note);
    for (const el of root.querySelectorAll(".composer textarea, .composer button")) {
      if (el.disabled) continue;
      el.disabled = true;
      el.dataset.offline = "";
    }
  }

  function leave() {
    watch.disconnect();
    note.remove();
    for (const el of root.querySelectorAll("[data-offline]")) {
      el.disabled = false;
      delete el.dataset.offline;
    }
    reading = false;
  }
}

const DATA_CACHE = "parley-data"; // sw.js's
const KEEP_MESSAGES = 50;

/**
 * Bring what sw.js keeps for offline reading up to what the chat holds: each open
 * room's newest messages, live ones included (the worker only sees history pages).
 * Called as the page is hidden; only for the person whose /api/me the worker keeps.
 */
export async function keep(userId, rooms, store) {
  try {
    await write(userId, rooms, store);
  } catch {
    // Storage full or gone: offline reading shows the older copy.
  }
}

async function write(userId, rooms, store) {
  if (!self.caches || !(await caches.has(DATA_CACHE))) return;
  const cache = await caches.open(DATA_CACHE);
  const me = await cache.match("/api/me");
  if (!me || (await me.json()).user?.id !== userId) return;
  for (const [id, timeline] of store.rooms) {
    const room = rooms.get(id);
    if (!room || !timeline.loaded) continue;
    const body = JSON.stringify({ messages: timeline.messages.slice(-KEEP_MESSAGES) });
    const url = `/api/rooms/${encodeURIComponent(room.id)}/messages`;
    await cache.put(url, new Response(body, { headers: { "Content-Type": "application/json" } }));
  }
}
