// The round trip as the client core lives it in an open conversation (PROTOCOL §10): both ends hold
// a session to the hub, which pushes each accepted entry to the other members' sessions at once;
// the same entry also reaches each mailbox (through federation for the other domain), and the
// device takes whichever copy comes first (shared/client/live-paths.ts), as counted here, and says
// `got` for what the session brought, so the hub spares its sole device's account the mailbox copy.
import { SessionLink } from "../shared/client/session-link.js";
import { type Mailbox, prepare, type Prepared, type SessionBenchLink, tagOf } from "./emsg-links.js";
import type { Person } from "./emsg-people.js";
import { type RoundTripResult, runRoundTrip } from "./load.js";

export interface LiveRoundTrip {
  there: SessionBenchLink;
  back: SessionBenchLink;
  /** Which copy of each delivered message came first. */
  firstBy: { session: number; mailbox: number };
}

interface End {
  person: Person;
  mailbox: Mailbox;
  /** What this end sends, and so what the other end is waiting for. */
  prepared: Prepared;
}

/** Session links for `a` → `b` and back, each message delivered once, on its first copy. */
export async function liveRoundTrip(a: End, b: End): Promise<LiveRoundTrip> {
  const firstBy = { session: 0, mailbox: 0 };
  const handlers = new Map<Person, (i: number) => void>();
  const seen = new Map<Person, Set<number>>([
    [a.person, new Set()],
    [b.person, new Set()],
  ]);
  /** A copy of `mls` reached `at`: the message the other end sent, if it is new there. */
  const arrived = (at: End, from: End, mls: string, path: keyof typeof firstBy) => {
    const i = from.prepared.index.get(tagOf(mls));
    const got = seen.get(at.person)!;
    if (i === undefined || got.has(i)) return;
    got.add(i);
    firstBy[path]++;
    handlers.get(at.person)?.(i);
  };
  const open = async (end: End, other: End) => {
    end.mailbox.onItem = (mls) => arrived(end, other, mls, "mailbox");
    let session: SessionLink | undefined;
    session = await SessionLink.open(end.person.ctx, end.prepared.conversation, {
      onItem: (item) => {
        if (item.type !== "application") return;
        arrived(end, other, item.mls, "session");
        // As the client does once it has stored the entry (this end keeps only what it counted): the hub may spare its mailbox copy.
        session?.stored(item.hubSeq);
      },
      onRtc: () => {},
      onClose: () => {},
    });
    return session;
  };
  const [sa, sb] = await Promise.all([open(a, b), open(b, a)]);
  const link = (sender: SessionLink, from: End, to: End): SessionBenchLink => ({
    send: async (i) => {
      if (!(await sender.submit(from.prepared.submits[i]!, Date.now()))) throw new Error("the session closed before the hub answered");
    },
    onDelivery: (handler) => void handlers.set(to.person, handler),
    close: () => sender.close(),
  });
  return { there: link(sa, a, b), back: link(sb, b, a), firstBy };
}

/** Each end's messages for a round trip of `rounds`, encrypted before the clock starts. */
export async function liveEnds(a: Person, b: Person, mailboxes: Map<Person, Mailbox>, conversation: string, rounds: number, bytes: number): Promise<[End, End]> {
  const ends: End[] = [];
  for (const person of [a, b]) ends.push({ person, mailbox: mailboxes.get(person)!, prepared: await prepare(person, conversation, rounds, bytes) });
  return [ends[0]!, ends[1]!];
}

/** `rounds` round trips between `a` and `b` over live ends opened for them and closed after. */
export async function liveTrips(a: Person, b: Person, mailboxes: Map<Person, Mailbox>, conversation: string, rounds: number, bytes: number, idleMs: number): Promise<RoundTripResult> {
  const pair = await liveRoundTrip(...(await liveEnds(a, b, mailboxes, conversation, rounds, bytes)));
  try {
    return await runRoundTrip(pair.there, pair.back, rounds, idleMs);
  } finally {
    pair.there.close();
    pair.back.close();
  }
}
