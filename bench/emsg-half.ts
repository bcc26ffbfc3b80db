// The EMSG half: two local domains, one workerd each (scripts/workerd-servers.mjs), the same
// scenarios as Prosody's, then the EMSG-only scale figures.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { twoDomains } from "../scripts/dev-servers.mjs";
import { OUTGOING_WINDOW } from "../shared/client/outgoing-window.js";
import { type Mailbox, openMailbox, prepare, type SessionBenchLink, sessionLink } from "./emsg-links.js";
import { befriend, openConversation, type Person, register } from "./emsg-people.js";
import { measureIdleSockets, measureMailboxDrain } from "./emsg-scale.js";
import type { BenchResults } from "./figures.js";
import type { Contender, RoundTripper, Scenario } from "./interleave.js";
import { liveEnds, type LiveRoundTrip, liveRoundTrip } from "./live-links.js";
import { takeCalls, type WorkloadCalls } from "./object-calls.js";
import { type LoadOptions, type Pass, roundTripTurn, type RoundTripTurn, runPass, runRoundTrip } from "./load.js";
import type { Plan } from "./plan.js";
import { descendantsNamed, listenerOf, portIsFree } from "./processes.js";

export type EmsgFigures = NonNullable<BenchResults["emsg"]["figures"]>;

export const EMSG_PORTS = [8827, 8828] as const;
const ALICE = "im.alice.test";
const BOB = "im.bob.test";
const DOMAINS = [ALICE, BOB] as const;
// The servers' rate limits are policy, not capacity: raised so they do not cap the load, as
// Prosody runs without mod_limits. workerd-servers.mjs gives it to the Worker from the environment.
const NO_RATE_LIMITS = "account=100000000:10000000,ip=100000000:10000000,peer=100000000:10000000";

/** Runs `make` over `items`, `width` at a time, keeping their order. */
async function inBatches<T, R>(items: readonly T[], width: number, make: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map((x, j) => make(x, i + j)))));
  return out;
}

interface Pair {
  sender: Person;
  receiver: Person;
  conversation: string;
}

async function makePairs(senders: Person[], receivers: Person[]): Promise<Pair[]> {
  return inBatches(senders, 5, async (sender, i) => {
    const receiver = receivers[i]!;
    await befriend(sender, receiver);
    return { sender, receiver, conversation: await openConversation(sender, receiver) };
  });
}

/**
 * Submissions a sender may have on its session socket before the hub's acks come back: as many as
 * the client core sends before awaiting answers when it flushes its queue over a session.
 */
export const SESSION_WINDOW = OUTGOING_WINDOW;

async function linksFor(pairs: Pair[], mailboxes: Map<Person, Mailbox>, count: number, plan: Plan): Promise<SessionBenchLink[]> {
  return inBatches(pairs, 10, async (p) => sessionLink(p.sender, mailboxes.get(p.receiver)!, await prepare(p.sender, p.conversation, count, plan.messageBytes)));
}

/** One pass over fresh session links, closed afterwards. */
async function sessionPass(pairs: Pair[], mailboxes: Map<Person, Mailbox>, plan: Plan, messages: number, clock?: LoadOptions["clock"]): Promise<Pass> {
  const links = await linksFor(pairs, mailboxes, messages, plan);
  try {
    // Each sender streams its messages over its session socket, as a client flushing its queue would.
    return await runPass(links, { messages, window: SESSION_WINDOW, idleMs: plan.idleMs, deadlineMs: plan.deadlineMs, clock });
  } finally {
    for (const link of links) link.close();
  }
}

function workerdOn(port: number): number {
  const pid = listenerOf(port, descendantsNamed("workerd"));
  if (pid === undefined) throw new Error(`found no workerd listening on 127.0.0.1:${port}`);
  return pid;
}

const names = (prefix: string, domain: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}#${domain}`);

interface World {
  resolve: string;
  federatedPairs: Pair[];
  localPairs: Pair[];
  mailboxes: Map<Person, Mailbox>;
}

/** `person`'s mailbox socket, opened when first asked for (the round trips' sender has one only for them). */
async function mailboxOf(world: World, person: Person): Promise<Mailbox> {
  let mailbox = world.mailboxes.get(person);
  if (!mailbox) world.mailboxes.set(person, (mailbox = await openMailbox(person)));
  return mailbox;
}

/** Accounts, friendships, 1:1 conversations and the receivers' mailbox sockets of both scenarios. */
async function setUp(plan: Plan, resolve: string, log: (line: string) => void): Promise<World> {
  const n = plan.pairs;
  log(`emsg: registering ${3 * n} accounts`);
  const reg = (a: string) => register(a, resolve);
  const senders = await inBatches(names("s", ALICE, n), 5, reg);
  const remote = await inBatches(names("r", BOB, n), 5, reg);
  const local = await inBatches(names("q", ALICE, n), 5, reg);
  log("emsg: befriending and opening conversations");
  const federatedPairs = await makePairs(senders, remote);
  const localPairs = await makePairs(senders, local);
  const mailboxes = new Map<Person, Mailbox>();
  for (const p of [...remote, ...local]) mailboxes.set(p, await openMailbox(p));
  return { resolve, federatedPairs, localPairs, mailboxes };
}

/** The mailbox-copy round trip, then the EMSG-only scale figures, each into `out` as it finishes. */
async function scaleScenarios(plan: Plan, world: World, ports: readonly [number, number], log: (line: string) => void, out: EmsgFigures): Promise<void> {
  const { mailboxes } = world;
  const reg = (a: string) => register(a, world.resolve);
  const { sender: alice, receiver: bob, conversation } = world.federatedPairs[0]!;
  // Both ends hold a session to the hub (alice's server): bob's socket crosses to the other domain.
  // Each message counts as arrived on its mailbox copy: through federation, then bob's Account object.
  const there = await sessionLink(alice, await mailboxOf(world, bob), await prepare(alice, conversation, plan.roundTrips, plan.messageBytes));
  const back = await sessionLink(bob, await mailboxOf(world, alice), await prepare(bob, conversation, plan.roundTrips, plan.messageBytes));
  const roundTrip = (out.roundTrip = await runRoundTrip(there, back, plan.roundTrips, plan.idleMs));
  there.close();
  back.close();
  log(`emsg round trip (mailbox copies): ${roundTrip.completed}/${roundTrip.rounds}`);
  for (const m of mailboxes.values()) m.close();

  // A pair of its own, so the drained mailbox holds nothing but the queued messages.
  const [drainFrom, drainTo] = [await reg(`drain-from#${ALICE}`), await reg(`drain-to#${BOB}`)];
  const [drainPair] = await makePairs([drainFrom], [drainTo]);
  log(`emsg: encrypting ${plan.mailboxMessages} messages for the offline mailbox`);
  const queued = await prepare(drainFrom, drainPair!.conversation, plan.mailboxMessages, plan.messageBytes);
  const mailboxDrain = (out.mailboxDrain = await measureMailboxDrain(drainFrom, drainTo, queued, plan.idleMs));
  log(`emsg mailbox drain: ${mailboxDrain.drained}/${mailboxDrain.queued} in ${Math.round(mailboxDrain.elapsedMs)} ms`);

  const idleOwners = Math.max(1, Math.ceil(plan.idleSockets / 500));
  const owners = await inBatches(names("idle", ALICE, idleOwners), 5, reg);
  const idleSockets = (out.idleSockets = await measureIdleSockets(owners, plan.idleSockets, workerdOn(ports[0]), descendantsNamed("workerd"), log));
  log(`emsg idle sockets: ${idleSockets.opened}/${idleSockets.target} open`);
}

/**
 * Where the servers keep their SQLite files: in memory (tmpfs) when the machine has /dev/shm.
 * Miniflare's local storage stands in for Cloudflare's, which is not this VM's disk; on the disk
 * the kernel's writeback of the WAL pages took most of a core away from both servers.
 */
function stateRoot(): string {
  return existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
}

/**
 * The two EMSG domains, set up and running: a contender in the throughput scenarios and in the
 * round trip (its first copy, bench/live-links.ts, on the first federated pair).
 */
export interface EmsgServers extends Contender, RoundTripper {
  /** A pass, with `clock` told when its timed span starts and ends (bench/pass-timeline.ts). */
  pass(scenario: Scenario, messages: number, clock?: LoadOptions["clock"]): Promise<Pass>;
  /** Which copy of each message came first, over every round-trip turn so far. */
  readonly firstBy: LiveRoundTrip["firstBy"];
  /** The mailbox-copy round trip and the EMSG-only scale figures, each into `out` as it finishes. */
  rest(out: EmsgFigures): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts both domains on `ports` (8827/8828) with a temporary store and sets up every account the
 * scenarios need. The Worker is bundled from the work tree once as they start; edits made during
 * the run do not reach the servers (Miniflare watches no files). A failure says what the servers
 * logged. Each domain counts the calls its Durable Objects get (EMSG_COUNT_CALLS); the last full
 * pass of each scenario is kept in `counted`.
 */
export async function startEmsg(plan: Plan, log: (line: string) => void, ports: readonly [number, number] = EMSG_PORTS, inspectorBase = 9329): Promise<EmsgServers> {
  for (const port of ports) {
    if (!(await portIsFree(port, "127.0.0.1"))) throw new Error(`127.0.0.1:${port} is taken; the EMSG half needs ports ${ports.join(" and ")}`);
  }
  process.env.EMSG_RATE = NO_RATE_LIMITS;
  process.env.EMSG_COUNT_CALLS = "1";
  const dir = mkdtempSync(join(stateRoot(), "emsg-bench-servers-"));
  log(`emsg: Durable Object storage in ${dir}`);
  // Imported when needed: it loads wrangler and Miniflare.
  const { startWorkerdDomains } = await import("../scripts/workerd-servers.mjs");
  const errors: string[] = [];
  const withServerOutput = <T>(work: Promise<T>): Promise<T> =>
    work.catch((error: unknown) => {
      const detail = errors.length ? `\nserver output:\n${errors.join("\n")}` : "";
      throw new Error(`${(error as Error).message}${detail}`);
    });
  let running: Awaited<ReturnType<typeof startWorkerdDomains>> | undefined;
  const stop = async () => {
    await running?.stopAll();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    running = await withServerOutput(
      startWorkerdDomains({
        domains: twoDomains(ports[0], inspectorBase),
        persistRoot: dir,
        onLine: (d, line) => {
          if (/\berror\b|exception|uncaught/i.test(line) && errors.length < 20) errors.push(`[${d.domain}] ${line}`);
        },
      }),
    );
    const world = await withServerOutput(setUp(plan, running.resolve, log));
    const counted = new Map<string, WorkloadCalls>();
    const countedPass = async (scenario: Scenario, messages: number, clock?: LoadOptions["clock"]): Promise<Pass> => {
      await takeCalls(world.resolve, DOMAINS);
      const pass = await sessionPass(scenario === "federated" ? world.federatedPairs : world.localPairs, world.mailboxes, plan, messages, clock);
      const domains = await takeCalls(world.resolve, DOMAINS);
      if (messages > 1) counted.set(scenario, { workload: `${scenario === "federated" ? "federated" : "same domain"}, one pass`, messages: pass.delivered, domains });
      return pass;
    };
    const firstBy = { session: 0, mailbox: 0 };
    // Each turn opens its ends first; the calls counted are the last turn's trips.
    const liveTurn = async (rounds: number): Promise<RoundTripTurn> => {
      const { sender: alice, receiver: bob, conversation } = world.federatedPairs[0]!;
      const mailboxes = new Map([
        [alice, await mailboxOf(world, alice)],
        [bob, await mailboxOf(world, bob)],
      ]);
      const live = await liveRoundTrip(...(await liveEnds(alice, bob, mailboxes, conversation, rounds, plan.messageBytes)));
      try {
        await takeCalls(world.resolve, DOMAINS);
        const turn = await roundTripTurn(live.there, live.back, rounds, plan.idleMs);
        const domains = await takeCalls(world.resolve, DOMAINS);
        counted.set("round trip", { workload: "round trip, sessions open, one turn", messages: 2 * turn.samples.length, domains });
        firstBy.session += live.firstBy.session;
        firstBy.mailbox += live.firstBy.mailbox;
        return turn;
      } finally {
        live.there.close();
        live.back.close();
      }
    };
    return {
      name: "emsg",
      firstBy,
      roundTrips: (rounds) => withServerOutput(liveTurn(rounds)),
      pass: (scenario, messages, clock) => withServerOutput(countedPass(scenario, messages, clock)),
      rest: (out) => {
        out.objectCalls = [...counted.values()];
        return withServerOutput(scaleScenarios(plan, world, ports, log, out));
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
