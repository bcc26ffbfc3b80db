import { DurableObject } from "cloudflare:workers";
import { DEFAULT_LIMITS } from "../shared/discovery.js";
import { EmsgError } from "../shared/errors.js";
import { randomId16 } from "../shared/ids.js";
import { BLOB_PART_BYTES, partCount, partLength, type BlobDone, type UploadStatus } from "../shared/wire/blobs.js";
import type { BlobLimits } from "./blob-limits.js";
import type { Env } from "./env.js";
import { attempt, type Outcome } from "./outcome.js";
import { migrate } from "./sql-schema.js";

/**
 * An account's attachment blobs (PROTOCOL §15.3): the single writer of its uploads in progress,
 * the blobs it keeps and so its quota. The sealed bytes live in R2 under `blobs/{id}`; this
 * object holds only their sizes, expiries and the R2 multipart uploads being filled.
 */

/** An upload not completed in a day is dropped, and its reserved bytes freed. */
export const UPLOAD_TTL_MS = 86_400_000;
const DAY_MS = 86_400_000;

export const blobKey = (blob: string) => `blobs/${blob}`;

const STEPS = [
  `CREATE TABLE upload (id TEXT PRIMARY KEY, blob TEXT NOT NULL, size INTEGER NOT NULL, parts INTEGER NOT NULL,
     until INTEGER NOT NULL, r2 TEXT NOT NULL, created INTEGER NOT NULL);
   CREATE TABLE part (upload TEXT NOT NULL, n INTEGER NOT NULL, etag TEXT NOT NULL, PRIMARY KEY (upload, n));
   CREATE TABLE blob (id TEXT PRIMARY KEY, size INTEGER NOT NULL, until INTEGER NOT NULL);`,
];

interface UploadRow extends Record<string, SqlStorageValue> {
  id: string;
  blob: string;
  size: number;
  parts: number;
  until: number;
  r2: string;
  created: number;
}

export class BlobObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(this.sql, STEPS);
  }

  private used(): number {
    const blobs = this.sql.exec<{ n: number }>("SELECT COALESCE(SUM(size), 0) AS n FROM blob").one().n;
    const uploads = this.sql.exec<{ n: number }>("SELECT COALESCE(SUM(size), 0) AS n FROM upload").one().n;
    return blobs + uploads;
  }

  private upload(id: string): UploadRow {
    const row = this.sql.exec<UploadRow>("SELECT * FROM upload WHERE id = ?", id).toArray()[0];
    if (!row) throw new EmsgError("not_found", "No such upload: it was completed, cancelled or expired.");
    return row;
  }

  private statusOf(row: UploadRow): UploadStatus {
    const held = this.sql.exec<{ n: number }>("SELECT n FROM part WHERE upload = ? ORDER BY n", row.id).toArray().map((r) => r.n);
    return { upload: row.id, blob: row.blob, size: row.size, partBytes: BLOB_PART_BYTES, parts: row.parts, held, until: row.until };
  }

  /** Reserves `size` bytes of the quota and opens an R2 multipart upload for them; `limits` are the deployment's (blob-limits.ts). */
  async create(size: number, until: number | undefined, now: number, limits: BlobLimits): Promise<Outcome<UploadStatus>> {
    return attempt(async () => {
      if (size > limits.maxBlobBytes) throw new EmsgError("too_large", `A blob is at most ${limits.maxBlobBytes} bytes.`);
      if (this.used() + size > limits.blobQuotaBytes) {
        throw new EmsgError("over_quota", `This account keeps at most ${limits.blobQuotaBytes} bytes of attachments; ${this.used()} are in use.`);
      }
      const longest = now + DEFAULT_LIMITS.mailboxTtlDays * DAY_MS;
      if (until !== undefined && until <= now) throw new EmsgError("bad_request", "A blob must be kept until a time still to come.");
      const kept = Math.min(until ?? longest, longest);
      const blob = randomId16();
      const r2 = await this.env.BLOBS.createMultipartUpload(blobKey(blob), { customMetadata: { until: String(kept) } });
      const row: UploadRow = { id: randomId16(), blob, size, parts: partCount(size), until: kept, r2: r2.uploadId, created: now };
      this.sql.exec("INSERT INTO upload (id, blob, size, parts, until, r2, created) VALUES (?, ?, ?, ?, ?, ?, ?)", ...Object.values(row));
      await this.scheduleAlarm();
      return this.statusOf(row);
    });
  }

  async status(upload: string): Promise<Outcome<UploadStatus>> {
    return attempt(() => this.statusOf(this.upload(upload)));
  }

  /** Where part `n` of `length` bytes goes, once it is known to fit the upload. */
  async partSlot(upload: string, n: number, length: number): Promise<Outcome<{ key: string; r2: string }>> {
    return attempt(() => {
      const row = this.upload(upload);
      if (!Number.isSafeInteger(n) || n < 1 || n > row.parts) throw new EmsgError("bad_request", `Parts are numbered 1 to ${row.parts}.`);
      const want = partLength(row.size, n);
      if (length !== want) throw new EmsgError("bad_request", `Part ${n} is ${want} bytes, not ${length}.`);
      return { key: blobKey(row.blob), r2: row.r2 };
    });
  }

  /** Records a part R2 took; a part sent again replaces the one held. */
  async partHeld(upload: string, n: number, etag: string): Promise<Outcome<UploadStatus>> {
    return attempt(() => {
      const row = this.upload(upload);
      this.sql.exec("INSERT OR REPLACE INTO part (upload, n, etag) VALUES (?, ?, ?)", upload, n, etag);
      return this.statusOf(row);
    });
  }

  /** Joins the parts into the blob; every part must be held. */
  async complete(upload: string): Promise<Outcome<BlobDone>> {
    return attempt(async () => {
      const row = this.upload(upload);
      const status = this.statusOf(row);
      if (status.held.length !== row.parts) {
        const missing = Array.from({ length: row.parts }, (_, i) => i + 1).filter((n) => !status.held.includes(n));
        throw new EmsgError("conflict", `Parts ${missing.join(", ")} are not uploaded yet.`);
      }
      const parts = this.sql.exec<{ n: number; etag: string }>("SELECT n, etag FROM part WHERE upload = ? ORDER BY n", upload).toArray();
      await this.env.BLOBS.resumeMultipartUpload(blobKey(row.blob), row.r2).complete(parts.map((p) => ({ partNumber: p.n, etag: p.etag })));
      this.ctx.storage.transactionSync(() => {
        this.sql.exec("DELETE FROM part WHERE upload = ?", upload);
        this.sql.exec("DELETE FROM upload WHERE id = ?", upload);
        this.sql.exec("INSERT INTO blob (id, size, until) VALUES (?, ?, ?)", row.blob, row.size, row.until);
      });
      return { blob: row.blob, size: row.size, until: row.until };
    });
  }

  /** Drops an upload in progress and frees what it reserved. */
  async cancel(upload: string): Promise<Outcome<null>> {
    return attempt(async () => {
      await this.drop(this.upload(upload));
      return null;
    });
  }

  /** The owner deletes a blob before its time. */
  async remove(blob: string): Promise<Outcome<null>> {
    return attempt(async () => {
      const held = this.sql.exec("SELECT 1 FROM blob WHERE id = ?", blob).toArray().length > 0;
      if (!held) throw new EmsgError("not_found", "No such blob of this account: it expired or was deleted.");
      await this.env.BLOBS.delete(blobKey(blob));
      this.sql.exec("DELETE FROM blob WHERE id = ?", blob);
      return null;
    });
  }

  /** Sealed bytes held and reserved, against the quota. */
  async usage(): Promise<{ used: number }> {
    return { used: this.used() };
  }

  /** The account ends: every blob and upload goes, and so does this object's storage. */
  async deleteAll(): Promise<void> {
    for (const row of this.sql.exec<UploadRow>("SELECT * FROM upload").toArray()) await this.drop(row);
    const blobs = this.sql.exec<{ id: string }>("SELECT id FROM blob").toArray().map((r) => blobKey(r.id));
    for (let i = 0; i < blobs.length; i += 1000) await this.env.BLOBS.delete(blobs.slice(i, i + 1000));
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    // deleteAll drops the schema too; this live instance may serve the name again.
    migrate(this.sql, STEPS);
  }

  private async drop(row: UploadRow): Promise<void> {
    await this.env.BLOBS.resumeMultipartUpload(blobKey(row.blob), row.r2)
      .abort()
      // R2 forgets an upload after a while on its own; what matters is that the rows go.
      .catch((error: unknown) => console.warn(`emsg: aborting upload ${row.id}: ${(error as Error).message}`));
    this.sql.exec("DELETE FROM part WHERE upload = ?", row.id);
    this.sql.exec("DELETE FROM upload WHERE id = ?", row.id);
  }

  private async scheduleAlarm(): Promise<void> {
    const next = this.sql
      .exec<{ at: number | null }>(`SELECT MIN(at) AS at FROM (SELECT MIN(until) AS at FROM blob UNION ALL SELECT MIN(created) + ${UPLOAD_TTL_MS} AS at FROM upload)`)
      .one().at;
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }

  /** Deletes blobs whose time is up (their conversation's retention, §15.3) and uploads left unfinished. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const expired = this.sql.exec<{ id: string }>("SELECT id FROM blob WHERE until <= ?", now).toArray().map((r) => r.id);
    for (let i = 0; i < expired.length; i += 1000) {
      const batch = expired.slice(i, i + 1000);
      await this.env.BLOBS.delete(batch.map(blobKey));
      for (const id of batch) this.sql.exec("DELETE FROM blob WHERE id = ?", id);
    }
    for (const row of this.sql.exec<UploadRow>("SELECT * FROM upload WHERE created <= ?", now - UPLOAD_TTL_MS).toArray()) await this.drop(row);
    await this.scheduleAlarm();
  }
}
