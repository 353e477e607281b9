// The composer: Enter sends, Shift+Enter adds a line, :shortcode: completion, the
// emoji button, and throttled "typing" notices. It hands text to onSend and never
// talks to the network itself.

import { loadCatalog, search, remember } from "../emoji-data.js";
import { h, clear, icon } from "./dom.js";

const SHORTCODE = /(?:^|[\s(]):([a-z0-9_+\-]{2,})(:?)$/i; // ":smi" or ":smile:" before the caret
const MAX_SUGGESTIONS = 8;
const MAX_BODY = 10000; // the server's limit; refuse early rather than bounce

export class Composer {
  /**
   * @param {{onSend: (text) => void, onTyping: () => void, onOpenPicker: (anchor) => void,
   *          onAttach?: (files) => void, hasAttachments?: () => boolean}} handlers
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.input = h("textarea", {
      id: "composer-input", class: "composer-input", rows: "1", maxlength: MAX_BODY,
      placeholder: "Write a message…", "aria-label": "Message",
      "aria-autocomplete": "list", "aria-controls": "shortcode-list",
      enterkeyhint: "send",
    });
    this.suggestions = h("ul", { id: "shortcode-list", class: "shortcodes", role: "listbox", "aria-label": "Emoji suggestions", hidden: true });
    this.emojiButton = h("button", {
      type: "button", class: "icon-button emoji-button", "aria-label": "Insert emoji", "aria-haspopup": "dialog",
      title: "Emoji", onclick: () => this.handlers.onOpenPicker(this.emojiButton),
    }, icon("smile"));
    this.sendButton = h("button", { type: "submit", class: "send-button", "aria-label": "Send" }, "Send");
    // Files: the paperclip opens the file chooser; pasting an image attaches it.
    this.fileInput = h("input", {
      type: "file", multiple: true, hidden: true, class: "file-input", "aria-label": "Attach files",
      onchange: () => {
        if (this.fileInput.files.length) this.handlers.onAttach?.([...this.fileInput.files]);
        this.fileInput.value = "";
      },
    });
    this.attachButton = h("button", {
      type: "button", class: "icon-button attach-button", "aria-label": "Attach files", title: "Attach files",
      onclick: () => this.fileInput.click(),
    }, icon("paperclip"));
    this.input.addEventListener("paste", (e) => {
      const files = [...(e.clipboardData?.files || [])];
      if (files.length && this.handlers.onAttach) {
        e.preventDefault();
        this.handlers.onAttach(files);
      }
    });
    this.form = h("form", { class: "composer", "aria-label": "Send a message" },
      this.suggestions, this.attachButton, this.fileInput, this.emojiButton, this.input, this.sendButton);
    this.el = this.form;
    this.matches = [];
    this.active = 0;
    this.input.addEventListener("keydown", (e) => this.#onKeyDown(e));
    this.input.addEventListener("input", () => this.#onInput());
    this.input.addEventListener("blur", () => setTimeout(() => this.#closeSuggestions(), 150));
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.#send();
    });
  }

  setPlaceholder(text) {
    this.input.placeholder = text;
  }

  focus() {
    this.input.focus();
  }

  /** Put text at the caret (the picker calls this) and keep the caret after it. */
  insert(text) {
    const { selectionStart: start, selectionEnd: end, value } = this.input;
    this.input.value = value.slice(0, start) + text + value.slice(end);
    const caret = start + text.length;
    this.input.setSelectionRange(caret, caret);
    this.input.focus();
    this.input.dispatchEvent(new Event("input"));
  }

  #send() {
    const text = this.input.value;
    // With files attached the caption is optional.
    if (!text.trim() && !this.handlers.hasAttachments?.()) return;
    this.input.value = "";
    this.#closeSuggestions();
    this.handlers.onSend(text);
  }

  #onKeyDown(event) {
    if (!this.suggestions.hidden && this.matches.length) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        this.#highlight((this.active + step + this.matches.length) % this.matches.length);
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        this.#pick(this.matches[this.active]);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        this.#closeSuggestions();
        return;
      }
    }
    // Enter sends; Shift+Enter (and IME composition) keeps the newline.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.#send();
    }
  }

  async #onInput() {
    if (this.input.value.trim()) this.handlers.onTyping();
    const before = this.input.value.slice(0, this.input.selectionStart);
    const match = SHORTCODE.exec(before);
    if (!match) return this.#closeSuggestions();
    let catalog;
    try {
      catalog = await loadCatalog();
    } catch {
      return this.#closeSuggestions();
    }
    const found = search(catalog, match[1], MAX_SUGGESTIONS);
    if (match[2]) {
      // A closed ":name:" with an exact name becomes the emoji straight away.
      const exact = found.find((e) => e.names.includes(match[1].toLowerCase()));
      if (exact) return this.#pick(exact);
    }
    this.matches = found;
    this.#showSuggestions();
  }

  #showSuggestions() {
    clear(this.suggestions);
    if (!this.matches.length) return this.#closeSuggestions();
    this.matches.forEach((entry, i) => {
      this.suggestions.appendChild(h("li", {
        id: `shortcode-${i}`, role: "option", class: "shortcode",
        onmousedown: (e) => {
          e.preventDefault(); // keep focus in the textarea
          this.#pick(entry);
        },
      }, h("span", { class: "shortcode-emoji", "aria-hidden": "true" }, entry.char), ` :${entry.names[0]}:`));
    });
    this.suggestions.hidden = false;
    this.#highlight(0);
  }

  #highlight(index) {
    this.active = index;
    [...this.suggestions.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    this.input.setAttribute("aria-activedescendant", `shortcode-${index}`);
  }

  #closeSuggestions() {
    this.matches = [];
    this.suggestions.hidden = true;
    this.input.removeAttribute("aria-activedescendant");
  }

  #pick(entry) {
    const caret = this.input.selectionStart;
    const before = this.input.value.slice(0, caret);
    const match = SHORTCODE.exec(before);
    if (!match) return this.#closeSuggestions();
    const start = caret - match[1].length - 1 - match[2].length;
    this.input.setSelectionRange(start, caret);
    this.#closeSuggestions();
    remember(entry.char);
    this.insert(entry.char);
  }
}
