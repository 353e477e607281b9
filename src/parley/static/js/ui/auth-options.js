// What the server's settings change on the sign-in screens (docs/admin.md), fetched
// after the form is drawn. Create account: "closed" replaces the form with a note,
// "invite" asks for the invite (a link or its code, filled in when the visitor came
// through an /invite/{code} address). Sign in: "Forgot your password?" when the server
// can mail a reset link.

import { api, ApiError } from "../api.js";
import { inviteInPath } from "../router.js";
import { h } from "./dom.js";

/** Adapt `form` to GET /api/auth/options' answer; an invite is read from its data-invite. */
export function applyOptions({ signup: mode, email_recovery: byEmail }, form, heading, isLogin) {
  if (isLogin) {
    if (byEmail) form.after(forgotPassword());
    return;
  }
  if (mode === "closed") {
    form.hidden = true;
    heading.after(h("p", { class: "signup-closed", role: "status" },
      "Sign-up is closed on this server. Ask an admin to create an account for you."));
    return;
  }
  if (mode !== "invite") return;
  const input = h("input", {
    id: "auth-invite", name: "invite", required: true, autocomplete: "off", spellcheck: "false",
    "aria-describedby": "invite-hint", value: inviteInPath() || "",
  });
  // A pasted link works as well as the bare code.
  const sync = () => {
    const text = input.value.trim();
    form.dataset.invite = text.replace(/^.*\/invite\//, "").replace(/[/?#].*$/, "");
  };
  input.addEventListener("input", sync);
  sync();
  form.prepend(h("div", { class: "field" },
    h("label", { for: "auth-invite" }, "Invite"), input,
    h("p", { class: "hint", id: "invite-hint" }, "This server takes new accounts by invite: paste the invite link or its code.")));
}

/** "Forgot your password?": a username or address, and the same answer for anyone. */
function forgotPassword() {
  const login = h("input", { id: "forgot-login", autocomplete: "username", required: true, spellcheck: "false" });
  const said = h("p", { role: "status", class: "hint" });
  const form = h("form", { class: "auth-form", hidden: true, novalidate: true },
    h("div", { class: "field" }, h("label", { for: "forgot-login" }, "Username or email address"), login),
    said, h("button", { type: "submit" }, "Email me a reset link"));
  const open = h("button", { type: "button", class: "link", "aria-expanded": "false" }, "Forgot your password?");
  open.onclick = () => {
    form.hidden = !form.hidden;
    open.setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) login.focus();
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!login.value.trim()) return login.focus();
    try {
      await api.requestReset(login.value.trim());
      said.textContent = "If that account has a confirmed email address, a reset link is on its way. It works for an hour.";
    } catch (err) {
      said.textContent = err instanceof ApiError ? err.message : "Can't reach the server. Try again.";
    }
  });
  return h("div", { class: "auth-forgot" }, open, form);
}
