import * as v from "valibot";
import { ErrorCodeSchema, SeqSchema } from "./common.js";
import { Id16Schema } from "../ids.js";
import { MailItemSchema } from "./mail.js";
import { ConvPayloadSchema, SubmitSchema } from "./conversation.js";

/** WebSocket frames: the mailbox socket (PROTOCOL §6) and the session socket (§10). */

export const MAX_FRAME_BYTES = 262144;

export const ServerFrameSchema = v.variant("t", [
  v.object({ t: v.literal("items"), items: v.array(MailItemSchema) }),
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

export const RtcFrameSchema = v.object({
  t: v.literal("rtc"),
  to: RtcTargetSchema,
  data: v.looseObject({ type: v.picklist(["offer", "answer", "candidate"]) }),
});

export const SessionClientFrameSchema = v.variant("t", [
  v.object({ t: v.literal("submit"), submit: SubmitSchema }),
  RtcFrameSchema,
  v.object({ t: v.literal("ping") }),
]);
export type SessionClientFrame = v.InferOutput<typeof SessionClientFrameSchema>;

export const SessionServerFrameSchema = v.variant("t", [
  v.object({ t: v.literal("item"), item: ConvPayloadSchema }),
  v.object({ t: v.literal("ack"), id: Id16Schema, seq: SeqSchema }),
  v.object({ t: v.literal("rtc"), from: RtcTargetSchema, data: v.looseObject({ type: v.picklist(["offer", "answer", "candidate"]) }) }),
  v.object({ t: v.literal("error"), error: ErrorCodeSchema, message: v.string() }),
  v.object({ t: v.literal("pong") }),
]);
export type SessionServerFrame = v.InferOutput<typeof SessionServerFrameSchema>;
