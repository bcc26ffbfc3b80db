import * as v from "valibot";
import { AddressSchema, ErrorCodeSchema, MsSchema, SeqSchema } from "./common.js";
import { Id16Schema } from "../ids.js";
import { ConversationRefSchema, ConvPayloadSchema } from "./conversation.js";
import { SignedFriendRequestSchema, SignedFriendResponseSchema } from "./friends.js";
import { SignedDeletionSchema, SignedMovedSchema } from "./account.js";
import { DeviceCertSchema } from "../identity.js";

/** What a device receives from its own server's mailbox (PROTOCOL §6). */

const head = { seq: SeqSchema, at: MsSchema };

/**
 * Something the user sent could not be delivered: `ref` is the id of what was sent (friend
 * request id or submit id), `to` the address it could not reach (the sender itself when the hub
 * refused a submission), `conversation` set for conversation traffic.
 */
export const BouncePayloadSchema = v.object({
  ref: Id16Schema,
  to: AddressSchema,
  error: ErrorCodeSchema,
  conversation: v.optional(ConversationRefSchema),
});
export type BouncePayload = v.InferOutput<typeof BouncePayloadSchema>;

export const MailItemSchema = v.variant("kind", [
  v.object({ ...head, kind: v.literal("conv"), ...ConvPayloadSchema.entries }),
  v.object({ ...head, kind: v.literal("friend_request"), signed: SignedFriendRequestSchema }),
  v.object({ ...head, kind: v.literal("friend_response"), signed: SignedFriendResponseSchema }),
  v.object({ ...head, kind: v.literal("moved"), signed: SignedMovedSchema }),
  v.object({ ...head, kind: v.literal("deleted"), signed: SignedDeletionSchema }),
  v.object({ ...head, kind: v.literal("bounce"), ...BouncePayloadSchema.entries }),
  // A device joined the account; `link` names the link it came through, if any.
  v.object({ ...head, kind: v.literal("device_added"), deviceCert: DeviceCertSchema, link: v.optional(Id16Schema) }),
]);
export type MailItem = v.InferOutput<typeof MailItemSchema>;
export type MailKind = MailItem["kind"];

/** A mail item before the receiving mailbox numbers it. */
export type MailContent = MailItem extends infer T ? (T extends MailItem ? Omit<T, "seq" | "at"> : never) : never;

// `left`: how many items come after this page (PROTOCOL §5); a server that does not say is read as before.
export const MailboxPageSchema = v.object({ items: v.array(MailItemSchema), more: v.boolean(), left: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(0))) });
export type MailboxPage = v.InferOutput<typeof MailboxPageSchema>;
