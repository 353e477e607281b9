// The account dialog's "Delete account" section: the password (and a two-factor code
// when it is on), what becomes of my messages, and a confirmation. Loaded only when
// the account dialog opens. See docs/admin.md, "Deleting accounts".

import { api, ApiError } from "../api.js";
import { h } from "./dom.js";

const MESSAGES = {
  invalid_credentials: "Your password is wrong.",
  otp_required: "Two-factor sign-in is on: enter a code from your app or a recovery code.",
  otp_invalid: "That code didn't work. Try the current one from your app.",
  otp_reused: "That code was just used. Wait for the next one from your app.",
  erasure_not_allowed: "This server keeps the messages of deleted accounts. Choose to keep them.",
  last_admin: "You are the server's last admin. Make someone else an admin first.",
  rate_limited: "Too many attempts. Wait a little and try again.",
};

function choice(value, label, checked) {
  const id = `del-msg-${value}`;
  return h("div", { class: "field" },
    h("label", { for: id },
      h("input", { id, type: "radio", name: "del-messages", value, checked }), " ", label));
}

/** ``onDeleted`` runs once the account is gone (this session with it). */
export function deleteAccountSection(onDeleted) {
  const password = h("input", { id: "del-password", type: "password", autocomplete: "current-password" });
  const otp = h("input", { id: "del-otp", inputmode: "numeric", autocomplete: "one-time-code", maxlength: 32 });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const form = h("form", { class: "stack" },
    h("p", { class: "muted" },
      "Your account, name, rooms' memberships, passkeys, bots and sessions are deleted at once. This cannot be undone."),
    h("fieldset", {},
      h("legend", {}, "My messages"),
      choice("keep", "Keep them, shown as by “Deleted user”", true),
      choice("erase", "Erase them everywhere, with their files", false)),
    h("div", { class: "field" }, h("label", { for: "del-password" }, "Password"), password),
    h("div", { class: "field" }, h("label", { for: "del-otp" }, "Two-factor code (if on)"), otp),
    error,
    h("button", { type: "submit", class: "danger" }, "Delete my account"));
  const button = form.querySelector("button[type=submit]");
  let armed = false; // the first press asks again, the second deletes
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const messages = form.querySelector("input[name=del-messages]:checked")?.value || "keep";
    if (!armed) {
      armed = true;
      button.textContent = "Yes, delete my account for good";
      return;
    }
    try {
      await api.deleteMe({ password: password.value || undefined, otp: otp.value.trim() || undefined, messages });
      onDeleted();
    } catch (err) {
      error.textContent = err instanceof ApiError ? MESSAGES[err.code] || err.message : String(err);
      error.hidden = false;
    }
  });
  return h("section", { "aria-label": "Delete account" }, h("h3", {}, "Delete account"), form);
}
