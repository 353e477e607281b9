// Entry point: decide between the sign-in screens and the chat screen.

import { api, ApiError, setCsrfToken } from "./api.js";
import { showAuth } from "./ui/auth.js";
import { startChat } from "./ui/chat.js";

const root = document.getElementById("app");

function signedIn(data) {
  setCsrfToken(data.csrf_token);
  if (location.pathname === "/login" || location.pathname === "/register") history.replaceState({}, "", "/");
  startChat(root, data.user, { onSignedOut: () => auth("login") });
}

function auth(mode) {
  const path = mode === "register" ? "/register" : "/login";
  if (location.pathname !== path) history.replaceState({}, "", path);
  showAuth(root, mode, { onSignedIn: signedIn, onSwitch: auth });
}

async function boot() {
  try {
    signedIn(await api.me());
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      auth(location.pathname === "/register" ? "register" : "login");
      return;
    }
    root.textContent = "Parley can't reach its server right now. Reload the page to try again.";
  }
}

boot();
