// Sign-in and create-account screens. Each wrong input gets a plain message next to
// the form, announced to screen readers, and focus goes where the fix is needed.

import { api, ApiError } from "../api.js";
import { h, clear } from "./dom.js";

const MESSAGES = {
  username_taken: "That username is already taken. Try another one.",
  invalid_credentials: "Wrong username or password.",
  otp_invalid: "That code didn't work. Try the current code or a recovery code.",
  otp_reused: "That code was just used. Wait for the next one from your app, then enter it.",
  rate_limited: "Too many attempts. Wait a little and try again.",
  network: "Can't reach the server. Check your connection.",
};

/**
 * Render the sign-in ("login") or create-account ("register") form into `root`.
 * Calls onSignedIn(data) with the server's {user, csrf_token?} on success.
 */
export function showAuth(root, mode, { onSignedIn, onSwitch }) {
  clear(root);
  const isLogin = mode === "login";
  document.title = isLogin ? "Sign in · Parley" : "Create account · Parley";

  const error = h("p", { class: "form-error", id: "auth-error", role: "alert", hidden: true });
  const username = h("input", {
    id: "auth-username", name: "username", autocomplete: "username", required: true,
    autocapitalize: "none", spellcheck: "false", maxlength: isLogin ? 64 : 32,
    "aria-describedby": isLogin ? null : "username-hint",
  });
  const password = h("input", {
    id: "auth-password", name: "password", type: "password", required: true,
    autocomplete: isLogin ? "current-password" : "new-password",
    "aria-describedby": isLogin ? null : "password-hint",
  });
  const displayNameInput = h("input", { id: "auth-display", name: "display_name", autocomplete: "name", maxlength: 64 });
  const otp = h("input", {
    id: "auth-otp", name: "otp", inputmode: "numeric", autocomplete: "one-time-code", maxlength: 32,
  });
  // Passkeys: the code that talks to the authenticator is fetched on first use.
  const canPasskey = isLogin && typeof PublicKeyCredential === "function";
  const otpPasskey = canPasskey && h("button", { type: "button", class: "link" }, "Use a passkey instead");
  // A question, not a mistake: shown as a hint, not in the red error line.
  const otpField = h("div", { class: "field", hidden: true },
    h("label", { for: "auth-otp" }, "Two-factor code"), otp,
    h("p", { class: "hint", id: "otp-hint", role: "status" },
      "Two-factor sign-in is on. Enter the 6-digit code from your authenticator app, or a recovery code."),
    otpPasskey);
  const passkeyButton = canPasskey && h("button", { type: "button" }, "Use a passkey");
  const submit = h("button", { type: "submit", class: "primary" }, isLogin ? "Sign in" : "Create account");

  const form = h("form", { class: "auth-form", novalidate: true, "aria-describedby": "auth-error" },
    h("div", { class: "field" }, h("label", { for: "auth-username" }, "Username"), username,
      // The rules before the first try, not after a refusal (the server's USERNAME_RULE).
      isLogin ? null : h("p", { class: "hint", id: "username-hint" }, "3 to 32 letters, digits, dots, dashes or underscores.")),
    isLogin ? null : h("div", { class: "field" },
      h("label", { for: "auth-display" }, "Display name ", h("span", { class: "muted" }, "(optional)")), displayNameInput),
    h("div", { class: "field" }, h("label", { for: "auth-password" }, "Password"), password,
      isLogin ? null : h("p", { class: "hint", id: "password-hint" }, "At least 8 characters. A few words make a strong one.")),
    otpField,
    error,
    submit,
  );

  const showError = (text, focus) => {
    error.textContent = text;
    error.hidden = false;
    if (focus) focus.focus();
  };

  // The browser's passkey prompt, then `finish(credential)` with its answer.
  const withPasskey = async (button, finish) => {
    error.hidden = true;
    button.disabled = true;
    try {
      onSignedIn(await (await import("../webauthn.js")).signInWith(finish));
    } catch (err) {
      showError(err.message);
    } finally {
      button.disabled = false;
    }
  };
  if (canPasskey) {
    passkeyButton.onclick = () => withPasskey(passkeyButton, api.passkeyLogin);
    otpPasskey.onclick = () =>
      withPasskey(otpPasskey, (c) => api.login(username.value.trim(), password.value, undefined, c));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!username.value.trim()) return showError("Enter a username.", username);
    if (!password.value) return showError("Enter a password.", password);
    submit.disabled = true;
    try {
      const data = isLogin
        ? await api.login(username.value.trim(), password.value, otp.value.trim() || undefined)
        : await api.register(username.value.trim(), password.value, displayNameInput.value.trim() || undefined, form.dataset.invite);
      onSignedIn(data);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code === "otp_required") {
        otpField.hidden = false;
        if (canPasskey) passkeyButton.parentElement.hidden = true; // the field offers one
        otp.focus();
      } else if (err.code === "otp_reused") {
        showError(MESSAGES.otp_reused, otp);
      } else if (err.code === "username_taken") {
        showError(MESSAGES.username_taken, username);
      } else if (err.code === "otp_invalid" || (isLogin && err.status === 401 && otp.value.trim())) {
        showError(MESSAGES.otp_invalid, otp);
      } else if (isLogin && err.status === 401) {
        showError(MESSAGES.invalid_credentials, password);
      } else if (MESSAGES[err.code]) {
        showError(MESSAGES[err.code]);
      } else if (err.status === 400 || err.status === 422) {
        // Weak password, bad username: the server's message says exactly what's wrong.
        const field = /password/i.test(err.message + err.code) ? password : username;
        showError(err.message || "Check what you typed and try again.", field);
      } else {
        showError(err.message || "Something went wrong. Try again.");
      }
    } finally {
      submit.disabled = false;
    }
  });

  const switchLink = h("a", {
    href: isLogin ? "/register" : "/login",
    onclick: (event) => {
      event.preventDefault();
      onSwitch(isLogin ? "register" : "login");
    },
  }, isLogin ? "Create an account" : "Sign in");

  const heading = h("h2", {}, isLogin ? "Sign in" : "Create your account");
  const switchLine = h("p", { class: "auth-switch" }, isLogin ? "New here? " : "Already have an account? ", switchLink);
  const card = h("div", { class: "auth-card" }, h("h1", { class: "brand" }, "Parley"), heading, form,
    canPasskey && h("div", { class: "auth-passkey" }, h("p", { class: "muted" }, "or"), passkeyButton),
    switchLine);
  root.appendChild(h("main", { class: "auth", id: "main" }, card));
  username.focus();
  // Sign-up not open, or reset by email: auth-options.js adapts the form.
  api.authOptions().then((o) => (isLogin ? o.email_recovery : o.signup !== "open")
    && import("./auth-options.js").then((m) => m.applyOptions(o, form, heading, isLogin))).catch(() => {});
  // The operator's sign-in providers, if any: their buttons are sso.js's, fetched only
  // when there are some.
  api.oidcProviders().then((data) => {
    if (!data.providers || !data.providers.length) return;
    return import("./sso.js").then(({ showProviders }) =>
      showProviders(data, { form, heading, switchLine, error, username, showError }));
  }).catch(() => {}); // the form still works; providers that can't load show nothing
}
