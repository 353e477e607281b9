// Entry point: decide between the sign-in screens and the chat screen.

import { api, ApiError, PAGE_SIZE, maybeSignedIn, setCsrfToken } from "./api.js";
import { inviteInPath, roomInPath } from "./router.js";
import { startChat } from "./ui/chat.js";

const root = document.getElementById("app");

/**
 * Start the chat screen's first requests alongside /api/me instead of after it:
 * three round trips in parallel rather than in a row (issue 7's time-to-type).
 */
function prefetch() {
  if (!maybeSignedIn()) return null;
  const quiet = (promise) => {
    promise.catch(() => {}); // a signed-out visitor gets 401s here; boot() handles that
    return promise;
  };
  const roomId = roomInPath();
  return {
    rooms: quiet(api.rooms()),
    history: roomId ? { roomId, page: quiet(api.messages(roomId, { limit: PAGE_SIZE })) } : null,
  };
}

function signedIn(data, early = null) {
  setCsrfToken(data.csrf_token);
  if (location.pathname.startsWith("/admin")) return import("./ui/admin.js").then((m) => m.showAdmin(root, data));
  if (location.pathname === "/login" || location.pathname === "/register") history.replaceState({}, "", "/");
  startChat(root, data.user, { onSignedOut: () => auth("login"), prefetched: early });
}

function auth(mode) {
  self.caches?.delete("parley-data").catch(() => {}); // sw.js's offline copy
  const path = mode === "register" ? "/register" : "/login";
  // An invite's address stays: signing up may need its code (invite-only sign-up).
  if (location.pathname !== path && !inviteInPath()) history.replaceState({}, "", path);
  // Fetched only when shown: the chat page of a signed-in person never needs it.
  import("./ui/auth.js").then((m) => m.showAuth(root, mode, { onSignedIn: signedIn, onSwitch: auth }));
}

async function boot() {
  if (location.pathname === "/reset-password") return import("./ui/reset.js").then((m) => m.showReset(root));
  // No session cookie pair, no session: straight to the form, without a /api/me whose
  // 401 the browser would log in the console of every signed-out visit.
  if (!maybeSignedIn()) return auth(location.pathname === "/register" ? "register" : "login");
  const early = prefetch();
  try {
    signedIn(await api.me(), early);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      auth(location.pathname === "/register" ? "register" : "login");
      return;
    }
    root.textContent = "Parley can't reach its server right now. Reload the page to try again.";
  }
}

// The installable app (docs/web-client.md): ui/pwa.js shows what sw.js says.
const sw = navigator.serviceWorker;
if (sw) {
  sw.onmessage = ({ data: d }) => (d === "offline" || d === "update") && import("./ui/pwa.js").then((m) => m[d]());
  addEventListener("load", () => sw.register("/sw.js").then((r) => r?.waiting && sw.onmessage({ data: "update" }), () => {}));
}

boot();
