// Message search: a header box; results with the matches marked jump to the message.

import { featuresApi } from "../features-api.js";
import { h, clear, displayName } from "./dom.js";

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function markedBody(body, spans) {
  const chars = Array.from(body);
  const out = [];
  let at = 0;
  for (const [start, end] of spans || []) {
    if (start < at) continue;
    out.push(chars.slice(at, start).join(""));
    out.push(h("mark", {}, chars.slice(start, end).join("")));
    at = end;
  }
  out.push(chars.slice(at).join(""));
  return out;
}

export class SearchBox {
  constructor(handlers) {
    this.handlers = handlers;
    this.input = h("input", {
      type: "search", class: "search-input", placeholder: "Search messages",
      "aria-label": "Search messages", autocomplete: "off", maxlength: "200",
    });
    this.results = h("ol", { class: "search-results", "aria-label": "Search results" });
    this.status = h("p", { role: "status" });
    this.panel = h("section", { class: "search-panel", hidden: true, "aria-label": "Search" },
      h("div", { class: "dialog-head" },
        h("strong", {}, "Search"),
        h("button", { type: "button", class: "icon-button", "aria-label": "Close search", onclick: () => this.close() }, "✕")),
      this.status, this.results);
    this.el = h("form", { class: "search-form", role: "search" }, this.input);
    this.el.addEventListener("submit", (event) => {
      event.preventDefault();
      this.run();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.close();
    });
  }

  close() {
    this.panel.hidden = true;
    clear(this.results);
  }

  async run() {
    const q = this.input.value.trim();
    if (!q) return this.close();
    this.panel.hidden = false;
    this.status.textContent = "Searching…";
    clear(this.results);
    let messages;
    try {
      ({ messages } = await featuresApi.search(q));
    } catch (err) {
      this.status.textContent = err.message || "Search failed.";
      return;
    }
    this.status.textContent = messages.length ? `${messages.length} result${messages.length === 1 ? "" : "s"}` : "No messages found.";
    for (const message of messages) {
      this.results.appendChild(h("li", {},
        h("button", {
          type: "button", class: "search-result", "data-seq": message.seq,
          onclick: () => {
            this.close();
            this.handlers.onOpen(message.room_id, message.seq);
          },
        },
        h("span", { class: "result-head" },
          this.handlers.roomName(message.room_id), " · ",
          displayName(message.author), " · ",
          h("time", { datetime: message.created_at }, timeFormat.format(new Date(message.created_at)))),
        h("span", {}, markedBody(message.body, message.highlights)))));
    }
  }
}
