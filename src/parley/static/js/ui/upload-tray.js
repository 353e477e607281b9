// The tray of uploads waiting to be sent with the next message: a progress bar and a
// cancel button each. Fetched with the first file attached (ui/chat.js).

import { api } from "../api.js";
import { formatSize } from "./attachments.js";
import { h, clear } from "./dom.js";

export const MAX_FILES = 10; // the server's limit of attachments per message

/** Uploads chosen for the next message: each with a progress bar and a cancel button. */
export class AttachmentTray extends EventTarget {
  constructor() {
    super();
    this.items = [];
    this.el = h("ul", { class: "attachment-tray", "aria-label": "Files to send", hidden: true });
  }

  get busy() {
    return this.items.some((item) => item.state === "uploading");
  }

  get hasFiles() {
    return this.items.some((item) => item.state !== "failed");
  }

  /** Start uploading each of `files` (a FileList or array). */
  add(files) {
    for (const file of files) {
      if (this.items.length >= MAX_FILES) break;
      this.#start(file);
    }
    this.#changed();
  }

  /** Wait for uploads still running; the ids of those that succeeded, in order. */
  async settle() {
    await Promise.allSettled(this.items.map((item) => item.upload.promise));
    return this.items.filter((item) => item.state === "done").map((item) => item.file.id);
  }

  /** Forget every item (after sending), cancelling what still runs. */
  reset() {
    for (const item of this.items) if (item.state === "uploading") item.upload.abort();
    this.items = [];
    clear(this.el);
    this.#changed();
  }

  #start(file) {
    const progress = h("progress", { max: "1", value: "0", "aria-label": `Uploading ${file.name}` });
    const status = h("span", { class: "attachment-status" }, formatSize(file.size));
    const item = { file: null, state: "uploading", node: null, upload: null };
    const cancel = h("button", {
      type: "button", class: "icon-button attachment-cancel", "aria-label": `Remove ${file.name}`,
      title: "Remove", onclick: () => this.#remove(item),
    }, "×");
    item.node = h("li", { class: "attachment-item uploading" },
      h("span", { class: "attachment-name" }, file.name || "pasted image"), status, progress, cancel);
    item.upload = api.upload(file, (sent, total) => {
      progress.value = total ? sent / total : 0;
    });
    item.upload.promise.then((stored) => {
      item.file = stored;
      item.state = "done";
      item.node.classList.replace("uploading", "done");
      progress.value = 1;
      progress.hidden = true;
      this.#changed();
    }, (error) => {
      if (error.code === "aborted") return;
      item.state = "failed";
      item.node.classList.replace("uploading", "failed");
      progress.hidden = true;
      status.textContent = error.message;
      this.#changed();
    });
    this.items.push(item);
    this.el.appendChild(item.node);
  }

  #remove(item) {
    if (item.state === "uploading") item.upload.abort();
    item.state = "removed";
    this.items = this.items.filter((other) => other !== item);
    item.node.remove();
    this.#changed();
  }

  #changed() {
    this.el.hidden = this.items.length === 0;
    this.dispatchEvent(new CustomEvent("change"));
  }
}
