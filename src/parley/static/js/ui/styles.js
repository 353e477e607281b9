// Stylesheets of views fetched on first use (css/sheets.css): linked once, by the
// modules that need them, so the chat page doesn't load them up front.

const linked = new Map();

/** Link `href` once; resolves when it has loaded (or failed: the view still works). */
export function useStyles(href) {
  if (!linked.has(href)) {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    linked.set(href, new Promise((resolve) => {
      link.onload = link.onerror = resolve;
    }));
    document.head.append(link);
  }
  return linked.get(href);
}
