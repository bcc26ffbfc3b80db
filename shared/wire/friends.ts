import * as v from "valibot";
import { AddressSchema, b64uSchema, MsSchema } from "./common.js";
import { Id16Schema } from "../ids.js";
import { signedSchema } from "../signed.js";
import { PublicKeySchema } from "../identity.js";
import { SignedMovedSchema } from "./account.js";

/** Friend requests and responses (PROTOCOL §6, §9). */

export const FriendRequestBodySchema = v.looseObject({
  from: AddressSchema,
  to: AddressSchema,
  accountKey: PublicKeySchema,
  created: MsSchema,
  id: Id16Schema,
  note: v.pipe(v.string(), v.maxLength(280)),
  /** Set when the requester moved here from an address the recipient befriended (PROTOCOL §9, §11). */
  moved: v.optional(SignedMovedSchema),
});
export type FriendRequestBody = v.InferOutput<typeof FriendRequestBodySchema>;
export const SignedFriendRequestSchema = signedSchema(FriendRequestBodySchema);
export type SignedFriendRequest = v.InferOutput<typeof SignedFriendRequestSchema>;

export const VerdictSchema = v.picklist(["accept", "decline"]);
export type Verdict = v.InferOutput<typeof VerdictSchema>;

export const FriendResponseBodySchema = v.looseObject({
  from: AddressSchema,
  to: AddressSchema,
  accountKey: PublicKeySchema,
  created: MsSchema,
  id: Id16Schema,
  verdict: VerdictSchema,
});
export type FriendResponseBody = v.InferOutput<typeof FriendResponseBodySchema>;
export const SignedFriendResponseSchema = signedSchema(FriendResponseBodySchema);
export type SignedFriendResponse = v.InferOutput<typeof SignedFriendResponseSchema>;

export const FriendRequestPostSchema = v.object({ request: SignedFriendRequestSchema });
export type FriendRequestPost = v.InferOutput<typeof FriendRequestPostSchema>;

export const FriendResponsePostSchema = v.object({ response: SignedFriendResponseSchema });
export type FriendResponsePost = v.InferOutput<typeof FriendResponsePostSchema>;

export const FriendStateSchema = v.picklist(["outgoing", "incoming", "held", "friend", "blocked"]);
export type FriendState = v.InferOutput<typeof FriendStateSchema>;

/**
 * `accountKey` is empty while an outgoing request is unanswered; `request` is the signed
 * request for `incoming` and `held` entries, so a requests inbox can show its note.
 */
export const FriendEntrySchema = v.object({
  address: AddressSchema,
  accountKey: v.union([v.literal(""), b64uSchema(64)]),
  state: FriendStateSchema,
  since: MsSchema,
  request: v.optional(SignedFriendRequestSchema),
});
export type FriendEntry = v.InferOutput<typeof FriendEntrySchema>;

export const FriendsListSchema = v.object({ friends: v.array(FriendEntrySchema) });
export type FriendsList = v.InferOutput<typeof FriendsListSchema>;
