// The full-size image viewer, fetched the first time an image is opened.

import { h } from "./dom.js";

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
