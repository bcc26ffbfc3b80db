export interface Attention {
  hidden: boolean;
  permission: NotificationPermission | "unsupported";
}

/** A system notification only while EMSG is hidden and allowed to; in view, unread counts say it. */
export function shouldNotify(attention: Attention): boolean {
  return attention.hidden && attention.permission === "granted";
}

/** Notification text is cut short: lock screens show it to anyone nearby. */
export function notificationBody(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}
