import { EmsgError } from "../shared/errors.js";
import { randomId16 } from "../shared/ids.js";
import type { DeviceCert, DeviceCertBody } from "../shared/identity.js";
import type { AccountView, ClaimResponse } from "../shared/wire/index.js";

/** An account's devices, their KeyPackages and their WebSocket tickets, in the Account object's SQLite. */
export const DEVICES_SCHEMA = `
CREATE TABLE devices (device_id TEXT PRIMARY KEY, cert TEXT NOT NULL, device_key TEXT NOT NULL,
  added INTEGER NOT NULL, acked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE key_packages (id INTEGER PRIMARY KEY AUTOINCREMENT, device_id TEXT NOT NULL, key_package TEXT NOT NULL);
CREATE INDEX key_packages_device ON key_packages(device_id, id);
CREATE TABLE ws_tickets (ticket TEXT PRIMARY KEY, device_id TEXT NOT NULL, expires INTEGER NOT NULL);`;

/**
 * Revocation (PROTOCOL §6): a removed device's id, kept for good so that nobody adds it again, and
 * the session tickets each device was given lately, so removing it closes its sessions on hubs here.
 */
export const REVOCATION_SCHEMA = `
CREATE TABLE removed_devices (device_id TEXT PRIMARY KEY, removed INTEGER NOT NULL);
CREATE TABLE session_tickets (device_id TEXT NOT NULL, conversation TEXT NOT NULL, expires INTEGER NOT NULL,
  PRIMARY KEY (device_id, conversation));`;

/**
 * KeyPackages are told apart by their ref (PROTOCOL §8): one is stored once, and once handed out it
 * is remembered until it expires, so it is never stored or handed out again. Rows from before
 * KeyPackages were checked have neither ref nor expiry.
 */
export const KEY_PACKAGE_REFS_STEP = `
ALTER TABLE key_packages ADD COLUMN ref TEXT;
ALTER TABLE key_packages ADD COLUMN not_after INTEGER;
CREATE UNIQUE INDEX key_packages_ref ON key_packages(ref);
CREATE TABLE key_packages_used (ref TEXT PRIMARY KEY, not_after INTEGER NOT NULL);`;

/** A removed device's key, kept so that its signed requests are told `device_removed` (PROTOCOL §6) only once they verify. */
export const REMOVED_KEYS_STEP = "ALTER TABLE removed_devices ADD COLUMN device_key TEXT;";

/** A KeyPackage the Worker checked for the device that uploads it (worker/keypackages.ts). */
export interface CheckedKeyPackage {
  keyPackage: string;
  ref: string;
  notAfter: number;
}

export const KEY_PACKAGES_PER_DEVICE = 100;
export const WS_TICKET_MS = 60_000;

type WireCert = AccountView["devices"][number];

export class Devices {
  constructor(private readonly sql: SqlStorage) {}

  /** `acked` is where the device's mailbox cursor starts. */
  insert(cert: DeviceCert, body: DeviceCertBody, now: number, acked: number): void {
    if (this.has(body.deviceId)) throw new EmsgError("conflict", "That device is already on the account.");
    if (this.wasRemoved(body.deviceId)) throw new EmsgError("forbidden", "That device was removed from the account and cannot be added again.");
    this.sql.exec(
      "INSERT INTO devices (device_id, cert, device_key, added, acked) VALUES (?, ?, ?, ?, ?)",
      body.deviceId,
      JSON.stringify(cert),
      body.deviceKey,
      now,
      acked,
    );
  }

  wasRemoved(deviceId: string): boolean {
    return this.sql.exec("SELECT 1 FROM removed_devices WHERE device_id = ?", deviceId).toArray().length > 0;
  }

  has(deviceId: string): boolean {
    return this.sql.exec("SELECT 1 FROM devices WHERE device_id = ?", deviceId).toArray().length > 0;
  }

  /** The account's device when it has just one. */
  sole(): string | undefined {
    const rows = this.sql.exec<{ device_id: string }>("SELECT device_id FROM devices LIMIT 2").toArray();
    return rows.length === 1 ? rows[0]!.device_id : undefined;
  }

  /** The key of a device removed since REMOVED_KEYS_STEP (those removed before have none kept). */
  removedKeyOf(deviceId: string): string | null {
    return this.sql.exec<{ device_key: string | null }>("SELECT device_key FROM removed_devices WHERE device_id = ?", deviceId).toArray()[0]?.device_key ?? null;
  }

  keyOf(deviceId: string): string | null {
    return this.sql.exec<{ device_key: string }>("SELECT device_key FROM devices WHERE device_id = ?", deviceId).toArray()[0]?.device_key ?? null;
  }

  certs(): WireCert[] {
    return this.sql.exec<{ cert: string }>("SELECT cert FROM devices ORDER BY added").toArray().map((d) => JSON.parse(d.cert) as WireCert);
  }

  /** Removes a device for good; returns the conversations it holds an unexpired session ticket for. */
  remove(deviceId: string, now: number): string[] {
    if (this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM devices").one().n === 1) {
      throw new EmsgError("conflict", "The last device cannot be removed; delete the account instead.");
    }
    const key = this.keyOf(deviceId);
    if (key === null) throw new EmsgError("not_found", "No such device.");
    this.sql.exec("DELETE FROM devices WHERE device_id = ?", deviceId);
    this.sql.exec("INSERT OR IGNORE INTO removed_devices (device_id, removed, device_key) VALUES (?, ?, ?)", deviceId, now, key);
    this.sql.exec("DELETE FROM key_packages WHERE device_id = ?", deviceId);
    this.sql.exec("DELETE FROM ws_tickets WHERE device_id = ?", deviceId);
    return this.sql
      .exec<{ conversation: string; expires: number }>("DELETE FROM session_tickets WHERE device_id = ? RETURNING conversation, expires", deviceId)
      .toArray()
      .filter((r) => r.expires >= now)
      .map((r) => r.conversation);
  }

  /** Notes a session ticket given to a device, until it expires. */
  noteSessionTicket(deviceId: string, conversation: string, expires: number, now: number): void {
    this.sql.exec("DELETE FROM session_tickets WHERE expires < ?", now);
    this.sql.exec("INSERT OR REPLACE INTO session_tickets (device_id, conversation, expires) VALUES (?, ?, ?)", deviceId, conversation, expires);
  }

  /** Stores checked KeyPackages, all or none; one held or handed out already is `conflict`. Expired ones make room. */
  publish(deviceId: string, keyPackages: CheckedKeyPackage[], now: number): number {
    this.sql.exec("DELETE FROM key_packages WHERE device_id = ? AND not_after <= ?", deviceId, now);
    this.sql.exec("DELETE FROM key_packages_used WHERE not_after <= ?", now);
    const have = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM key_packages WHERE device_id = ?", deviceId).one().n;
    const room = Math.max(0, KEY_PACKAGES_PER_DEVICE - have);
    if (room < keyPackages.length) throw new EmsgError("too_large", `This device may hold ${room} more KeyPackages.`);
    const refs = JSON.stringify(keyPackages.map((kp) => kp.ref));
    const known = this.sql
      .exec<{ ref: string }>(
        `SELECT value AS ref FROM json_each(?)
         WHERE value IN (SELECT ref FROM key_packages WHERE ref IS NOT NULL) OR value IN (SELECT ref FROM key_packages_used)`,
        refs,
      )
      .toArray()[0];
    if (known) {
      const index = keyPackages.findIndex((kp) => kp.ref === known.ref);
      throw new EmsgError("conflict", `KeyPackage ${index}: it was uploaded before.`);
    }
    this.sql.exec(
      `INSERT INTO key_packages (device_id, key_package, ref, not_after)
       SELECT ?, value->>0, value->>1, value->>2 FROM json_each(?) WHERE true ORDER BY key`,
      deviceId,
      JSON.stringify(keyPackages.map((kp) => [kp.keyPackage, kp.ref, kp.notAfter])),
    );
    return have + keyPackages.length;
  }

  /** The certificates of the current devices, in the order they were added. */
  list(): WireCert[] {
    return this.sql
      .exec<{ cert: string }>("SELECT cert FROM devices ORDER BY added")
      .toArray()
      .map((d) => JSON.parse(d.cert) as WireCert);
  }

  /**
   * One unexpired KeyPackage per device, consumed and remembered until it expires; the Account
   * object's single writer makes it atomic.
   */
  claim(now: number): ClaimResponse["devices"] {
    const devices = this.sql.exec<{ device_id: string; cert: string }>("SELECT device_id, cert FROM devices ORDER BY added").toArray();
    return devices.map((d) => {
      const kp = this.sql
        .exec<{ key_package: string; ref: string | null; not_after: number | null }>(
          `DELETE FROM key_packages WHERE id = (SELECT id FROM key_packages WHERE device_id = ? AND (not_after IS NULL OR not_after > ?) ORDER BY id LIMIT 1)
           RETURNING key_package, ref, not_after`,
          d.device_id,
          now,
        )
        .toArray()[0];
      if (kp?.ref && kp.not_after !== null) this.sql.exec("INSERT OR IGNORE INTO key_packages_used (ref, not_after) VALUES (?, ?)", kp.ref, kp.not_after);
      return { deviceCert: JSON.parse(d.cert) as WireCert, keyPackage: kp?.key_package ?? null };
    });
  }

  issueTicket(deviceId: string, now: number): { secret: string; expires: number } {
    this.sql.exec("DELETE FROM ws_tickets WHERE expires < ?", now);
    const secret = randomId16();
    this.sql.exec("INSERT INTO ws_tickets (ticket, device_id, expires) VALUES (?, ?, ?)", secret, deviceId, now + WS_TICKET_MS);
    return { secret, expires: now + WS_TICKET_MS };
  }

  /** Consumes a ticket: the device it admits, or null when unknown, used, expired or revoked. */
  redeemTicket(secret: string, now: number): string | null {
    const row = this.sql
      .exec<{ device_id: string }>("DELETE FROM ws_tickets WHERE ticket = ? AND expires >= ? RETURNING device_id", secret, now)
      .toArray()[0];
    return row && this.has(row.device_id) ? row.device_id : null;
  }
}
