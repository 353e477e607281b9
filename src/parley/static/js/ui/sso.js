// The operator's OpenID providers on the sign-in page: a button (a link to the
// provider's sign-in) for each, only them when they are the only way in, and why a
// provider's sign-in came back refused (/login?oidc_error=CODE). Fetched by auth.js
// only when the server has providers.

import { h } from "./dom.js";

// Why a sign-in at a provider came back refused (/login?oidc_error=CODE). Only these
// known texts are shown: the address is not the page's to write in.
const OIDC_MESSAGES = {
  oidc_cancelled: "Signing in was cancelled at the provider.",
  oidc_state_invalid: "That sign-in took too long or was opened in another browser. Try again.",
  oidc_token_invalid: "The provider's answer could not be verified. Try again, or tell the operator.",
  oidc_code_refused: "The provider refused this sign-in. Try again.",
  oidc_unavailable: "The sign-in provider can't be reached right now. Try again later.",
  oidc_unknown_provider: "That sign-in provider isn't set up here.",
  oidc_already_linked: "That identity already signs in to another Parley account.",
  oidc_link_signed_out: "Sign in to Parley first, then link the account from Account.",
  account_disabled: "This account is disabled.",
  signup_closed: "Sign-up is closed on this server: ask an admin for an account.",
  invite_required: "New accounts on this server need an invite: ask an admin.",
  email_domain_not_allowed: "Accounts on this server are for other email domains: ask an admin.",
  rate_limited: "Too many attempts. Wait a little and try again.",
};

/** The refusal the provider's redirect brought back, once (the address is cleaned). */
function takeOidcError() {
  const params = new URLSearchParams(location.search);
  const code = params.get("oidc_error");
  if (code === null) return null;
  history.replaceState({}, "", location.pathname);
  return OIDC_MESSAGES[code] || "Signing in with the provider didn't work. Try again.";
}

/**
 * Add the providers' buttons (`data` is GET /api/auth/oidc/providers) to the sign-in
 * card; with `password_login: false`, take the form away: the buttons are the only way.
 */
export function showProviders(data, { form, heading, switchLine, error, username, showError }) {
  const list = h("ul", { class: "sso-list", "aria-label": "Sign in with" },
    data.providers.map((p) => h("li", {}, h("a", { class: "sso-button", href: p.login_url }, p.label))));
  const onlyWay = data.password_login === false;
  const section = h("section", { class: "sso" }, onlyWay ? null : h("p", { class: "sso-or muted" }, "or"), list);
  form.after(section);
  if (onlyWay) {
    const typing = document.activeElement === username;
    form.remove();
    switchLine.remove();
    section.before(error);
    heading.textContent = "Sign in";
    document.title = "Sign in · Parley";
    if (typing) list.querySelector("a").focus();
  }
  const refused = takeOidcError();
  if (refused) showError(refused);
}

