import { notificationBody, shouldNotify } from "../../../ui/view-models/notification-policy.js";

type Permission = NotificationPermission | "unsupported";

// Reading Notification.permission asks the browser each time, and the chat list reads it on every
// render (~1% of a catch-up's CPU): the answer is kept for a second, and our own ask replaces it.
const PERMISSION_KEPT_MS = 1000;
let permission: { value: Permission; at: number } | undefined;

/** System notifications through the Notification API, shown only while the app is hidden. */
export function notificationPermission(): Permission {
  const now = performance.now();
  if (permission === undefined || now - permission.at > PERMISSION_KEPT_MS) {
    permission = { value: typeof Notification === "undefined" ? "unsupported" : Notification.permission, at: now };
  }
  return permission.value;
}

export async function askNotificationPermission(): Promise<Permission> {
  if (typeof Notification === "undefined") return "unsupported";
  const value = await Notification.requestPermission();
  permission = { value, at: performance.now() };
  return value;
}

export async function notify(title: string, text: string, tag: string, onClick: () => void): Promise<void> {
  const hidden = document.visibilityState === "hidden";
  // Asking for the permission costs a trip to the browser each time: not done for every message shown on screen.
  if (!hidden || !shouldNotify({ hidden, permission: notificationPermission() })) return;
  const options: NotificationOptions = { body: notificationBody(text), tag, icon: "/icons/icon-192.png", badge: "/icons/favicon-32.png" };
  // An installed PWA with a service worker must notify through it; a plain tab may use the constructor.
  const registration = await navigator.serviceWorker?.getRegistration();
  if (registration) {
    await registration.showNotification(title, options);
    return;
  }
  const note = new Notification(title, options);
  note.onclick = () => {
    window.focus();
    onClick();
    note.close();
  };
}
