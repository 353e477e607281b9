// Two-factor sign-in in the account dialog: turn it on (password, QR code and manual
// key, a code to confirm, the recovery codes shown once) and off (password and a code).
// Loaded only when the account dialog opens.
//
// The QR code comes from the server as SVG text. It is shown through an <img> with a
// data: URL, never inserted as markup: an SVG in an <img> cannot run script or reach
// the page, whatever it contains.

import { api, ApiError } from "../api.js";
import { h, clear } from "./dom.js";

const sessions = (n) => `${n} other ${n === 1 ? "session" : "sessions"}`;

const MESSAGES = {
  invalid_credentials: "Your password is wrong.",
  otp_invalid: "That code didn't work. Check your app's clock and try the current code.",
  otp_reused: "That code was just used. Wait for the next one from your app, then enter it.",
  rate_limited: "Too many attempts. Wait a little and try again.",
};

/** A data: URL for SVG text (UTF-8, base64), for an <img src>. */
export function svgDataUrl(svg) {
  const bytes = new TextEncoder().encode(svg);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `data:image/svg+xml;base64,${btoa(binary)}`;
}

/** The base32 secret in groups of four, easier to type into an app by hand. */
function grouped(secret) {
  return secret.replace(/(.{4})(?=.)/g, "$1 ");
}

function field(id, label, attrs = {}) {
  const input = h("input", { id, autocomplete: "off", required: true, ...attrs });
  return { input, el: h("div", { class: "field" }, h("label", { for: id }, label), input) };
}

function codeField(id, label) {
  return field(id, label, {
    inputmode: "numeric", autocomplete: "one-time-code", maxlength: 32, spellcheck: "false",
  });
}

/** The account dialog's "Two-factor sign-in" section. */
export function twoFactorSection(username = () => "") {
  const status = h("p", { class: "muted", role: "status" }, "Checking two-factor sign-in…");
  const body = h("div", { class: "stack" });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const section = h("section", { "aria-label": "Two-factor sign-in" },
    h("h3", {}, "Two-factor sign-in"), status, body, error);

  const fail = (err, focus) => {
    error.textContent = err instanceof ApiError
      ? MESSAGES[err.code] || err.message || "Something went wrong. Try again."
      : String(err);
    error.hidden = false;
    if (focus) {
      focus.select();
      focus.focus();
    }
  };
  const show = (...nodes) => {
    error.hidden = true;
    clear(body);
    for (const node of nodes) body.appendChild(node);
  };

  async function refresh() {
    try {
      const state = await api.twoFactor();
      if (state.enabled) showOn(state.recovery_codes_left);
      else showOff();
    } catch (err) {
      status.textContent = "";
      fail(err);
    }
  }

  function showOff() {
    status.textContent = "Two-factor sign-in is off. Turn it on to ask for a code from an authenticator app when you sign in.";
    const start = h("button", { type: "button" }, "Set up two-factor sign-in");
    start.addEventListener("click", askPassword);
    show(start);
  }

  function askPassword() {
    const password = field("tf-setup-password", "Your password", { type: "password", autocomplete: "current-password" });
    const form = h("form", { class: "stack" }, password.el,
      h("button", { type: "submit", class: "primary" }, "Continue"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!password.input.value) return fail("Enter your password.", password.input);
      try {
        showEnrolment(await api.twoFactorSetup(password.input.value));
      } catch (err) {
        fail(err, password.input);
      }
    });
    show(form);
    password.input.focus();
  }

  function showEnrolment({ secret, qr_svg: qrSvg }) {
    status.textContent = "Scan the QR code with your authenticator app, then enter the code it shows.";
    const qr = h("img", {
      class: "totp-qr", src: svgDataUrl(qrSvg), width: 200, height: 200,
      alt: "QR code for your authenticator app",
    });
    const key = h("code", { class: "totp-key", id: "tf-key" }, grouped(secret));
    const code = codeField("tf-enable-code", "Code from your app");
    const form = h("form", { class: "stack" }, code.el,
      h("button", { type: "submit", class: "primary" }, "Turn on"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!code.input.value.trim()) return fail("Enter the code from your app.", code.input);
      try {
        const { recovery_codes: codes, other_sessions: others } = await api.twoFactorEnable(
          code.input.value.trim(),
        );
        showRecoveryCodes(codes, others || 0);
      } catch (err) {
        fail(err, code.input);
      }
    });
    show(qr, h("p", {}, "Can't scan it? Enter this key in the app instead: ", key), form);
    code.input.focus();
  }

  function showRecoveryCodes(codes, others) {
    status.textContent = "Two-factor sign-in is on.";
    const list = h("ol", { class: "recovery-codes", "aria-label": "Recovery codes" },
      codes.map((c) => h("li", {}, h("code", {}, c))));
    const saved = h("button", { type: "button", class: "primary" }, "I saved them");
    saved.addEventListener("click", refresh);
    show(
      h("p", {}, "Save these recovery codes somewhere safe. Each one signs you in once if you lose your phone. They are shown only now."),
      list, keepCodes(codes), ...signOutOffer(others), saved);
    saved.focus();
  }

  // Copy and Download, so nobody has to copy ten codes by hand.
  function keepCodes(codes) {
    const text = `Parley recovery codes for @${username()}\nEach one signs you in once.\n\n${codes.join("\n")}\n`;
    const done = h("span", { class: "muted", "aria-live": "polite" }); // not a second "status" here
    const copy = h("button", { type: "button" }, "Copy");
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(text);
        done.textContent = "Copied.";
      } catch {
        done.textContent = "Couldn't copy here: select the codes, or download them.";
      }
    });
    const download = h("a", {
      class: "button", download: "parley-recovery-codes.txt",
      href: URL.createObjectURL(new Blob([text], { type: "text/plain" })),
    }, "Download");
    return h("p", { class: "code-tools" }, copy, " ", download, " ", done);
  }

  // Sessions signed in before the code was asked for go on without one (maybe a
  // stranger's, the reason for turning it on): offer to end them all at once.
  function signOutOffer(others) {
    if (!others) return [];
    const offer = h("button", { type: "button" }, `Sign out ${sessions(others)}`);
    const note = h("p", {},
      `You are signed in on ${sessions(others)}, which did not need a code. Sign them out to make every device sign in with one.`);
    offer.addEventListener("click", async () => {
      offer.disabled = true;
      try {
        const { revoked } = await api.revokeOtherSessions();
        note.remove();
        offer.remove();
        status.textContent = `Two-factor sign-in is on. ${revoked === 0 ? "No other sessions were left" : `${sessions(revoked)} signed out`}.`;
      } catch (err) {
        offer.disabled = false;
        fail(err);
      }
    });
    return [note, offer];
  }

  function showOn(left) {
    status.textContent = `Two-factor sign-in is on. ${left} recovery ${left === 1 ? "code" : "codes"} left.`;
    const password = field("tf-disable-password", "Your password", { type: "password", autocomplete: "current-password" });
    const code = codeField("tf-disable-code", "Code or recovery code");
    const form = h("form", { class: "stack" }, password.el, code.el,
      h("button", { type: "submit", class: "danger" }, "Turn off two-factor sign-in"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!password.input.value) return fail("Enter your password.", password.input);
      if (!code.input.value.trim()) return fail("Enter a code from your app or a recovery code.", code.input);
      try {
        await api.twoFactorDisable(password.input.value, code.input.value.trim());
        await refresh();
      } catch (err) {
        fail(err, err.code === "invalid_credentials" ? password.input : code.input);
      }
    });
    show(form);
  }

  refresh();
  return section;
}
