import * as v from "valibot";
import { AddressSchema, b64uSchema, DomainSchema, MsSchema, SeqSchema } from "./common.js";
import { fixedB64uSchema, Id16Schema, isB64uOfLength } from "../ids.js";
import { signedSchema } from "../signed.js";
import { asDomain, type Address, type Domain } from "../address.js";
import { Checked } from "../checked.js";
import { EmsgError } from "../errors.js";

/** Conversations hosted on a hub (PROTOCOL §6, §8, §12). */

/** `HUB/ID`: the hub's domain, a slash, and the conversation's id16. */
export type ConversationRef = string & { readonly __brand: "ConversationRef" };

export interface ParsedConversationRef {
  hub: Domain;
  id: string;
  ref: ConversationRef;
}

const checkedRefs = new Checked();

export function parseConversationRef(input: unknown): ParsedConversationRef {
  if (typeof input !== "string" || input.length > 300) throw new EmsgError("bad_request", "A conversation is HUB/ID.");
  const slash = input.lastIndexOf("/");
  const id = input.slice(slash + 1);
  if (checkedRefs.has(input)) return { hub: input.slice(0, slash) as Domain, id, ref: input as ConversationRef };
  if (slash < 0 || !isB64uOfLength(id, 16)) throw new EmsgError("bad_request", "A conversation is HUB/ID with a 16-byte id.");
  const hub = asDomain(input.slice(0, slash));
  checkedRefs.add(input);
  return { hub, id, ref: input as ConversationRef };
}

export function conversationRef(hub: Domain, id: string): ConversationRef {
  return parseConversationRef(`${hub}/${id}`).ref;
}

function isConversationRef(input: unknown): boolean {
  try {
    parseConversationRef(input);
    return true;
  } catch {
    return false;
  }
}

export const ConversationRefSchema = v.custom<ConversationRef>(isConversationRef, "Expected a conversation HUB/ID.");

/** Upper bounds, in base64url characters, of what one message may carry (limits of §3). */
export const MLS_MESSAGE_CHARS = Math.ceil((65536 * 4) / 3);
export const WELCOME_CHARS = Math.ceil((262144 * 4) / 3);
export const MAX_MEMBERS = 1000;

export const SubmitKindSchema = v.picklist(["application", "commit", "proposal"]);
export type SubmitKind = v.InferOutput<typeof SubmitKindSchema>;

export const RosterSchema = v.object({
  add: v.optional(v.pipe(v.array(AddressSchema), v.maxLength(MAX_MEMBERS)), []),
  remove: v.optional(v.pipe(v.array(AddressSchema), v.maxLength(MAX_MEMBERS)), []),
});
export type Roster = v.InferOutput<typeof RosterSchema>;

/**
 * `mls` of an application message or proposal holds at most `maxMessageBytes`; a commit's, like a
 * Welcome, at most `maxBodyBytes` (§6, §8): with X-Wing each encrypted path secret is about 1.1 KB,
 * so an empty commit in a group of 60 devices is about 80 KB.
 */
export const SubmitSchema = v.pipe(
  v.object({
    id: Id16Schema,
    epoch: SeqSchema,
    kind: SubmitKindSchema,
    mls: b64uSchema(WELCOME_CHARS),
    welcome: v.optional(b64uSchema(WELCOME_CHARS)),
    roster: v.optional(RosterSchema),
  }),
  v.forward(
    v.check((s) => s.kind === "commit" || s.mls.length <= MLS_MESSAGE_CHARS, "Only a commit's mls may exceed maxMessageBytes."),
    ["mls"],
  ),
);
export type Submit = v.InferOutput<typeof SubmitSchema>;

export const SubmitAcceptedSchema = v.object({ accepted: v.literal(true), seq: v.optional(SeqSchema) });

/**
 * A member device's veto of the hub's latest commit, which it cannot process (PROTOCOL §8, Vetoes):
 * `epoch` is the commit's (the epoch it was submitted at), `hubSeq` its position. `id` makes the
 * veto idempotent, as a Submit's does.
 */
export const VetoSchema = v.object({ id: Id16Schema, epoch: SeqSchema, hubSeq: SeqSchema });
export type Veto = v.InferOutput<typeof VetoSchema>;

/**
 * A member device's ask to be let back in (PROTOCOL §8, Rejoining): it is behind the group and
 * cannot catch up (its veto refused, say). `epoch` is where it stopped; `id` makes it idempotent.
 */
export const RejoinSchema = v.object({ id: Id16Schema, epoch: SeqSchema });
export type Rejoin = v.InferOutput<typeof RejoinSchema>;
export type SubmitAccepted = v.InferOutput<typeof SubmitAcceptedSchema>;

export const CreateConversationRequestSchema = v.object({
  id: Id16Schema,
  members: v.pipe(v.array(AddressSchema), v.maxLength(MAX_MEMBERS)),
});
export type CreateConversationRequest = v.InferOutput<typeof CreateConversationRequestSchema>;

export const CreateConversationResponseSchema = v.object({ conversation: ConversationRefSchema });
export type CreateConversationResponse = v.InferOutput<typeof CreateConversationResponseSchema>;

export const ConversationViewSchema = v.object({
  conversation: ConversationRefSchema,
  members: v.array(AddressSchema),
  epoch: SeqSchema,
  lastSeq: SeqSchema,
});
export type ConversationView = v.InferOutput<typeof ConversationViewSchema>;

/**
 * One entry of a hub's log as members receive it: `hubSeq` is the hub's total order
 * (the mailbox's own `seq` is a different counter, per account); `id` is the submission's id,
 * so a sender recognizes its own message.
 */
export const ConvPayloadSchema = v.object({
  conversation: ConversationRefSchema,
  id: Id16Schema,
  hubSeq: SeqSchema,
  from: AddressSchema,
  deviceId: Id16Schema,
  epoch: SeqSchema,
  type: v.picklist(["application", "commit", "proposal", "welcome", "withdrawn", "rejoin"]),
  mls: b64uSchema(WELCOME_CHARS),
  members: v.optional(v.array(AddressSchema)),
  // On `rejoin` (with `mls` ""): `from`/`deviceId` are the device that asks to be let back in (§8, Rejoining).
  // On `withdrawn` (with `mls` ""): the commits a veto withdrew, oldest first, by Submit id and position (§8).
  withdraws: v.optional(v.pipe(v.array(v.object({ id: Id16Schema, hubSeq: SeqSchema })), v.minLength(1), v.maxLength(4))),
  at: MsSchema,
});
export type ConvPayload = v.InferOutput<typeof ConvPayloadSchema>;

/** Body of a `session-ticket` signed object (PROTOCOL §10), signed by the member's own server key. */
export const SessionTicketBodySchema = v.looseObject({
  address: AddressSchema,
  deviceId: Id16Schema,
  conversation: ConversationRefSchema,
  hub: DomainSchema,
  exp: MsSchema,
});
export type SessionTicketBody = v.InferOutput<typeof SessionTicketBodySchema>;
export const SignedSessionTicketSchema = signedSchema(SessionTicketBodySchema);
export type SignedSessionTicket = v.InferOutput<typeof SignedSessionTicketSchema>;

/** b64u of SHA-256 of the UTF-8 text of an `mls` or `welcome` member, as the Submit carried it. */
export const MlsDigestSchema = fixedB64uSchema(32, "A digest");

/**
 * Body of a `conv-author` signed object (PROTOCOL §7): the author's own server, forwarding a
 * local user's Submit to a remote hub, vouches that this account's device sent exactly this.
 */
export const ConvAuthorBodySchema = v.looseObject({
  conversation: ConversationRefSchema,
  id: Id16Schema,
  from: AddressSchema,
  deviceId: Id16Schema,
  mls: MlsDigestSchema,
  welcome: v.optional(MlsDigestSchema),
});
export type ConvAuthorBody = v.InferOutput<typeof ConvAuthorBodySchema>;
export const SignedConvAuthorSchema = signedSchema(ConvAuthorBodySchema);
export type SignedConvAuthor = v.InferOutput<typeof SignedConvAuthorSchema>;

export const SessionTicketRequestSchema = v.object({ conversation: ConversationRefSchema });
/** Where the issuing server reaches the hub: an http(s) API base, without a trailing slash. */
const HubApiSchema = v.pipe(
  v.string(),
  v.maxLength(2048),
  v.check((api) => /^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(api) && !api.endsWith("/"), "api must be an absolute http(s) URL without a trailing slash."),
);
export const SessionTicketResponseSchema = v.object({ ticket: SignedSessionTicketSchema, hub: DomainSchema, api: HubApiSchema });
export type SessionTicketResponse = v.InferOutput<typeof SessionTicketResponseSchema>;

export type { Address };
