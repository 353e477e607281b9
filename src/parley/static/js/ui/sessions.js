// The account dialog's "Sessions" section: every device signed in to my account (what
// it is, from where, since when, last seen), this one marked, each with its own
// "Sign out"; and "Sign out other sessions". Imported with the dialogs.

import { api } from "../api.js";
import { h } from "./dom.js";
import { useStyles } from "./styles.js";

await useStyles("/static/css/sheets.css"); // drawn styled from the first frame

const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const BROWSERS = [[/Edg\//, "Edge"], [/OPR\//, "Opera"], [/Firefox\//, "Firefox"], [/Chrom(e|ium)\//, "Chrome"], [/Safari\//, "Safari"]];
const SYSTEMS = [[/Android/, "Android"], [/iPhone|iPad/, "iOS"], [/Windows/, "Windows"], [/Mac OS X/, "macOS"], [/CrOS/, "ChromeOS"], [/Linux/, "Linux"]];

/** "Firefox on Linux" from a user agent; the raw string when neither is known. */
export function deviceName(agent) {
  if (!agent) return "Unknown device";
  const browser = BROWSERS.find(([re]) => re.test(agent))?.[1];
  const system = SYSTEMS.find(([re]) => re.test(agent))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  return browser || system || agent.slice(0, 60);
}

export function sessionsSection(onSignOut) {
  const list = h("ul", { class: "sessions", "aria-label": "Signed-in devices" });
  const status = h("p", { class: "form-ok", role: "status" });
  const others = h("button", { type: "button" }, "Sign out other sessions");
  const signOut = h("button", { type: "button", class: "danger" }, "Sign out");
  signOut.addEventListener("click", onSignOut);
  others.addEventListener("click", async () => {
    try {
      await api.revokeOtherSessions();
      status.textContent = "All your other sessions are signed out.";
      await load();
    } catch (err) {
      status.textContent = err.message;
    }
  });

  async function revoke(session, row) {
    try {
      await api.revokeSession(session.id);
      row.remove();
      status.textContent = `${deviceName(session.user_agent)} is signed out.`;
    } catch (err) {
      status.textContent = err.message;
    }
  }

  async function load() {
    try {
      const { sessions } = await api.sessions();
      list.replaceChildren(...sessions.map((s) => {
        const name = deviceName(s.user_agent);
        const row = h("li", { class: "session" },
          h("div", {},
            h("strong", {}, name), s.current ? h("span", { class: "role" }, "This device") : null,
            h("p", { class: "muted" }, [
              s.ip ? `${s.ip} · ` : "", `Signed in ${when.format(new Date(s.created_at))}`,
              s.last_seen_at ? ` · Last active ${when.format(new Date(s.last_seen_at))}` : "",
            ])),
          s.current ? null : h("button", { type: "button", class: "small", "aria-label": `Sign out ${name}, ${s.ip || "unknown address"}` }, "Sign out"));
        row.querySelector("button")?.addEventListener("click", () => revoke(s, row));
        return row;
      }));
      others.hidden = sessions.every((s) => s.current);
    } catch (err) {
      status.textContent = err.message;
    }
  }

  load();
  return h("section", { "aria-label": "Sessions" }, h("h3", {}, "Sessions"), list, others, status, signOut);
}
