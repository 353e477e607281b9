// Hidden-tab alerts: a "(3)" badge in the title and, only if the person turned them
// on and the browser granted permission, a desktop notification per message.

const PREF_KEY = "parley.notify";
const PREVIEW_CHARS = 140;

export class Notifier {
  constructor() {
    this.unseen = 0;
    this.baseTitle = "Parley";
    this.onVisible = () => {
      if (!document.hidden) this.#reset();
    };
    this.onFocus = () => this.#reset();
    document.addEventListener("visibilitychange", this.onVisible);
    window.addEventListener("focus", this.onFocus);
  }

  /** Stop listening (sign-out) and put the plain title back. */
  destroy() {
    document.removeEventListener("visibilitychange", this.onVisible);
    window.removeEventListener("focus", this.onFocus);
    this.unseen = 0;
  }

  setTitle(title) {
    this.baseTitle = title;
    this.#paint();
  }

  /** Someone else's message arrived; alerts only when the tab is hidden. */
  message(message, roomLabel, onClick) {
    if (!document.hidden) return;
    this.unseen += 1;
    this.#paint();
    if (!this.enabled()) return;
    const author = message.author.display_name || message.author.username;
    try {
      const note = new Notification(`${author} in ${roomLabel}`, {
        body: message.body.slice(0, PREVIEW_CHARS), // shown as plain text by the OS
        tag: `parley-${message.room_id}`,
      });
      note.onclick = () => {
        window.focus();
        onClick();
        note.close();
      };
    } catch {
      // Some platforms only allow notifications from a service worker; the badge remains.
    }
  }

  enabled() {
    return "Notification" in window && Notification.permission === "granted" && localStorage.getItem(PREF_KEY) === "on";
  }

  canAsk() {
    return "Notification" in window && Notification.permission !== "denied" && !this.enabled();
  }

  async ask() {
    if (!("Notification" in window)) return;
    const answer = await Notification.requestPermission();
    if (answer === "granted") localStorage.setItem(PREF_KEY, "on");
  }

  describe() {
    if (!("Notification" in window)) return "This browser can't show desktop notifications.";
    if (Notification.permission === "denied") return "Desktop notifications are blocked in your browser settings.";
    return this.enabled() ? "Desktop notifications are on for messages that arrive while Parley is in the background." : "Desktop notifications are off.";
  }

  #reset() {
    if (!this.unseen) return;
    this.unseen = 0;
    this.#paint();
  }

  #paint() {
    document.title = this.unseen ? `(${this.unseen}) ${this.baseTitle}` : this.baseTitle;
  }
}
