import { ATTACHMENT_MAX_BYTES } from "../shared/attachment.js";
import { sealedSize } from "../shared/attachment-crypto.js";
import { DEFAULT_LIMITS, type Limits } from "../shared/discovery.js";
import { EmsgError } from "../shared/errors.js";
import type { Env } from "./env.js";

export type BlobLimits = Pick<Limits, "maxBlobBytes" | "blobQuotaBytes">;

/** The largest blob a pointer can describe (§15.2: 100 MiB of plaintext), sealed. */
export const MAX_BLOB_CEILING = sealedSize(ATTACHMENT_MAX_BYTES);

let read: { key: string; limits: BlobLimits } | undefined;

/**
 * This deployment's attachment limits (PROTOCOL §15.3), which the discovery document publishes:
 * `EMSG_MAX_BLOB_BYTES` and `EMSG_BLOB_QUOTA_BYTES` in wrangler.toml's [vars], whole bytes of
 * sealed blob, defaults 100 MiB of plaintext and 1 GiB. A malformed value is the operator's fault,
 * so it throws `unavailable` naming the variable: the server refuses to serve rather than guess.
 */
export function blobLimits(env: Pick<Env, "EMSG_MAX_BLOB_BYTES" | "EMSG_BLOB_QUOTA_BYTES">): BlobLimits {
  const key = `${env.EMSG_MAX_BLOB_BYTES ?? ""}|${env.EMSG_BLOB_QUOTA_BYTES ?? ""}`;
  if (read?.key === key) return read.limits;
  const maxBlobBytes = bytesVar("EMSG_MAX_BLOB_BYTES", env.EMSG_MAX_BLOB_BYTES, DEFAULT_LIMITS.maxBlobBytes, MAX_BLOB_CEILING);
  const blobQuotaBytes = bytesVar("EMSG_BLOB_QUOTA_BYTES", env.EMSG_BLOB_QUOTA_BYTES, DEFAULT_LIMITS.blobQuotaBytes, Number.MAX_SAFE_INTEGER);
  // A quota below the largest blob would refuse, as over quota, a file the limits say may be sent.
  if (blobQuotaBytes < maxBlobBytes) {
    throw new EmsgError("unavailable", `EMSG_BLOB_QUOTA_BYTES (${blobQuotaBytes}) is below the largest blob, EMSG_MAX_BLOB_BYTES (${maxBlobBytes}); lower that too.`);
  }
  read = { key, limits: { maxBlobBytes, blobQuotaBytes } };
  return read.limits;
}

function bytesVar(name: string, text: string | undefined, fallback: number, ceiling: number): number {
  if (text === undefined || text.trim() === "") return fallback;
  const n = /^\s*\d{1,16}\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > ceiling) throw new EmsgError("unavailable", `${name}: "${text}" is not a whole number of bytes from 1 to ${ceiling}.`);
  return n;
}
