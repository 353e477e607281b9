// My bots, in the account dialog: create one (a username, the name shown in chat) and
// copy its API token, which is shown only then; disable one, which ends its tokens and
// its connections. Loaded only when the account dialog opens.

import { api } from "../api.js";
import { h, displayName } from "./dom.js";
import { ManagedList } from "./managed-list.js";

/** The account dialog's "Bots" section. */
export function botsSection() {
  const bots = new ManagedList("bots-title", "Bots", "bots");
  const row = (bot) => {
    const name = displayName(bot);
    return bots.row({
      label: name, detail: ` @${bot.username}`, action: "Disable", ariaLabel: `Disable ${name}`,
      warning: "Its token stops working.", yes: "Yes, disable",
      act: () => api.disableBot(bot.id),
      done: `${name} is disabled: its token no longer works.`,
    });
  };
  const username = h("input", { id: "bot-username", required: true, maxlength: "32", autocomplete: "off", spellcheck: "false" });
  const display = h("input", { id: "bot-display", maxlength: "64", autocomplete: "off" });
  const token = h("input", { readonly: true, hidden: true, "aria-label": "Bot token" });
  const form = h("form", { class: "stack" },
    h("div", { class: "field" }, h("label", { for: "bot-username" }, "Bot username"), username),
    h("div", { class: "field" }, h("label", { for: "bot-display" }, "Name shown in chat (optional)"), display),
    h("button", {}, "Create bot"), token);
  bots.creates(form, async () => {
    const body = { username: username.value.trim() };
    if (display.value.trim()) body.display_name = display.value.trim();
    const { bot, token: secret } = await api.createBot(body);
    return [bot, secret];
  }, row, token, "Copy the token now: it is shown only once. "
    + "Send it as Authorization: Bearer <token>; add the bot to rooms by its username.");
  bots.fill(api.bots().then((r) => r.bots), row, "No bots yet.");
  return bots.section(form);
}
