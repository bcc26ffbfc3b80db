// Calls per Durable Object kind during a benchmark workload, read from each domain's Worker
// (EMSG_COUNT_CALLS=1, worker/call-counts.ts), and the table BENCHMARKS.md shows them in: the
// check of docs/scale.md's model that no one object of a domain sees every request.
import type { Domain } from "../shared/address.js";
import type { BenchResults } from "./figures.js";
import { originFor, parseResolverMap } from "../shared/discovery.js";

/** As worker/call-counts.ts answers them, per kind of object. */
export interface KindCalls {
  kind: string;
  calls: number;
  objects: number;
  busiest: number;
}

/** One workload's counts on each domain, and the messages it delivered. */
export interface WorkloadCalls {
  workload: string;
  messages: number;
  domains: { domain: string; kinds: KindCalls[] }[];
}

const KIND_ORDER = ["Server", "Gate", "Account", "Conversation", "Outbox"];

/** Each domain's counts since the last reset, and starts them again from zero. */
export async function takeCalls(resolve: string, domains: readonly string[]): Promise<{ domain: string; kinds: KindCalls[] }[]> {
  const map = parseResolverMap(resolve);
  return Promise.all(
    domains.map(async (domain) => {
      const res = await fetch(`${originFor(domain as Domain, map)}/emsg/v1/_calls?reset=1`);
      if (!res.ok) throw new Error(`${domain} does not count calls (HTTP ${res.status}); its Worker needs EMSG_COUNT_CALLS=1`);
      const { calls } = (await res.json()) as { calls: KindCalls[] };
      return { domain, kinds: calls.sort((x, y) => KIND_ORDER.indexOf(x.kind) - KIND_ORDER.indexOf(y.kind)) };
    }),
  );
}

const per = (calls: number, messages: number) => (messages > 0 ? (calls / messages).toFixed(2) : "—");
const share = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(part === whole ? 0 : 1)}%` : "—");

/** One table row per workload, domain and kind: calls per message, objects touched, the busiest one's share. */
export function renderObjectCalls(workloads: WorkloadCalls[]): string {
  const lines = [
    "| workload | domain | object kind | calls | per message | objects called | busiest object: calls (share of the kind's) |",
    "| --- | --- | --- | ---: | ---: | ---: | ---: |",
  ];
  for (const w of workloads) {
    for (const d of w.domains) {
      for (const k of d.kinds) {
        lines.push(`| ${w.workload} (${w.messages} messages) | ${d.domain} | ${k.kind} | ${k.calls} | ${per(k.calls, w.messages)} | ${k.objects} | ${k.busiest} (${share(k.busiest, k.calls)}) |`);
      }
    }
  }
  return lines.join("\n");
}

/** How the round trip's two EMSG figures differ (bench/live-links.ts). */
export const LIVE_ROUND_TRIP =
  "Both EMSG clients hold a session to the hub (the sender's server; the receiver's session crosses domains), as the client core does while a conversation is open. " +
  "*First copy*: a message arrives with the first of its two copies to reach the receiver, the hub's push on the session or the mailbox's (through federation on the other domain), as the client core takes it (shared/client/live-paths.ts). " +
  "*Mailbox copy*: only the mailbox copy counts, as for a device without the conversation open.";

/** Which copy came first in the first-copy round trip, as a sentence. */
export function firstCopies(results: BenchResults): string {
  const live = results.emsg.figures?.liveRoundTrip;
  return live ? ` In this run's turns (the untimed one too) ${live.firstBy.session} messages came first by the session, ${live.firstBy.mailbox} by the mailbox.` : "";
}

/** BENCHMARKS.md's section of calls per object kind, checked against docs/scale.md. */
export function objectCallsSection(workloads: WorkloadCalls[] | undefined): string {
  const title = "## EMSG only: calls per Durable Object kind";
  if (!workloads?.length) return `${title}\n\nNot measured in this run (see above).`;
  return `${title}

Counted by each domain's Worker (\`EMSG_COUNT_CALLS=1\`, worker/call-counts.ts): every RPC call or fetch to an object, and every WebSocket frame an object reads, during the last full pass of each throughput scenario above (opening its senders' sessions included) and during the last turn of the first-copy round trip (its sessions open before the count starts). *Busiest object* is the one object of the kind that got the most: a share of 100% means one object saw all of that kind's calls, which is what docs/scale.md models for a domain of 1,000,000 accounts; the Server object should see none in steady traffic but a Worker isolate's once-a-minute refresh of its copy of the server's key.

${renderObjectCalls(workloads)}`;
}
