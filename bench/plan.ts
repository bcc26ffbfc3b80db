/**
 * How big a benchmark run is: the full comparison, `--medium` (the throughput scenarios with a
 * fifth of the full load, a few minutes) or `--quick`, a smoke run of under a minute.
 */
export interface Plan {
  name: "full" | "medium" | "quick";
  /** Sender → receiver pairs running at once in the throughput scenarios. */
  pairs: number;
  /** Messages each sender sends. */
  messages: number;
  /** Timed passes of each throughput scenario per server, after its untimed ones. */
  passes: number;
  /**
   * Untimed full passes of each throughput scenario per server before its timed ones (after one
   * message per pair), so both are measured warm, as servers that have been running are.
   */
  warmPasses: number;
  /** Approximate size of one message's text in bytes, before encryption. */
  messageBytes: number;
  /** Timed single-pair round trips per server. */
  roundTrips: number;
  /** Turns those round trips are split into, taken in alternation with the other server's (bench/interleave.ts). */
  roundTripTurns: number;
  /** Members of the larger MLS group whose setup is timed. */
  groupMembers: number;
  /** MLS encrypt+decrypt pairs timed. */
  mlsMessages: number;
  idleSockets: number;
  /** Cold loads of the PWA in Chromium. */
  pwaLoads: number;
  /** Catch-up in the PWA (bench/catch-up.ts): conversations, and messages queued in each while the app is closed. */
  catchUp: { conversations: number; perConversation: number };
  mailboxMessages: number;
  /** Stop waiting when no message arrived for this long. */
  idleMs: number;
  deadlineMs: number;
}

export const FULL: Plan = {
  name: "full",
  pairs: 50,
  messages: 200,
  // A pass takes under a second or two and either server's passes swing by a third on this VM
  // (Prosody's median of three moved from 10,843 to 7,449 msgs/s between two runs five minutes
  // apart): the median of five is steadier, for ~20 s more.
  passes: 5,
  // A domain's workerd thread still got cheaper a message until about its eighth full pass
  // (pass-timeline.ts, 12 and 16 passes in a row: federated 34 → ~25 µs on the sending thread,
  // same domain 41 → ~25), its JIT optimizing what a pass runs only a few hundred times (the
  // per-batch paths); with two, the timed passes fell in that climb. Prosody gets as many.
  warmPasses: 8,
  messageBytes: 200,
  roundTrips: 200,
  roundTripTurns: 5,
  groupMembers: 50,
  mlsMessages: 1000,
  idleSockets: 10_000,
  pwaLoads: 10,
  catchUp: { conversations: 20, perConversation: 500 },
  mailboxMessages: 10_000,
  idleMs: 15_000,
  deadlineMs: 600_000,
};

export const MEDIUM: Plan = {
  name: "medium",
  pairs: 10,
  messages: 200,
  passes: 3,
  warmPasses: 2,
  messageBytes: 200,
  roundTrips: 100,
  roundTripTurns: 5,
  groupMembers: 10,
  mlsMessages: 200,
  idleSockets: 500,
  pwaLoads: 2,
  catchUp: { conversations: 10, perConversation: 100 },
  mailboxMessages: 1000,
  idleMs: 10_000,
  deadlineMs: 120_000,
};

export const QUICK: Plan = {
  name: "quick",
  pairs: 2,
  messages: 20,
  passes: 1,
  warmPasses: 2,
  messageBytes: 200,
  roundTrips: 20,
  roundTripTurns: 2,
  groupMembers: 5,
  mlsMessages: 50,
  idleSockets: 50,
  pwaLoads: 2,
  catchUp: { conversations: 4, perConversation: 25 },
  mailboxMessages: 50,
  idleMs: 5_000,
  deadlineMs: 20_000,
};
