import * as v from "valibot";
import { b64uSchema, ErrorCodeSchema, MsSchema, SeqSchema } from "./common.js";
import { Id16Schema } from "../ids.js";
import { MailItemSchema } from "./mail.js";
import { ConversationRefSchema, ConvPayloadSchema, MLS_MESSAGE_CHARS, SignedSessionTicketSchema, SubmitSchema } from "./conversation.js";

/** WebSocket frames: the mailbox socket (PROTOCOL §6) and the session socket (§10). */

export const ServerFrameSchema = v.variant("t", [
  // `left`: in the backlog a socket gets on opening, how many items come after this frame (PROTOCOL §6).
  v.object({ t: v.literal("items"), items: v.array(MailItemSchema), left: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(0))) }),
  v.object({ t: v.literal("pong") }),
  v.object({ t: v.literal("error"), error: ErrorCodeSchema, message: v.string() }),
]);
export type ServerFrame = v.InferOutput<typeof ServerFrameSchema>;

export const ClientFrameSchema = v.variant("t", [
  v.object({ t: v.literal("ack"), upTo: SeqSchema }),
  v.object({ t: v.literal("ping") }),
]);
export type ClientFrame = v.InferOutput<typeof ClientFrameSchema>;

const RtcTargetSchema = v.pipe(v.string(), v.maxLength(400), v.regex(/^[^\s/]+#[^\s/]+\/[A-Za-z0-9_-]{22}$/));

/** WebRTC signaling the hub relays between two session devices (§10); the hub reads only `type`. */
export const RtcDataSchema = v.looseObject({ type: v.picklist(["hello", "offer", "answer", "candidate"]) });
export type RtcData = v.InferOutput<typeof RtcDataSchema>;

export const RtcFrameSchema = v.object({
  t: v.literal("rtc"),
  to: RtcTargetSchema,
  data: RtcDataSchema,
});

/**
 * Submissions one `submits` frame carries at most, and the JSON text a client puts in one such
 * frame (a single larger submission goes alone, as `submit`).
 */
export const MAX_SESSION_SUBMITS = 64;
export const SESSION_BATCH_CHARS = 65536;
/** Hub positions one `got` frame names at most. */
export const MAX_SESSION_GOT = 256;

/** Hub positions of entries pushed to a session that its device stored (§10, `got`). */
const SessionGotSchema = v.pipe(v.array(SeqSchema), v.minLength(1), v.maxLength(MAX_SESSION_GOT));

export const SessionClientFrameSchema = v.variant("t", [
  // `got`: what the device stored since its last frame, told with its next submission rather than alone.
  v.object({ t: v.literal("submit"), submit: SubmitSchema, got: v.optional(SessionGotSchema) }),
  v.object({ t: v.literal("submits"), submits: v.pipe(v.array(SubmitSchema), v.minLength(1), v.maxLength(MAX_SESSION_SUBMITS)), got: v.optional(SessionGotSchema) }),
  RtcFrameSchema,
  v.object({ t: v.literal("ping") }),
  // A fresh ticket from the member's own server, before the session's current one expires.
  v.object({ t: v.literal("renew"), ticket: SignedSessionTicketSchema }),
  // The device stored these entries pushed to this session: the hub may spare its account their mailbox copies.
  v.object({ t: v.literal("got"), seqs: SessionGotSchema }),
]);
export type SessionClientFrame = v.InferOutput<typeof SessionClientFrameSchema>;

export const SessionServerFrameSchema = v.variant("t", [
  v.object({ t: v.literal("item"), item: ConvPayloadSchema }),
  v.object({ t: v.literal("ack"), id: Id16Schema, seq: SeqSchema }),
  v.object({ t: v.literal("acks"), acks: v.array(v.object({ id: Id16Schema, seq: SeqSchema })) }),
  v.object({ t: v.literal("rtc"), from: RtcTargetSchema, data: RtcDataSchema }),
  // `id` names the refused submission; an error about a frame that was no submission has none.
  v.object({ t: v.literal("error"), error: ErrorCodeSchema, message: v.string(), id: v.optional(Id16Schema) }),
  v.object({ t: v.literal("pong") }),
  // The session now lives until `exp`, its renewed ticket's.
  v.object({ t: v.literal("renewed"), exp: MsSchema }),
]);
export type SessionServerFrame = v.InferOutput<typeof SessionServerFrameSchema>;

/** What a WebRTC data channel carries (§10, path 3): an application message also submitted to the hub. */
export const DirectFrameSchema = v.object({
  t: v.literal("conv"),
  conversation: ConversationRefSchema,
  id: Id16Schema,
  epoch: SeqSchema,
  mls: b64uSchema(MLS_MESSAGE_CHARS),
});
export type DirectFrame = v.InferOutput<typeof DirectFrameSchema>;
