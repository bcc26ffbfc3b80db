import type { Translate } from "../i18n/translate.js";

export const RETENTION_CHOICES: readonly (number | null)[] = [null, 1, 7, 30, 90, 365];
export const RETENTION_MIN = 1;
export const RETENTION_MAX = 3650;

export function retentionLabel(days: number | null, t: Translate): string {
  if (days === null) return t("settings.retention.forever");
  return days === 1 ? t("settings.retention.day") : t("settings.retention.days", { count: days });
}

/** The option value a <select> uses for a retention choice ("" = forever). */
export function retentionValue(days: number | null): string {
  return days === null ? "" : String(days);
}

export function readRetention(value: string): number | null {
  if (value === "") return null;
  const days = Number(value);
  if (!Number.isInteger(days) || days < RETENTION_MIN || days > RETENTION_MAX) throw new RangeError(`Retention must be 1 to 3650 days.`);
  return days;
}

/** Deleting the account needs the full address typed; spaces around it and case do not matter. */
export function deletionConfirmed(typed: string, address: string): boolean {
  return typed.normalize("NFKC").trim().toLowerCase() === address;
}

export function progressPercent(done: number, total: number): number {
  if (total <= 0) return 0;
  return Math.min(100, Math.max(0, Math.floor((done / total) * 100)));
}

/** A file name for an export: the address with # made safe, and the date. */
export function exportFileName(address: string, at: number): string {
  const day = new Date(at).toISOString().slice(0, 10);
  return `emsg-${address.replace(/[^a-z0-9.-]/g, "_")}-${day}.emsg`;
}
