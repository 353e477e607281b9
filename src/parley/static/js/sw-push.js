// Web Push in the service worker (imported by /sw.js, parley.web.pwa): show what the
// server pushed (docs/notifications.md, "What a push carries") and open its room when
// the notification is clicked. Text goes to the OS notification as plain text.
"use strict";

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = {};
  }
  const where = data.room_kind === "dm" ? "" : data.room_kind === "group" ? ` in ${data.room_name}` : ` in #${data.room_name}`;
  const title = data.author ? `${data.author}${where}` : "Parley";
  event.waitUntil(self.registration.showNotification(title, {
    body: typeof data.text === "string" ? data.text : "New message",
    tag: data.room_id ? `room-${data.room_id}` : "parley", // one per room, the newest
    renotify: true,
    icon: "/static/pwa/icon-192.png",
    data: { url: typeof data.url === "string" && data.url.startsWith("/") ? data.url : "/" },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL(event.notification.data?.url || "/", self.location.origin).href;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const same = windows.find((w) => w.url === url);
    if (same) return same.focus();
    if (windows[0]) {
      const focused = await windows[0].focus();
      return "navigate" in focused ? focused.navigate(url) : undefined;
    }
    return self.clients.openWindow(url);
  })());
});
