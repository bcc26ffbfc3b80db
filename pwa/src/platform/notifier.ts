import { notificationBody, shouldNotify } from "../../../ui/view-models/notification-policy.js";

/** System notifications through the Notification API, shown only while the app is hidden. */
export function notificationPermission(): NotificationPermission | "unsupported" {
  return typeof Notification === "undefined" ? "unsupported" : Notification.permission;
}

export async function askNotificationPermission(): Promise<NotificationPermission | "unsupported"> {
  if (typeof Notification === "undefined") return "unsupported";
  return Notification.requestPermission();
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
