// Message search: a box in the room header, results in a panel with the matched words
// marked, each result opening its room at that message.

import { featuresApi } from "../features-api.js";
import { h, clear, displayName } from "./dom.js";

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** The body as text nodes with <mark> around the [start, end) code point spans. */
export function markedBody(body, spans) {
  const chars = Array.from(body);
  const out = [];
  let at = 0;
  for (const [start, end] of spans || []) {
    if (start < at) continue;
    out.push(document.createTextNode(chars.slice(at, start).join("")));
    out.push(h("mark", {}, chars.slice(start, end).join("")));
    at = end;
  }
  out.push(document.createTextNode(chars.slice(at).join("")));
  return out;
}

export class SearchBox {
  /** @param {{roomName: (roomId) => string, currentRoom: () => object|null, onOpen: (roomId, seq) => void}} handlers */
  constructor(handlers) {
    this.handlers = handlers;
    this.input = h("input", {
      type: "search", class: "search-input", placeholder: "Search messages",
      "aria-label": "Search messages", autocomplete: "off", maxlength: "200",
    });
    this.scope = h("input", { type: "checkbox", id: "search-this-room" });
    this.results = h("ol", { class: "search-results", "aria-label": "Search results" });
    this.status = h("p", { class: "search-status", role: "status" });
    this.panel = h("section", { class: "search-panel", hidden: true, "aria-label": "Search" },
      h("div", { class: "search-panel-head" },
        h("label", { class: "check" }, this.scope, " This room only"),
        h("button", { type: "button", class: "icon-button", "aria-label": "Close search", onclick: () => this.close() }, "✕")),
      this.status, this.results);
    this.el = h("form", { class: "search-form", role: "search" }, this.input);
    this.el.addEventListener("submit", (event) => {
      event.preventDefault();
      this.run();
    });
    this.scope.addEventListener("change", () => this.run());
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
    const room = this.scope.checked ? this.handlers.currentRoom() : null;
    let messages;
    try {
      ({ messages } = await featuresApi.search(q, room && room.id));
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
          h("span", { class: "result-room" }, this.handlers.roomName(message.room_id)), " · ",
          h("span", { class: "result-author" }, displayName(message.author)), " · ",
          h("time", { datetime: message.created_at }, timeFormat.format(new Date(message.created_at)))),
        h("span", { class: "result-body" }, markedBody(message.body, message.highlights)))));
    }
  }
}
