// The account dialog's "Sign-in providers" section: link this account to the operator's
// OpenID providers (so that they sign in to it) or unlink it. Loaded only when the
// account dialog opens; shows nothing when the server has no providers.
//
// Linking leaves the page: the server starts the provider's sign-in for this account
// and the browser goes there, then comes back signed in as before.

import { api, ApiError } from "../api.js";
import { h, clear } from "./dom.js";

const MESSAGES = {
  last_sign_in_method: "This is the only way into your account, so it can't be removed.",
  rate_limited: "Too many attempts. Wait a little and try again.",
  oidc_unavailable: "That provider can't be reached right now. Try again later.",
};

export function oidcLinksSection() {
  const list = h("ul", { class: "sso-links" });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const section = h("section", { "aria-label": "Sign-in providers", hidden: true },
    h("h3", {}, "Sign-in providers"),
    h("p", { class: "muted" }, "Link your account to sign in with these too."),
    list, error);

  const fail = (err) => {
    error.textContent = err instanceof ApiError
      ? MESSAGES[err.code] || err.message || "Something went wrong. Try again."
      : String(err);
    error.hidden = false;
  };

  async function refresh() {
    try {
      const [{ providers }, { links }] = await Promise.all([api.oidcProviders(), api.oidcLinks()]);
      clear(list);
      const linked = new Set(links.map((link) => link.provider));
      for (const provider of providers) list.appendChild(row(provider, linked.has(provider.id)));
      section.hidden = providers.length === 0;
    } catch (err) {
      fail(err);
    }
  }

  function row(provider, isLinked) {
    const button = h("button", { type: "button", "aria-label": `${isLinked ? "Unlink" : "Link"} ${provider.label}` },
      isLinked ? "Unlink" : "Link");
    button.addEventListener("click", async () => {
      error.hidden = true;
      button.disabled = true;
      try {
        if (isLinked) {
          await api.oidcUnlink(provider.id);
          await refresh();
        } else {
          const { login_url: url } = await api.oidcLink(provider.id);
          location.assign(url);
        }
      } catch (err) {
        fail(err);
      } finally {
        button.disabled = false;
      }
    });
    return h("li", { class: "sso-link" },
      h("span", {}, provider.label),
      h("span", { class: "muted" }, isLinked ? "Linked" : "Not linked"),
      button);
  }

  refresh();
  return section;
}
