import * as v from "valibot";
import { AddressSchema, ErrorCodeSchema } from "./common.js";
import { Id16Schema } from "../ids.js";
import { ConversationRefSchema, ConvPayloadSchema, SignedConvAuthorSchema, RejoinSchema, SignedSessionTicketSchema, SubmitSchema, VetoSchema } from "./conversation.js";
import type { SignedConvAuthor, SignedSessionTicket } from "./conversation.js";
import { SignedFriendRequestSchema, SignedFriendResponseSchema } from "./friends.js";
import { SignedDeletionSchema, SignedMovedSchema } from "./account.js";
import { BouncePayloadSchema } from "./mail.js";
import { DEFAULT_LIMITS } from "../discovery.js";

/** Server-to-server items (PROTOCOL §7). */

export const MAX_BATCH_ITEMS = DEFAULT_LIMITS.maxBatchItems;

export const FedItemSchema = v.variant("kind", [
  v.object({ id: Id16Schema, kind: v.literal("friend_request"), signed: SignedFriendRequestSchema }),
  v.object({ id: Id16Schema, kind: v.literal("friend_response"), signed: SignedFriendResponseSchema }),
  v.object({
    id: Id16Schema,
    kind: v.literal("conv_submit"),
    conversation: ConversationRefSchema,
    from: AddressSchema,
    deviceId: Id16Schema,
    submit: SubmitSchema,
    // The author's server vouches for the submission, so third domains can believe `from` (§9).
    authorProof: v.optional(SignedConvAuthorSchema),
  }),
  // A member's veto of its hub's latest commit (§8), passed on by the member's server as a Submit is.
  v.object({ id: Id16Schema, kind: v.literal("conv_veto"), conversation: ConversationRefSchema, from: AddressSchema, deviceId: Id16Schema, veto: VetoSchema }),
  // A member device's ask to be let back in (§8, Rejoining), passed on the same way.
  v.object({ id: Id16Schema, kind: v.literal("conv_rejoin"), conversation: ConversationRefSchema, from: AddressSchema, deviceId: Id16Schema, rejoin: RejoinSchema }),
  v.pipe(
    v.object({
      id: Id16Schema,
      kind: v.literal("conv_deliver"),
      conversation: ConversationRefSchema,
      to: v.pipe(v.array(AddressSchema), v.minLength(1), v.maxLength(1000)),
      item: ConvPayloadSchema,
      // What the hub holds that proves `item.from` when it is not on the hub's domain (§9): the
      // author's server's `conv-author` object, or the session ticket it gave the author's device.
      authorProof: v.optional(SignedConvAuthorSchema),
      authorTicket: v.optional(SignedSessionTicketSchema),
      // The author's device submitted it to the hub itself and was answered with its hubSeq (§7).
      answered: v.optional(v.literal(true)),
    }),
    v.check((i) => !(i.authorProof && i.authorTicket), "A conv_deliver carries authorProof or authorTicket, not both."),
  ),
  // `to`: the receiving server's users who know the account that moved or was deleted.
  v.object({ id: Id16Schema, kind: v.literal("moved"), to: v.pipe(v.array(AddressSchema), v.minLength(1), v.maxLength(1000)), signed: SignedMovedSchema }),
  v.object({ id: Id16Schema, kind: v.literal("deleted"), to: v.pipe(v.array(AddressSchema), v.minLength(1), v.maxLength(1000)), signed: SignedDeletionSchema }),
  // `sender` is the receiving server's user whose item bounced.
  v.object({ id: Id16Schema, kind: v.literal("bounce"), sender: AddressSchema, ...BouncePayloadSchema.entries }),
]);
export type FedItem = v.InferOutput<typeof FedItemSchema>;
export type FedKind = FedItem["kind"];

/** What a hub passes on with an entry whose author is not on its domain (§9): at most one of the two. */
export interface AuthorEvidence {
  authorProof?: SignedConvAuthor;
  authorTicket?: SignedSessionTicket;
}

/** The batch is checked as a whole; each item is validated on its own so one bad item fails alone. */
export const FederationInboxRequestSchema = v.object({
  items: v.pipe(v.array(v.unknown()), v.minLength(1), v.maxLength(MAX_BATCH_ITEMS)),
});

export const FedResultSchema = v.union([
  // soleDevice: for an `answered` conv_deliver to its author, the author's account's only device (§7).
  v.object({ id: v.string(), ok: v.literal(true), soleDevice: v.optional(Id16Schema) }),
  v.object({ id: v.string(), error: ErrorCodeSchema, message: v.string() }),
]);
export type FedResult = v.InferOutput<typeof FedResultSchema>;

export const FederationInboxResponseSchema = v.object({ results: v.array(FedResultSchema) });
export type FederationInboxResponse = v.InferOutput<typeof FederationInboxResponseSchema>;
