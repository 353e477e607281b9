// Account → "Push and email": Web Push on this device, hide content, the email digest,
// do not disturb (now, and a daily quiet time). Fetched when the account dialog opens
// (ui/dialogs.js), never with the chat page. docs/notifications.md has the rules.

import { request } from "../api.js";
import { h } from "./dom.js";

const PUSH_ID_KEY = "parley.push-subscription"; // the server's id for this browser's one
const MINUTES = 24 * 60;

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function clock(minutes) {
  if (minutes === null || minutes === undefined) return "";
  return `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
}

function minutesOf(value) {
  const [hours, mins] = value.split(":").map(Number);
  return Number.isInteger(hours) && Number.isInteger(mins) ? (hours * 60 + mins) % MINUTES : null;
}

// A row of controls; styled here (CSSOM, allowed by the CSP) so that no stylesheet the
// chat page loads up front grows for a section few people open.
function row(...children) {
  const el = h("div", {}, ...children);
  Object.assign(el.style, { display: "flex", flexWrap: "wrap", gap: "0.5rem", alignItems: "center", marginBottom: "0.9rem" });
  return el;
}

const pushSupported = () => "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

async function registration() {
  return pushSupported() ? navigator.serviceWorker.getRegistration() : undefined;
}

/** Turn Web Push on for this browser: permission, the worker's subscription, the server. */
async function enablePush() {
  if ((await Notification.requestPermission()) !== "granted") {
    throw new Error("Notifications are blocked for this site in the browser's settings.");
  }
  const { public_key } = await request("GET", "/api/push/key");
  const reg = await registration();
  if (!reg?.active) throw new Error("Parley's app worker isn't running in this browser yet; reload the page and try again.");
  const sub = (await reg.pushManager.getSubscription())
    || (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(public_key) }));
  const { subscription } = await request("POST", "/api/push/subscriptions", sub.toJSON());
  localStorage.setItem(PUSH_ID_KEY, String(subscription.id));
}

async function disablePush() {
  const reg = await registration();
  const sub = reg && (await reg.pushManager.getSubscription());
  const id = localStorage.getItem(PUSH_ID_KEY);
  localStorage.removeItem(PUSH_ID_KEY);
  if (id) await request("DELETE", `/api/push/subscriptions/${encodeURIComponent(id)}`).catch(() => {});
  if (sub) await sub.unsubscribe();
}

function pushPart(status) {
  const state = h("p", { class: "muted", id: "push-state", role: "status" });
  const toggle = h("button", { type: "button", id: "push-toggle" });
  let on = false;
  const paint = () => {
    state.textContent = on ? "Push notifications are on for this device." : "Push notifications are off for this device.";
    toggle.textContent = on ? "Turn off push on this device" : "Enable push on this device";
  };
  if (!pushSupported()) {
    state.textContent = "This browser can't receive push notifications.";
    toggle.textContent = "Enable push on this device";
    toggle.disabled = true;
    return [state, toggle];
  }
  // Named at once (off, and disabled until this browser's subscription is looked up).
  paint();
  toggle.disabled = true;
  (async () => {
    const reg = await registration();
    const sub = reg && (await reg.pushManager.getSubscription());
    // On only if the server still has it: signing out, or the push service saying it is
    // gone, deletes it there (docs/notifications.md).
    const { subscriptions } = sub ? await request("GET", "/api/push/subscriptions") : { subscriptions: [] };
    const mine = subscriptions.find((s) => s.endpoint === sub.endpoint);
    on = Boolean(mine);
    if (mine) localStorage.setItem(PUSH_ID_KEY, String(mine.id));
  })().catch(() => {}).finally(() => {
    toggle.disabled = false;
    paint();
  });
  toggle.onclick = async () => {
    toggle.disabled = true;
    status.textContent = "";
    try {
      if (on) await disablePush();
      else await enablePush();
      on = !on;
    } catch (err) {
      // The browser's own refusals (no push service reachable...) say little: add what.
      status.textContent = err.name === "AbortError" || err.name === "NotAllowedError"
        ? `This browser could not subscribe to push (${err.message}).` : err.message;
    } finally {
      toggle.disabled = false;
      paint();
    }
  };
  return [state, toggle];
}

export function notifySettingsSection() {
  // Hidden while empty, like the dialog's other error lines (one alert at a time).
  const status = h("p", { class: "form-error", role: "alert", hidden: true });
  new MutationObserver(() => { status.hidden = !status.textContent; })
    .observe(status, { childList: true, characterData: true, subtree: true });
  const save = async (changes) => {
    status.textContent = "";
    try {
      paint((await request("PUT", "/api/me/notifications", changes)).notifications);
    } catch (err) {
      status.textContent = err.message;
    }
  };
  const hide = h("input", { type: "checkbox", id: "notify-hide" });
  hide.onchange = () => save({ hide_content: hide.checked });
  const digest = h("input", { type: "checkbox", id: "notify-digest" });
  digest.onchange = () => save({ email_digest: digest.checked });
  const dndState = h("p", { class: "muted", id: "dnd-state", role: "status" });
  const inHour = h("button", { type: "button", id: "dnd-hour" }, "1 hour");
  inHour.onclick = () => save({ dnd_until: new Date(Date.now() + 3600_000).toISOString() });
  const tomorrow = h("button", { type: "button", id: "dnd-tomorrow" }, "Until tomorrow");
  tomorrow.onclick = () => {
    const at = new Date();
    at.setDate(at.getDate() + 1);
    at.setHours(8, 0, 0, 0); // tomorrow morning, in this device's time
    save({ dnd_until: at.toISOString() });
  };
  const off = h("button", { type: "button", id: "dnd-off" }, "Off");
  off.onclick = () => save({ dnd_until: null });
  const from = h("input", { type: "time", id: "dnd-from" });
  const to = h("input", { type: "time", id: "dnd-to" });
  const schedule = h("form", { class: "dnd-schedule" }, row(
    h("label", { for: "dnd-from" }, "Quiet every day from "), from,
    h("label", { for: "dnd-to" }, " to "), to, " ",
    h("button", { type: "submit", id: "dnd-schedule-save" }, "Save")));
  schedule.onsubmit = (event) => {
    event.preventDefault();
    const start = from.value ? minutesOf(from.value) : null;
    const end = to.value ? minutesOf(to.value) : null;
    save({ dnd_start: start, dnd_end: end, dnd_timezone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC" });
  };

  function paint(prefs) {
    hide.checked = prefs.hide_content;
    digest.checked = prefs.email_digest;
    from.value = clock(prefs.dnd_start);
    to.value = clock(prefs.dnd_end);
    const until = prefs.dnd_until ? new Date(prefs.dnd_until) : null;
    dndState.textContent = until
      ? `Do not disturb until ${until.toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" })}.`
      : prefs.dnd_now ? "Do not disturb: quiet hours now." : "Do not disturb is off.";
    off.disabled = !until;
  }
  request("GET", "/api/me/notifications").then((found) => paint(found.notifications))
    .catch((err) => { status.textContent = err.message; });

  return h("section", { "aria-label": "Push and email", class: "notify-settings" },
    h("h3", {}, "Push and email"),
    h("p", { class: "muted" }, "When no Parley tab is open (or all are hidden), mentions, direct messages and rooms set to “Every message” reach this device, and unread ones your verified email."),
    row(...pushPart(status)),
    h("div", { class: "check" }, hide, h("label", { for: "notify-hide" }, "Hide message text in notifications from private rooms and conversations")),
    h("div", { class: "check" }, digest, h("label", { for: "notify-digest" }, "Email me a digest of unread mentions and direct messages")),
    h("h4", {}, "Do not disturb"),
    dndState,
    row(inHour, tomorrow, off),
    schedule,
    status);
}
