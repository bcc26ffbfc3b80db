import type { FramedContentCommit } from "ts-mls/framedContent.js";
import { unprotectPrivateMessage } from "ts-mls/messageProtection.js";
import { createConfirmedHash, createInterimHash } from "ts-mls/transcriptHash.js";
import { toB64u } from "../base64url.js";
import { EmsgError } from "../errors.js";
import { guarded } from "./failure.js";
import { asClient, type GroupState } from "./group-state.js";
import { withCipherSuite } from "./suite.js";
import { fromWire } from "./wire.js";

/**
 * What ties a Welcome to one commit of this group (PROTOCOL §8, Rejoining): the confirmed transcript
 * hash of the epoch the commit makes and the commit's confirmation tag. A GroupInfo with both is of
 * that very epoch: its tag is a MAC under the epoch's confirmation key, which only the epoch's real
 * joiner secret gives, so a Welcome its committer made for another commit (one kept to itself,
 * forking this device off) cannot carry them.
 */
export function sealOf(confirmedTranscriptHash: Uint8Array, confirmationTag: Uint8Array): string {
  return `${toB64u(confirmedTranscriptHash)}.${toB64u(confirmationTag)}`;
}

/** The seal of the epoch a device is in: for a Welcome just joined, the epoch its GroupInfo names. */
export function sealOfState(state: GroupState): string {
  const client = asClient(state);
  return sealOf(client.groupContext.confirmedTranscriptHash, client.confirmationTag);
}

/**
 * The seal of the epoch a commit of this device's current epoch makes, read with the epoch's keys
 * without applying it (this device may be unable to: its own re-add). Leaves `state` as it was;
 * a message that does not open and verify as a commit of this epoch is `unauthorized` or `bad_request`.
 */
export async function sealOfCommit(state: GroupState, mls: string): Promise<string> {
  const client = asClient(state);
  const message = fromWire(mls, "mls_private_message").privateMessage;
  if (message.contentType !== "commit" || message.epoch !== client.groupContext.epoch) {
    throw new EmsgError("bad_request", "Only a commit of the current epoch has a seal to check a Welcome against.");
  }
  return guarded("The commit cannot be read", () =>
    withCipherSuite(async (cs) => {
      const { content } = await unprotectPrivateMessage(
        client.keySchedule.senderDataSecret,
        message,
        client.secretTree,
        client.ratchetTree,
        client.groupContext,
        client.clientConfig.keyRetentionConfig,
        cs,
      );
      if (content.auth.contentType !== "commit") throw new EmsgError("bad_request", "The message is not a commit.");
      const interim = await createInterimHash(client.groupContext.confirmedTranscriptHash, client.confirmationTag, cs.hash);
      const confirmed = await createConfirmedHash(interim, { wireformat: "mls_private_message", content: content.content as FramedContentCommit, signature: content.auth.signature }, cs.hash);
      return sealOf(confirmed, content.auth.confirmationTag);
    }),
  );
}
