// /reset-password#token=...: choose a new password with a one-time link an admin (or
// an email) gave. The token rides in the fragment, never sent to the server by the
// browser; it is read once and the address cleaned, so it stays out of the history.

import { api, ApiError } from "../api.js";
import { h, clear } from "./dom.js";

export function showReset(root) {
  const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  history.replaceState({}, "", "/reset-password");
  clear(root);
  document.title = "Choose a new password · Parley";
  const error = h("p", { class: "form-error", id: "reset-error", role: "alert", hidden: true });
  const password = h("input", {
    id: "reset-password", type: "password", required: true, autocomplete: "new-password",
    "aria-describedby": "reset-hint",
  });
  const again = h("input", { id: "reset-again", type: "password", required: true, autocomplete: "new-password" });
  const submit = h("button", { type: "submit", class: "primary" }, "Set the new password");
  const form = h("form", { class: "auth-form", novalidate: true, "aria-describedby": "reset-error" },
    h("div", { class: "field" }, h("label", { for: "reset-password" }, "New password"), password,
      h("p", { class: "hint", id: "reset-hint" }, "At least 8 characters. A few words make a strong one.")),
    h("div", { class: "field" }, h("label", { for: "reset-again" }, "The same again"), again),
    error, submit);
  const card = h("div", { class: "auth-card" }, h("h1", { class: "brand" }, "Parley"),
    h("h2", {}, "Choose a new password"), form);
  const done = () => {
    clear(card);
    card.append(h("h1", { class: "brand" }, "Parley"), h("h2", {}, "Password changed"),
      h("p", { role: "status" }, "Your new password is set, and every session of your account has been signed out."),
      h("p", {}, h("a", { href: "/login", class: "button primary" }, "Sign in")));
  };
  const fail = (text, focus) => {
    error.textContent = text;
    error.hidden = false;
    if (focus) focus.focus();
  };
  if (!token) fail("This page needs the link you were given. Open the whole link, or ask an admin for a new one.");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!password.value) return fail("Enter a new password.", password);
    if (password.value !== again.value) return fail("The two passwords differ.", again);
    submit.disabled = true;
    try {
      await api.resetPassword(token, password.value);
      done();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code === "reset_invalid") fail("This link was used already or has expired. Ask an admin for a new one.");
      else fail(err.message || "Something went wrong. Try again.", password);
    } finally {
      submit.disabled = false;
    }
  });
  root.append(h("main", { class: "auth", id: "main" }, card));
  password.focus();
}
