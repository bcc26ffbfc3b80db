/** What one benchmark run measured, half by half; a half that could not run says why in `error`. */
import type { LoadResult, RoundTripResult } from "./load.js";
import type { WorkloadCalls } from "./object-calls.js";
import type { LatencySummary } from "./stats.js";
import type { Plan } from "./plan.js";

export interface MessagingFigures {
  federated?: LoadResult;
  sameDomain?: LoadResult;
  roundTrip?: RoundTripResult;
}

/** The round trip with both ends' sessions open, each message taken on its first copy (bench/live-links.ts). */
export interface LiveRoundTripFigures extends RoundTripResult {
  firstBy: { session: number; mailbox: number };
}

export interface MlsFigures {
  ciphersuite: string;
  messages: number;
  /** Messages encrypted by one member and decrypted by the other, per second, one after another. */
  encryptDecryptPerSec: number;
  /** The same per second of this process's CPU time (all its threads): the rate on a core of its own. */
  encryptDecryptPerCpuSec: number;
  oneToOneSetupMs: number;
  groupMembers: number;
  /** The creator's commit adding everyone, with its Welcome. */
  groupCommitMs: number;
  /** Every other member joining from that Welcome, one after another. */
  groupJoinMs: number;
  /** CPU time of the joins, all threads. */
  groupJoinCpuMs: number;
  /** The same two CPU figures in the process's untimed first round, its code not yet compiled by the engine. */
  firstRound: { encryptDecryptPerCpuSec: number; groupJoinCpuMs: number };
  /** The two CPU figures of each timed round, in order; every figure above is the median of these rounds. */
  timedRounds: { encryptDecryptPerCpuSec: number[]; groupJoinCpuMs: number[] };
}

export interface IdleSocketFigures {
  target: number;
  opened: number;
  /** Summed over every workerd of the run (one per domain). */
  workerdRssBeforeBytes: number;
  workerdRssAfterBytes: number;
  /** Set when opening stopped near the listening workerd's open-file limit (its soft limit). */
  openFileLimit?: number;
}

export interface MailboxDrainFigures {
  queued: number;
  drained: number;
  elapsedMs: number;
  msgsPerSec: number;
}

/** The PWA's first load in a fresh Chromium profile, served by a Worker on loopback. */
export interface PwaFigures {
  /** Module scripts index.html loads before the app runs (entries and modulepreloads). */
  scriptFiles: number;
  scriptBytes: number;
  scriptGzipBytes: number;
  loads: number;
  /** Navigation start to first contentful paint. */
  firstPaintMs?: LatencySummary;
  /** Navigation start to the onboarding form on screen: the app rendered and usable. */
  appShownMs?: LatencySummary;
}

/** The PWA opened on a mailbox of `queued` messages from `conversations` chats (bench/catch-up.ts). */
export interface CatchUpFigures {
  conversations: number;
  queued: number;
  /** Opening the app to its navigation on screen. */
  appShownMs: number;
  /** Opening the app to the chat list showing every chat's last message. */
  listedMs?: number;
  /** Opening the app to every message stored in IndexedDB and the chat list right. */
  totalMs: number;
  msgsPerSec: number;
  /** Distinct "Catching up… n of total" texts the app's status strip was seen showing meanwhile. */
  progressSteps?: number;
  /** CPU time of the page's renderer process meanwhile (Chromium's ProcessTime metric). */
  pageCpuMs?: number;
  /** The page was reloaded once along the way (EMSG_BENCH_CATCH_UP_RELOAD=1). */
  reloaded?: true;
}

export interface HalfResult<T> {
  figures?: T;
  /** Why this half is missing or incomplete; never replaced by made-up numbers. */
  error?: string;
}

export interface BenchResults {
  plan: Plan;
  emsg: HalfResult<MessagingFigures & { idleSockets?: IdleSocketFigures; mailboxDrain?: MailboxDrainFigures; liveRoundTrip?: LiveRoundTripFigures; objectCalls?: WorkloadCalls[] }>;
  prosody: HalfResult<MessagingFigures> & { version?: string };
  mls: HalfResult<MlsFigures>;
  pwa: HalfResult<PwaFigures>;
  catchUp?: HalfResult<CatchUpFigures>;
}
