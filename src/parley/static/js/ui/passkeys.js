// My passkeys, in the account dialog: add one (the browser asks the authenticator to
// make it), rename one, delete one (asked once more). Loaded only when the account
// dialog opens; the code that talks to the authenticator only when one is added.

import { api, ApiError } from "../api.js";
import { h } from "./dom.js";
import { ManagedList } from "./managed-list.js";

const day = (time) => new Date(time).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
const describe = (p) => (p.last_used_at ? ` · last used ${day(p.last_used_at)}` : " · never used");

/** The account dialog's "Passkeys" section. */
export function passkeysSection() {
  const keys = new ManagedList("passkeys-title", "Passkeys", "passkeys");

  const row = (passkey) => {
    const li = keys.row({
      label: passkey.name, detail: describe(passkey), action: "Delete", ariaLabel: `Delete ${passkey.name}`,
      warning: "You won't be able to sign in with it.", yes: "Yes, delete",
      act: () => api.deletePasskey(passkey.id),
      done: `${passkey.name} is deleted.`,
    });
    const rename = h("button", { type: "button", class: "link", "aria-label": `Rename ${passkey.name}` }, "Rename");
    rename.addEventListener("click", () => renameIn(li, passkey));
    li.querySelector("button").before(rename);
    return li;
  };

  function renameIn(li, passkey) {
    const input = h("input", { value: passkey.name, maxlength: 64, "aria-label": "Passkey name", required: true });
    const form = h("form", { class: "check" }, input, h("button", { type: "submit" }, "Save"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      keys.error.hidden = true;
      try {
        const { passkey: renamed } = await api.renamePasskey(passkey.id, input.value.trim());
        li.replaceWith(row(renamed));
        keys.status.textContent = `Renamed to ${renamed.name}.`;
      } catch (err) {
        keys.fail(err);
        input.focus();
      }
    });
    li.replaceChildren(form);
    input.select();
    input.focus();
  }

  const name = h("input", { id: "passkey-name", maxlength: 64, autocomplete: "off", placeholder: "Laptop, phone…" });
  const password = h("input", { id: "passkey-password", type: "password", autocomplete: "current-password" });
  const passwordField = h("div", { class: "field", hidden: true },
    h("label", { for: "passkey-password" }, "Your password"), password);
  const add = h("button", { type: "submit" }, "Add a passkey");
  const form = h("form", { class: "stack" },
    h("div", { class: "field" }, h("label", { for: "passkey-name" }, "Name for a new passkey (optional)"), name),
    passwordField, add);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    keys.error.hidden = true;
    add.disabled = true;
    let webauthn = null;
    try {
      webauthn = await import("../webauthn.js");
      const options = await api.passkeyRegisterOptions(passwordField.hidden ? undefined : password.value);
      const credential = await webauthn.createPasskey(options);
      const { passkey } = await api.registerPasskey(credential, name.value.trim() || undefined);
      keys.list.append(row(passkey));
      form.reset();
      passwordField.hidden = true;
      keys.status.textContent = `${passkey.name} is added: sign in with it instead of your password, or as your second step.`;
    } catch (err) {
      if (err instanceof ApiError && err.code === "password_required") {
        passwordField.hidden = false;
        keys.fail(new Error("Enter your password to add a passkey."));
        password.focus();
      } else if (err instanceof ApiError && err.code === "invalid_credentials") {
        keys.fail(new Error("Your password is wrong."));
        password.select();
        password.focus();
      } else {
        const refusal = webauthn && webauthn.browserRefusal(err);
        keys.fail(refusal ? new Error(refusal) : err);
      }
    } finally {
      add.disabled = false;
    }
  });

  keys.fill(api.passkeys().then((r) => r.passkeys), row,
    "No passkeys yet. A passkey signs you in with your device's fingerprint, face or screen lock.");
  return keys.section(form);
}
