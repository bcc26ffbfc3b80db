// The EMSG half: two local domains, one workerd each (scripts/workerd-servers.mjs), the same
// scenarios as Prosody's, then the EMSG-only scale figures.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { twoDomains } from "../scripts/dev-servers.mjs";
import { type Mailbox, openMailbox, prepare, type SessionBenchLink, sessionLink } from "./emsg-links.js";
import { befriend, openConversation, type Person, register } from "./emsg-people.js";
import { measureIdleSockets, measureMailboxDrain } from "./emsg-scale.js";
import type { BenchResults } from "./figures.js";
import { type LoadOptions, runLoad, runRoundTrip } from "./load.js";
import type { Plan } from "./plan.js";
import { descendantsNamed, listenerOf, portIsFree } from "./processes.js";

export type EmsgFigures = NonNullable<BenchResults["emsg"]["figures"]>;

export const EMSG_PORTS = [8827, 8828] as const;
const ALICE = "im.alice.test";
const BOB = "im.bob.test";
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

/** Submissions a sender may have on its session socket before the hub's acks come back. */
export const SESSION_WINDOW = 32;

async function linksFor(pairs: Pair[], mailboxes: Map<Person, Mailbox>, count: number, plan: Plan): Promise<SessionBenchLink[]> {
  return inBatches(pairs, 10, async (p) => sessionLink(p.sender, mailboxes.get(p.receiver)!, await prepare(p.sender, p.conversation, count, plan.messageBytes)));
}

/** Runs `options` over fresh session links and closes them afterwards. */
async function overSessions(pairs: Pair[], mailboxes: Map<Person, Mailbox>, plan: Plan, count: number, options: LoadOptions) {
  const links = await linksFor(pairs, mailboxes, count, plan);
  try {
    return await runLoad(links, options);
  } finally {
    for (const link of links) link.close();
  }
}

/** One scenario: a warm-up message per pair, then the timed run, with ciphertexts made beforehand. */
async function measure(pairs: Pair[], mailboxes: Map<Person, Mailbox>, plan: Plan) {
  const warm = await overSessions(pairs, mailboxes, plan, 1, { messages: 1, window: 1, idleMs: plan.idleMs, deadlineMs: plan.deadlineMs });
  if (warm.lost > 0) throw new Error(`EMSG lost ${warm.lost} of ${warm.sent} warm-up messages${warm.firstError ? `: ${warm.firstError}` : ""}`);
  // Each sender streams its messages over its session socket, as a client flushing its queue would.
  return overSessions(pairs, mailboxes, plan, plan.messages, { messages: plan.messages, window: SESSION_WINDOW, idleMs: plan.idleMs, deadlineMs: plan.deadlineMs });
}

function workerdOn(port: number): number {
  const pid = listenerOf(port, descendantsNamed("workerd"));
  if (pid === undefined) throw new Error(`found no workerd listening on 127.0.0.1:${port}`);
  return pid;
}

/** Runs every scenario in turn, filling `out` as each finishes, so a later failure keeps the rest. */
async function scenarios(plan: Plan, resolve: string, log: (line: string) => void, out: EmsgFigures): Promise<void> {
  const n = plan.pairs;
  const names = (prefix: string, domain: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}#${domain}`);
  const idleOwners = Math.max(1, Math.ceil(plan.idleSockets / 500));
  log(`emsg: registering ${3 * n + idleOwners + 2} accounts`);
  const reg = (a: string) => register(a, resolve);
  const senders = await inBatches(names("s", ALICE, n), 5, reg);
  const remote = await inBatches(names("r", BOB, n), 5, reg);
  const local = await inBatches(names("q", ALICE, n), 5, reg);
  log("emsg: befriending and opening conversations");
  const federatedPairs = await makePairs(senders, remote);
  const localPairs = await makePairs(senders, local);

  const mailboxes = new Map<Person, Mailbox>();
  for (const p of [...remote, ...local]) mailboxes.set(p, await openMailbox(p));
  const federated = (out.federated = await measure(federatedPairs, mailboxes, plan));
  log(`emsg federated: ${federated.delivered}/${federated.sent} in ${Math.round(federated.elapsedMs)} ms`);
  const sameDomain = (out.sameDomain = await measure(localPairs, mailboxes, plan));
  log(`emsg same-domain: ${sameDomain.delivered}/${sameDomain.sent} in ${Math.round(sameDomain.elapsedMs)} ms`);

  const { sender: alice, receiver: bob, conversation } = federatedPairs[0]!;
  mailboxes.set(alice, await openMailbox(alice));
  // Both ends hold a session to the hub (alice's server): bob's socket crosses to the other domain.
  const there = await sessionLink(alice, mailboxes.get(bob)!, await prepare(alice, conversation, plan.roundTrips, plan.messageBytes));
  const back = await sessionLink(bob, mailboxes.get(alice)!, await prepare(bob, conversation, plan.roundTrips, plan.messageBytes));
  const roundTrip = (out.roundTrip = await runRoundTrip(there, back, plan.roundTrips, plan.idleMs));
  there.close();
  back.close();
  log(`emsg round trip: ${roundTrip.completed}/${roundTrip.rounds}`);
  for (const m of mailboxes.values()) m.close();

  // A pair of its own, so the drained mailbox holds nothing but the queued messages.
  const [drainFrom, drainTo] = [await reg(`drain-from#${ALICE}`), await reg(`drain-to#${BOB}`)];
  const [drainPair] = await makePairs([drainFrom], [drainTo]);
  log(`emsg: encrypting ${plan.mailboxMessages} messages for the offline mailbox`);
  const queued = await prepare(drainFrom, drainPair!.conversation, plan.mailboxMessages, plan.messageBytes);
  const mailboxDrain = (out.mailboxDrain = await measureMailboxDrain(drainFrom, drainTo, queued, plan.idleMs));
  log(`emsg mailbox drain: ${mailboxDrain.drained}/${mailboxDrain.queued} in ${Math.round(mailboxDrain.elapsedMs)} ms`);

  const owners = await inBatches(names("idle", ALICE, idleOwners), 5, reg);
  const idleSockets = (out.idleSockets = await measureIdleSockets(owners, plan.idleSockets, workerdOn(EMSG_PORTS[0]), descendantsNamed("workerd"), log));
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
 * Starts both domains on 8827/8828 with a temporary store, runs every EMSG scenario into `out`, and
 * stops them. The Worker is bundled from the work tree once as they start; edits made during the
 * run do not reach the servers (Miniflare watches no files).
 */
export async function runEmsgHalf(plan: Plan, log: (line: string) => void, out: EmsgFigures): Promise<void> {
  for (const port of EMSG_PORTS) {
    if (!(await portIsFree(port, "127.0.0.1"))) throw new Error(`127.0.0.1:${port} is taken; the EMSG half needs ports ${EMSG_PORTS.join(" and ")}`);
  }
  process.env.EMSG_RATE = NO_RATE_LIMITS;
  const dir = mkdtempSync(join(stateRoot(), "emsg-bench-servers-"));
  log(`emsg: Durable Object storage in ${dir}`);
  // Imported when needed: it loads wrangler and Miniflare.
  const { startWorkerdDomains } = await import("../scripts/workerd-servers.mjs");
  const errors: string[] = [];
  let running: Awaited<ReturnType<typeof startWorkerdDomains>> | undefined;
  try {
    running = await startWorkerdDomains({
      domains: twoDomains(EMSG_PORTS[0], 9329),
      persistRoot: dir,
      onLine: (d, line) => {
        if (/\berror\b|exception|uncaught/i.test(line) && errors.length < 20) errors.push(`[${d.domain}] ${line}`);
      },
    });
    await scenarios(plan, running.resolve, log, out);
  } catch (error) {
    const detail = errors.length ? `\nserver output:\n${errors.join("\n")}` : "";
    throw new Error(`${(error as Error).message}${detail}`);
  } finally {
    await running?.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}
