// A dialog's list of things it manages (bans, webhooks, bots): a titled list filled from
// the server, a status line and an error line, and rows with one action each. An action
// that breaks something elsewhere (a webhook's URL, a bot's token) asks once more.
// Loaded with the dialogs that use it, not with the chat page.

import { h } from "./dom.js";

const btn = (attrs, ...kids) => h("button", { type: "button", ...attrs }, ...kids);

export class ManagedList {
  /** `id` names the heading that labels the section and the list. */
  constructor(id, title, className) {
    this.id = id;
    this.title = title;
    this.className = className;
    this.list = h("ul", { class: "member-list", "aria-labelledby": id });
    this.status = h("p", { class: "muted", role: "status" }, "Loading…");
    this.error = h("p", { class: "form-error", role: "alert", hidden: true });
  }

  fail(err) {
    this.error.textContent = err.message;
    this.error.hidden = false;
  }

  /** Fill the list from `loading` (a promise of items); `empty` says there are none. */
  fill(loading, row, empty) {
    loading.then((items) => {
      this.status.textContent = items.length ? "" : empty;
      this.list.append(...items.map(row));
    }, (err) => { this.status.textContent = ""; this.fail(err); });
  }

  /**
   * On `form`'s submit, `create()` makes an item on the server and answers
   * `[item, secret]`: the item gets a `row`, the form is cleared, and the secret (a URL,
   * a token: the server gives it only this once) is shown in `field`, selected for
   * copying, with `message`.
   */
  creates(form, create, row, field, message) {
    form.onsubmit = async (e) => {
      e.preventDefault();
      this.error.hidden = true;
      try {
        const [item, secret] = await create();
        this.list.append(row(item));
        form.reset();
        field.value = secret;
        field.hidden = false;
        field.select();
        this.status.textContent = message;
      } catch (err) {
        this.fail(err);
      }
    };
  }

  /**
   * One item's row: `label`, `detail`, and a button `action` (named `ariaLabel`) that
   * runs `act`. With `warning`, it first asks: "`warning` `yes` Cancel". On success the
   * row goes and the status line says `done`.
   */
  row({ label, detail = "", action, ariaLabel, warning = "", yes = "", act, done }) {
    const button = btn({ class: warning ? "link danger" : "link", "aria-label": ariaLabel }, action);
    const confirm = h("span", { class: "confirm", hidden: true });
    const li = h("li", { class: "member" }, h("span", { class: "member-name" }, label),
      detail ? h("span", { class: "muted" }, detail) : "", button, confirm);
    const run = async (trigger) => {
      trigger.disabled = true;
      try {
        await act();
        li.remove();
        this.status.textContent = done;
      } catch (err) {
        trigger.disabled = false;
        this.fail(err);
      }
    };
    button.onclick = () => {
      if (!warning) return run(button);
      const sure = btn({ class: "link danger", onclick: () => run(sure) }, yes);
      confirm.replaceChildren(`${warning} `, sure, " ",
        btn({ class: "link", onclick: () => { confirm.hidden = true; } }, "Cancel"));
      confirm.hidden = false;
    };
    return li;
  }

  /** The section: heading, list, then `middle` (a form), the status and the error. */
  section(...middle) {
    return h("section", { class: this.className, "aria-labelledby": this.id },
      h("h3", { id: this.id }, this.title), this.list, ...middle, this.status, this.error);
  }
}
