// EMSG-only limits: idle WebSockets one workerd holds, and how fast a full mailbox drains on reconnect.
import { openMailboxSocket } from "../shared/client/mailbox-sync.js";
import type { SocketLike } from "../shared/client/transport.js";
import { MailboxPageSchema } from "../shared/wire/mail.js";
import { openMailbox, type Prepared, submitAll, tagOf } from "./emsg-links.js";
import type { Person } from "./emsg-people.js";
import type { IdleSocketFigures, MailboxDrainFigures } from "./figures.js";
import { openFileLimits, openFiles, residentBytes, sleep } from "./processes.js";
import { ratePerSecond } from "./stats.js";

const OPEN_TIMEOUT_MS = 15_000;

function opened(socket: SocketLike, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.onopen = () => {
      clearTimeout(timer);
      resolve(true);
    };
    socket.onerror = () => {
      clearTimeout(timer);
      resolve(false);
    };
  });
}

/** Descriptors kept free in the listening workerd: past this, stop opening rather than crash it. */
const FD_HEADROOM = 1000;

/**
 * Opens `target` mailbox sockets spread over `owners` (accounts with empty mailboxes, so each socket
 * stays idle), waits, counts how many are still open, and reads the workerds' resident memory.
 * `listener` is the domain's one workerd, which runs the Worker on the domain's port and holds two
 * descriptors per WebSocket; the run stops short of its open-file limit instead of letting the
 * runtime crash and drop every socket. `workerds` are the run's runtime processes (one per
 * domain) whose memory is summed.
 */
export async function measureIdleSockets(
  owners: readonly Person[],
  target: number,
  listener: number,
  workerds: readonly number[],
  log: (line: string) => void,
): Promise<IdleSocketFigures> {
  const memory = () => workerds.reduce((sum, pid) => sum + residentBytes(pid), 0);
  const before = memory();
  const fdLimit = openFileLimits(listener).soft;
  const sockets: SocketLike[] = [];
  const closed = new Set<SocketLike>();
  let next = 0;
  let failed = 0;
  let stoppedAtLimit = false;
  const opener = async () => {
    while (next < target) {
      const owner = owners[next++ % owners.length]!;
      if (next % 64 === 0 && openFiles(listener) > fdLimit - FD_HEADROOM) {
        stoppedAtLimit = true;
        next = target;
        break;
      }
      try {
        // A server at its limit may never answer the ticket request: that counts as a failure too.
        const socket = await Promise.race([
          openMailboxSocket(owner.ctx),
          sleep(OPEN_TIMEOUT_MS).then(() => Promise.reject(new Error("no ticket"))),
        ]);
        if (!(await opened(socket, OPEN_TIMEOUT_MS))) throw new Error("did not open");
        socket.onclose = () => closed.add(socket);
        socket.onerror = () => {};
        socket.onmessage = () => {};
        sockets.push(socket);
        if (sockets.length % 1000 === 0) log(`emsg idle sockets: ${sockets.length} open`);
      } catch (error) {
        if (failed === 0) log(`emsg idle sockets: first failure: ${(error as Error).message}`);
        failed++;
        // Past this many failures the server has reached its limit; more attempts only measure retries.
        if (failed > Math.max(64, target / 100)) next = target;
      }
    }
  };
  await Promise.all(Array.from({ length: 32 }, opener));
  if (stoppedAtLimit) log(`emsg idle sockets: stopped at ${sockets.length}, near the listening workerd's open-file limit (${fdLimit})`);
  await sleep(3000);
  const after = memory();
  const stillOpen = sockets.filter((s) => !closed.has(s)).length;
  log(`emsg idle sockets: ${sockets.length} opened, ${failed} failed, ${stillOpen} still open after 3 s`);
  for (const s of sockets) s.close(1000, "bench done");
  await sleep(1000);
  return {
    target,
    opened: stillOpen,
    workerdRssBeforeBytes: before,
    workerdRssAfterBytes: after,
    ...(stoppedAtLimit ? { openFileLimit: fdLimit } : {}),
  };
}

/** Counts `prepared`'s messages waiting in `receiver`'s mailbox until all `count` are there. */
async function waitQueued(receiver: Person, prepared: Prepared, count: number, timeoutMs: number): Promise<void> {
  let after = 0;
  let seen = 0;
  const deadline = Date.now() + timeoutMs;
  while (seen < count) {
    if (Date.now() > deadline) throw new Error(`only ${seen} of ${count} messages reached the offline mailbox within ${timeoutMs / 1000} s`);
    const page = await receiver.ctx.api.call("GET", `/mailbox?after=${after}&limit=200`, undefined, MailboxPageSchema);
    for (const item of page.items) {
      after = Math.max(after, item.seq);
      if (item.kind === "conv" && prepared.index.has(tagOf(item.mls))) seen++;
    }
    if (!page.more) await sleep(200);
  }
}

/**
 * Queues `prepared` for an offline `receiver`, then times its reconnect: ticket, socket, and every
 * queued message received and acknowledged.
 */
export async function measureMailboxDrain(sender: Person, receiver: Person, prepared: Prepared, idleMs: number): Promise<MailboxDrainFigures> {
  const count = prepared.submits.length;
  await submitAll(sender, prepared, 16);
  await waitQueued(receiver, prepared, count, 600_000);

  const got = new Set<number>();
  let lastAt = 0;
  const t0 = performance.now();
  const mailbox = await openMailbox(receiver, (mls) => {
    const i = prepared.index.get(tagOf(mls));
    if (i !== undefined && !got.has(i)) {
      got.add(i);
      lastAt = performance.now();
    }
  });
  while (got.size < count && performance.now() - Math.max(lastAt, t0) < idleMs) await sleep(20);
  mailbox.close();
  const elapsedMs = (lastAt || performance.now()) - t0;
  return { queued: count, drained: got.size, elapsedMs, msgsPerSec: ratePerSecond(got.size, elapsedMs) };
}
