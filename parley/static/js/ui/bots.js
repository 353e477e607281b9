// My bots, in the account dialog: create one (a username, a display name) and copy its
// API token, which is shown only then; disable one, which ends its tokens and its
// connections. Loaded only when the account dialog opens.

import { request } from "../api.js";
import { h, displayName } from "./dom.js";

const btn = (attrs, ...kids) => h("button", { type: "button", ...attrs }, ...kids);

/** The account dialog's "Bots" section. */
export function botsSection() {
  const list = h("ul", { class: "member-list", "aria-labelledby": "bots-title" });
  const status = h("p", { class: "muted", role: "status" }, "Loading…");
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const fail = (err) => { error.textContent = err.message; error.hidden = false; };
  const row = (bot) => {
    const name = displayName(bot);
    const disable = btn({ class: "link danger", "aria-label": `Disable ${name}` }, "Disable");
    const confirm = h("span", { class: "confirm", hidden: true });
    const li = h("li", { class: "member" }, h("span", { class: "member-name" }, name),
      h("span", { class: "muted" }, ` @${bot.username}`), disable, confirm);
    const yes = btn({ class: "link danger" }, "Yes, disable");
    yes.onclick = async () => {
      yes.disabled = true;
      try {
        await request("DELETE", `/api/bots/${encodeURIComponent(bot.id)}`);
        li.remove();
        status.textContent = `${name} is disabled: its token no longer works.`;
      } catch (err) {
        yes.disabled = false;
        fail(err);
      }
    };
    disable.onclick = () => {
      confirm.replaceChildren("Its token stops working. ", yes, " ",
        btn({ class: "link", onclick: () => { confirm.hidden = true; } }, "Cancel"));
      confirm.hidden = false;
    };
    return li;
  };
  const username = h("input", { id: "bot-username", required: true, maxlength: "32", autocomplete: "off", spellcheck: "false" });
  const display = h("input", { id: "bot-display", maxlength: "64", autocomplete: "off" });
  const token = h("input", { readonly: true, hidden: true, "aria-label": "Bot token" });
  const form = h("form", { class: "stack" },
    h("div", { class: "field" }, h("label", { for: "bot-username" }, "Bot username"), username),
    h("div", { class: "field" }, h("label", { for: "bot-display" }, "Name shown in chat (optional)"), display),
    h("button", {}, "Create bot"), token);
  form.onsubmit = async (e) => {
    e.preventDefault();
    error.hidden = true;
    try {
      const body = { username: username.value.trim() };
      if (display.value.trim()) body.display_name = display.value.trim();
      const { bot, token: secret } = await request("POST", "/api/bots", body);
      list.append(row(bot));
      username.value = display.value = "";
      token.value = secret;
      token.hidden = false;
      token.select();
      status.textContent = "Copy the token now: it is shown only once. "
        + "Send it as Authorization: Bearer <token>; add the bot to rooms by its username.";
    } catch (err) {
      fail(err);
    }
  };
  request("GET", "/api/bots").then(({ bots }) => {
    status.textContent = bots.length ? "" : "No bots yet.";
    list.append(...bots.map(row));
  }, (err) => { status.textContent = ""; fail(err); });
  return h("section", { class: "bots", "aria-labelledby": "bots-title" },
    h("h3", { id: "bots-title" }, "Bots"), list, form, status, error);
}
