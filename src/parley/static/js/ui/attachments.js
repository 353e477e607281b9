// How attachments look in a message: a thumbnail, a player or a download card. The
// upload tray (ui/upload-tray.js) and the full-size viewer (ui/viewer.js) are fetched
// when first used. Files are shown only through <img>, <video>, <audio> and links
// pointing at their URL; names go in as text, never markup.

import { h, icon } from "./dom.js";
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
      onclick: () => import("./viewer.js").then(({ openViewer }) => openViewer(file)),
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
