// The create-account form under the server's sign-up mode (docs/admin.md): "closed"
// replaces the form with a note; "invite" asks for the invite (a link or its code),
// filled in when the visitor came through an /invite/{code} address.

import { api } from "../api.js";
import { inviteInPath } from "../router.js";
import { h } from "./dom.js";

/** Read the mode and adapt `form`; the invite it needs is read at submit from data-invite. */
export async function applySignupMode(form, heading) {
  const { mode } = await api.signupMode();
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
