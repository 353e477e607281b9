// Files in the page: the tray of uploads waiting to be sent (progress, cancel), how
// attachments look in a message (thumbnail, player or download card) and the
// full-size image viewer. Files are shown only through <img>, <video>, <audio> and
// links pointing at their URL; names go in as text, never markup.

import { api } from "../api.js";
import { h, clear, icon } from "./dom.js";

export const MAX_FILES = 10; // the server's limit of attachments per message
const THUMB_MAX_PX = 360; // the largest side of an inline image, in CSS pixels

const UNITS = ["B", "KB", "MB", "GB"];

export function formatSize(bytes) {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

function iconFor(type) {
  if (type === "application/pdf" || type.startsWith("text/")) return "file";
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("video/")) return "film";
  if (type.startsWith("audio/")) return "music";
  if (/zip|tar|gzip|rar|7z|bzip|xz/.test(type)) return "archive";
  return "paperclip";
}

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

/** A message's attachments: images inline, players for media, cards for the rest. */
export function renderAttachments(files) {
  const box = h("div", { class: "attachments" });
  for (const file of files) box.appendChild(renderOne(file));
  return box;
}

function renderOne(file) {
  const type = file.content_type || "";
  const animated = type === "image/gif" || type === "image/apng";
  // No thumbnail means the server would not decode it: then it is only a download.
  if (type.startsWith("image/") && file.thumbnail_url) {
    // GIFs animate only from the original; everything else shows the small thumbnail.
    const src = animated ? file.url : file.thumbnail_url;
    const size = fitted(file.width, file.height);
    const img = h("img", {
      src, alt: file.name, loading: "lazy", decoding: "async", class: "attachment-image",
      width: size && size.width, height: size && size.height,
    });
    return h("button", {
      type: "button", class: "attachment-thumb", "aria-label": `Open image ${file.name}`,
      onclick: () => openViewer(file),
    }, img);
  }
  if (type.startsWith("video/")) {
    return h("figure", { class: "attachment-media" },
      h("video", { src: file.url, controls: true, preload: "metadata", class: "attachment-video" }),
      h("figcaption", {}, downloadLink(file)));
  }
  if (type.startsWith("audio/")) {
    return h("figure", { class: "attachment-media" },
      h("audio", { src: file.url, controls: true, preload: "metadata" }),
      h("figcaption", {}, downloadLink(file)));
  }
  return h("a", {
    class: "attachment-card", href: file.url, download: file.name, "data-type": type,
    title: `Download ${file.name}`,
  },
  h("span", { class: "attachment-icon" }, icon(iconFor(type))),
  h("span", { class: "attachment-card-text" },
    h("span", { class: "attachment-name" }, file.name),
    h("span", { class: "attachment-size" }, formatSize(file.size))));
}

function downloadLink(file) {
  return h("a", { href: file.url, download: file.name, class: "attachment-download" },
    `${file.name} · ${formatSize(file.size)}`);
}

function fitted(width, height) {
  if (!width || !height) return null;
  const scale = Math.min(1, THUMB_MAX_PX / Math.max(width, height));
  return { width: Math.round(width * scale), height: Math.round(height * scale) };
}

/** The full-size image in a modal dialog; Escape or a click outside closes it. */
export function openViewer(file) {
  const close = () => dialog.close();
  const dialog = h("dialog", { class: "viewer", "aria-label": file.name },
    h("div", { class: "viewer-bar" },
      h("span", { class: "viewer-name" }, file.name),
      h("a", { href: file.url, download: file.name, class: "link" }, "Download"),
      h("button", { type: "button", class: "icon-button", "aria-label": "Close", onclick: close }, "×")),
    h("img", { src: file.url, alt: file.name, class: "viewer-image" }));
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) close();
  });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.appendChild(dialog);
  dialog.showModal();
  return dialog;
}
