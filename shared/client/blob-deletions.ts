import { EmsgError, RETRYABLE } from "../errors.js";
import type { CoreContext } from "./context.js";
import type { MessageRecord } from "./messages.js";

/**
 * Blobs this account uploaded whose messages are gone (PROTOCOL §15.4): deleted for everyone, or
 * expired on this device. Only the uploading account can delete a blob on its server, so the
 * sender's devices do it; a receiver's copy going changes nothing on the server. Kept in the store
 * until the server has answered, so a deletion made offline happens on the next connect.
 */
const PENDING = "blob-delete/";

/** Notes the blobs of `messages` that this account uploaded, to be deleted by `deleteForgottenBlobs`. */
export async function forgetBlobs(ctx: Pick<CoreContext, "store" | "account">, messages: readonly MessageRecord[]): Promise<void> {
  for (const m of messages) {
    // An upload not finished has no blob yet: its id is a stand-in (the upload is cancelled instead).
    if (!m.attachment || m.from !== ctx.account.address || m.attachment.state === "uploading") continue;
    await ctx.store.put(PENDING + m.attachment.blob, m.attachment.blob);
  }
}

/** Asks the server to delete every noted blob; one the server no longer has is done too. Stops at the first that cannot reach it. */
export async function deleteForgottenBlobs(ctx: Pick<CoreContext, "store" | "api">): Promise<void> {
  for (const [key, blob] of await ctx.store.list<string>(PENDING)) {
    try {
      await ctx.api.call("DELETE", `/blobs/${encodeURIComponent(blob)}`);
    } catch (error) {
      if (!(error instanceof EmsgError)) throw error;
      if (RETRYABLE.has(error.code)) return;
      if (error.code !== "not_found") console.warn(`emsg: the server keeps blob ${blob} until it expires: ${error.message}`);
    }
    await ctx.store.delete(key);
  }
}
