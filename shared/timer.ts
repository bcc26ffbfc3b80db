import * as v from "valibot";
import { Id16Schema, randomId16 } from "./ids.js";

/**
 * A conversation's disappearing-messages timer (PROTOCOL §8.1), as Signal's: any member sets it for
 * everyone, inside MLS. `days` says how long messages written there live: a number of days, `null`
 * for kept forever, absent for "no timer of its own" (each device then follows its account's
 * setting). The one with the latest `sentAt` holds.
 */
export const TIMER_MIN_DAYS = 1;
export const TIMER_MAX_DAYS = 3650;
export const DAY_MS = 86_400_000;

const MsSchema = v.pipe(v.number(), v.safeInteger("A time must be whole milliseconds."), v.minValue(0, "A time cannot be before 1970."));

export const TimerDaysSchema = v.nullable(
  v.pipe(
    v.number("A timer is a number of days."),
    v.safeInteger("A timer is whole days."),
    v.minValue(TIMER_MIN_DAYS, `A timer is ${TIMER_MIN_DAYS} to ${TIMER_MAX_DAYS} days, or forever.`),
    v.maxValue(TIMER_MAX_DAYS, `A timer is ${TIMER_MIN_DAYS} to ${TIMER_MAX_DAYS} days, or forever.`),
  ),
);

export const TimerContentSchema = v.object({
  v: v.literal(1),
  id: Id16Schema,
  sentAt: MsSchema,
  type: v.literal("timer"),
  days: v.optional(TimerDaysSchema),
});

export type TimerContent = v.InferOutput<typeof TimerContentSchema>;

/** A conversation's timer: days, `null` forever, `undefined` each device's own setting. */
export type TimerDays = number | null | undefined;

/** The unchecked content (content.ts checks it with the rest): `days` undefined leaves the member out. */
export function timerContent(days: TimerDays, sentAt: number): TimerContent {
  return { v: 1, id: randomId16(), sentAt, type: "timer", ...(days === undefined ? {} : { days }) };
}
