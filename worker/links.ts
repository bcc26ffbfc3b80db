import { EmsgError } from "../shared/errors.js";
import { LINK_TTL_MS } from "../shared/wire/account.js";
import type { LinkUpload } from "../shared/wire/index.js";

/**
 * An account's pending device links (PROTOCOL §6): sealed bundles the server cannot open, each
 * handed out once and kept at most LINK_TTL_MS, in the Account object's SQLite. A link handed
 * out is kept, without its bundle, LINK_TTL_MS more: the device that fetched it adds itself with it.
 * Each link dies with the device that uploaded it, should that one be removed first.
 */
export const LINKS_SCHEMA = `
CREATE TABLE links (id TEXT PRIMARY KEY, nonce TEXT NOT NULL, sealed TEXT NOT NULL, created INTEGER NOT NULL,
  expires INTEGER NOT NULL);`;
export const LINKS_REVOCATION_STEP = "ALTER TABLE links ADD COLUMN fetched INTEGER; ALTER TABLE links ADD COLUMN device_id TEXT;";

/** Live links per account; a new one beyond this replaces the oldest. */
export const LINKS_PER_ACCOUNT = 3;

export interface StoredLink {
  id: string;
  nonce: string;
  sealed: string;
  expires: number;
}

export class Links {
  constructor(private readonly sql: SqlStorage) {}

  put(link: LinkUpload, deviceId: string, now: number): { id: string; expires: number } {
    this.dropExpired(now);
    if (this.sql.exec("SELECT 1 FROM links WHERE id = ?", link.id).toArray().length > 0) throw new EmsgError("conflict", "That link id is in use.");
    const expires = now + LINK_TTL_MS;
    this.sql.exec(
      "INSERT INTO links (id, nonce, sealed, created, expires, device_id) VALUES (?, ?, ?, ?, ?, ?)",
      link.id,
      link.nonce,
      link.sealed,
      now,
      expires,
      deviceId,
    );
    this.sql.exec(
      "DELETE FROM links WHERE id NOT IN (SELECT id FROM links ORDER BY created DESC, rowid DESC LIMIT ?)",
      LINKS_PER_ACCOUNT,
    );
    return { id: link.id, expires };
  }

  /**
   * Hands a link out once: a second read, like one after expiry, is `not_found`. The bundle is
   * dropped; the id stays for LINK_TTL_MS as the fetching device's one admission (`redeem`).
   */
  take(id: string, now: number): StoredLink {
    this.dropExpired(now);
    const row = this.sql
      .exec<{ id: string; nonce: string; sealed: string; expires: number }>("SELECT id, nonce, sealed, expires FROM links WHERE id = ? AND fetched IS NULL", id)
      .toArray()[0];
    if (!row) throw new EmsgError("not_found", "No such link: it was used already, expired, or never made.");
    this.sql.exec("UPDATE links SET fetched = ?, expires = ?, sealed = '' WHERE id = ?", now, now + LINK_TTL_MS, id);
    return { id: row.id, nonce: row.nonce, sealed: row.sealed, expires: row.expires };
  }

  /** Uses up a link fetched within LINK_TTL_MS for the one device it admits; `unauthorized` otherwise. */
  redeem(id: string, now: number): void {
    const used = this.sql.exec("DELETE FROM links WHERE id = ? AND fetched IS NOT NULL AND expires > ? RETURNING id", id, now).toArray();
    if (used.length === 0) throw new EmsgError("unauthorized", "A device adds itself only through a link fetched in the last 10 minutes and not used yet.");
  }

  /** Drops the links a removed device uploaded: it could otherwise fetch one and add a new key of its own. */
  dropBy(deviceId: string): void {
    this.sql.exec("DELETE FROM links WHERE device_id = ?", deviceId);
  }

  /** When the next link expires, for the object's alarm; null when none is left. */
  nextExpiry(): number | null {
    return this.sql.exec<{ e: number | null }>("SELECT MIN(expires) AS e FROM links").one().e;
  }

  dropExpired(now: number): void {
    this.sql.exec("DELETE FROM links WHERE expires <= ?", now);
  }
}
