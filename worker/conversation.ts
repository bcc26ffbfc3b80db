import { DurableObject } from "cloudflare:workers";
import type { Address } from "../shared/address.js";
import { EmsgError } from "../shared/errors.js";
import type { ConversationView, ConvPayload, SignedSessionTicket } from "../shared/wire/index.js";
import type { ConversationRef, Rejoin, Veto } from "../shared/wire/conversation.js";
import type { AuthorEvidence } from "../shared/wire/federation.js";
import { fromB64u } from "../shared/base64url.js";
import type { Env } from "./env.js";
import { attempt, attemptNow, type Outcome } from "./outcome.js";
import { migrate } from "./sql-schema.js";
import { judgeSubmit, recipientsOf, welcomeRecipients } from "./policy/epoch.js";
import { COMMITS_KEPT, judgeVeto, type RecentCommit, VETO_WINDOW_MS } from "./policy/veto.js";
import { judgeRejoin, REJOIN_WINDOW_MS } from "./policy/rejoin.js";
import { checkFraming, type FramedSubmit } from "./policy/framing.js";
import { deliverLocal, deliverToPeers, type Delivery, type Lane, LANES } from "./fan-out.js";
import { Sessions, SESSION_IDLE_MS, type SessionTag } from "./sessions.js";
import { checkSessionTicket } from "./session-ticket.js";
import { countCall } from "./call-counts.js";
import { StoredCopies } from "./stored-copies.js";
import { isLocal } from "./routing.js";

export const LOG_RETENTION_MS = 30 * 86400_000;
/** A fan-out that failed is tried again this much later. */
const REFAN_DELAY_MS = 1000;
/** Should this object stop in the middle of a fan-out, its alarm takes it up again this much later. */
const FAN_SAFETY_MS = 30_000;
/** Log entries handed on in one fan-out round. */
const FAN_BATCH = 200;
/**
 * Accepted entries not yet handed on past which the next accept round waits for the fan-out
 * (at most FAN_WAIT_MS): acks then slow down senders to the pace the entries leave at, instead
 * of taking more than can be delivered and letting intake starve the fan-out of the CPU. Set for
 * senders that keep a window of 64 unanswered (the client core's): under two windows. While a
 * burst is taken the fan-out's requests to peers hardly leave: the peer had a request's headers
 * at once and its 61 KB body ~155 ms later (time-stamped pass, 50 senders), each socket write of it
 * waiting its turn behind the frames queued on the domain's one thread. Yet one window (64) or
 * 176 delivered no more than 112 (12 rounds taking turns: 16,417 and 16,617 against 16,954 msgs/s).
 */
const FAN_BACKLOG = 112;
const FAN_WAIT_MS = 1000;
/**
 * How long where both lanes got may wait for the next log write to carry it (see fannedUnwritten)
 * once the fan-out stops: a write of its own is a transaction's first write, the costly one.
 */
const FANNED_WRITE_MS = 1000;
/** Entries kept in memory for the fan-out at most. */
const FAN_MEMORY = 2000;
/**
 * Bytes of a session's submission frames taken and not yet answered, at most (PROTOCOL §10): past
 * it, a frame's submissions are refused `rate_limited`. While the hub holds its acks (FAN_BACKLOG)
 * whatever comes meanwhile waits in memory, and a member could otherwise send frames without end
 * then. A client keeps 64 submissions unanswered, tens of KB, or one large commit.
 */
const SESSION_UNANSWERED_BYTES = 4 * 1024 * 1024;
/** The same for all of a hub's sessions together: a member may open many sessions, one ticket each. */
const HUB_UNANSWERED_BYTES = 16 * 1024 * 1024;
/**
 * How long the local lane keeps pace with a round in flight to other domains (see keepPace): a
 * peer that answers within it sees the hub's local and remote work of a round in one burst, as
 * before the lanes; one slower, or down, holds local members back by this much at most.
 */
const LOCAL_PACE_MS = 200;

const STEPS = [
  `CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), ref TEXT NOT NULL, creator TEXT NOT NULL,
     epoch INTEGER NOT NULL, created INTEGER NOT NULL);
   CREATE TABLE members (address TEXT PRIMARY KEY, since INTEGER NOT NULL);
   CREATE TABLE log (seq INTEGER PRIMARY KEY AUTOINCREMENT, submit_id TEXT NOT NULL UNIQUE, at INTEGER NOT NULL,
     sender TEXT NOT NULL, device_id TEXT NOT NULL, epoch INTEGER NOT NULL, type TEXT NOT NULL, mls TEXT NOT NULL,
     welcome TEXT, members TEXT, recipients TEXT NOT NULL, welcome_to TEXT NOT NULL, fanned INTEGER NOT NULL DEFAULT 0);
   CREATE INDEX log_unfanned ON log(fanned, seq);`,
  // Fan-out goes in seq order, so how far it got is one number, not a flag (and index) per entry.
  `ALTER TABLE meta ADD COLUMN fanned_through INTEGER NOT NULL DEFAULT 0;
   UPDATE meta SET fanned_through = COALESCE((SELECT MIN(seq) - 1 FROM log WHERE fanned = 0), (SELECT MAX(seq) FROM log), 0);
   DROP INDEX log_unfanned;
   ALTER TABLE log DROP COLUMN fanned;`,
  // The evidence of an author off this domain, passed on with the entry (PROTOCOL §9).
  "ALTER TABLE log ADD COLUMN author_proof TEXT",
  // What a veto withdraws and puts back (PROTOCOL §8, Vetoes): the latest commit, with the members
  // before and after it; the epoch a withdrawal left; each device's accepted vetoes, for its limit.
  `CREATE TABLE last_commit (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, submit_id TEXT NOT NULL, sender TEXT NOT NULL,
     device_id TEXT NOT NULL, epoch INTEGER NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL);
   CREATE TABLE vetoes (address TEXT NOT NULL, device_id TEXT NOT NULL, at INTEGER NOT NULL);
   ALTER TABLE meta ADD COLUMN withdrawn_epoch INTEGER;
   ALTER TABLE log ADD COLUMN withdraws TEXT;`,
  // A veto may name one of the latest commits, not only the last (PROTOCOL §8, Vetoes): the table
  // of the step before, which held the last one, is replaced the same day (steps are append-only).
  `DROP TABLE last_commit;
   CREATE TABLE recent_commits (seq INTEGER PRIMARY KEY, submit_id TEXT NOT NULL, sender TEXT NOT NULL, device_id TEXT NOT NULL,
     epoch INTEGER NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL);`,
  // Each account's asks to be let back in (PROTOCOL §8, Rejoining), for its limit.
  "CREATE TABLE rejoins (address TEXT NOT NULL, device_id TEXT NOT NULL, at INTEGER NOT NULL)",
  // The session tickets that opened a session here, until they expire: each opens one (PROTOCOL §10).
  "CREATE TABLE used_tickets (sig TEXT PRIMARY KEY, exp INTEGER NOT NULL)",
  // The log as runs: what one accept round orders is one row (its entries at first..last, keyed by
  // the last), and the ids, for retries, a table of their own. A row per entry, with the UNIQUE
  // index of its random id, was a fifth of a hub's CPU a message. Old entries become runs of one.
  `CREATE TABLE runs (last INTEGER PRIMARY KEY, first INTEGER NOT NULL, at INTEGER NOT NULL, entries TEXT NOT NULL, withdraws TEXT);
   CREATE TABLE submit_ids (id TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
   INSERT INTO runs (last, first, at, entries, withdraws)
     SELECT seq, seq, at, json_array(json_array(submit_id, at, sender, device_id, epoch, type, mls, welcome, members, recipients, welcome_to, author_proof, withdraws)), withdraws
     FROM log;
   INSERT INTO submit_ids (id, seq) SELECT submit_id, seq FROM log;
   DROP TABLE log;`,
  // Who sent an id, and what it was, beside it: a retry is answered without parsing its run (up to
  // RUN_TEXT_MAX of JSON), which a member could otherwise make the hub do 64 times a frame.
  `ALTER TABLE submit_ids ADD COLUMN sender TEXT NOT NULL DEFAULT '';
   ALTER TABLE submit_ids ADD COLUMN type TEXT NOT NULL DEFAULT '';
   UPDATE submit_ids SET (sender, type) = (
     SELECT json_extract(entries, '$[' || (submit_ids.seq - first) || '][2]'), json_extract(entries, '$[' || (submit_ids.seq - first) || '][5]')
     FROM runs WHERE last >= submit_ids.seq ORDER BY last LIMIT 1);`,
  // The ids of the latest entries, appended in seq order, move to submit_ids RECENT_IDS_MAX at a
  // time, sorted: an id inserted at a random place of submit_ids each made a round write a page of
  // it per entry, a fifth of a hub's CPU a message. A repeat's answer (PROTOCOL §6) is unchanged.
  "CREATE TABLE recent_ids (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, sender TEXT NOT NULL, type TEXT NOT NULL)",
  // The latest ids in their run's row instead (a row written per id cost ~3 µs of it): a run's ids
  // past ids_through are not in submit_ids yet. Those kept in recent_ids move there now.
  `ALTER TABLE runs ADD COLUMN ids TEXT;
   ALTER TABLE meta ADD COLUMN ids_through INTEGER NOT NULL DEFAULT 0;
   INSERT INTO submit_ids (id, seq, sender, type) SELECT id, seq, sender, type FROM recent_ids WHERE true ON CONFLICT (id) DO NOTHING;
   DROP TABLE recent_ids;
   UPDATE meta SET ids_through = MAX(fanned_through, COALESCE((SELECT MAX(last) FROM runs), 0));`,
];
/**
 * The ids of the runs past ids_through (kept in memory, see recentIds) move to submit_ids once the
 * hub is quiet for IDS_MOVE_QUIET_MS when RECENT_IDS_MAX wait, at once when RECENT_IDS_HARD_MAX do.
 * A move of 1,000 costs ~3.7 ms of the domain's thread (workerd, measured in a profile: the ids'
 * JSON read back field by field, sorted and inserted), which every hub of a burst paid at once.
 */
export const RECENT_IDS_MAX = 1000;
export const RECENT_IDS_HARD_MAX = 4000;
const IDS_MOVE_QUIET_MS = 500;

/** A log entry as a run row keeps it: submit_id, at, sender, device_id, epoch, type, mls, welcome, members, recipients, welcome_to, author_proof, withdraws. */
type EntryTuple = [string, number, string, string, number, string, string, string | null, string | null, string, string, string | null, string | null];
/** A run's text at most (a few entries of the largest size): SQLite's values have a size limit. */
const RUN_TEXT_MAX = 1_000_000;

type MetaRow = { ref: string; creator: string; epoch: number; fanned_through: number; withdrawn_epoch: number | null };
type Judgement = ReturnType<typeof judgeSubmit>;
type Accepted = { seq: number; fresh: boolean };
/** A submission, or a veto of the latest commit (PROTOCOL §8, Vetoes) or an ask to rejoin (§8, Rejoining), which are ordered like one. */
type Submission = { from: Address; deviceId: string; now: number; fromPeer: boolean; evidence?: AuthorEvidence | undefined } & (
  | { submit: FramedSubmit; veto?: undefined; rejoin?: undefined }
  | { veto: Veto; submit?: undefined; rejoin?: undefined }
  | { rejoin: Rejoin; submit?: undefined; veto?: undefined }
);
type Pending = Submission & { done: (outcome: Outcome<Accepted>) => void };
type LogRow = {
  seq: number;
  submit_id: string;
  at: number;
  sender: string;
  device_id: string;
  epoch: number;
  type: string;
  mls: string;
  welcome: string | null;
  members: string | null;
  recipients: string;
  welcome_to: string;
  /** JSON of the AuthorEvidence the entry came with, if any. */
  author_proof: string | null;
  /** A `withdrawn` entry's JSON `[{ id, hubSeq }]` of the commits it withdrew, oldest first. */
  withdraws?: string | null;
  /** Not stored: the submitting device sent it here itself and got its seq (see Delivery). */
  answered?: boolean;
  /** Not stored: what the entry becomes for the fan-out (see fannedOf), made once for its push and both lanes. */
  fanned?: Fanned;
};
/**
 * A log entry's payload, recipients and author evidence as parsed once, and its welcome's delivery
 * if any; `others`, once needed, its recipients but its author (see ownCopyNeeded).
 */
type Fanned = { payload: ConvPayload; to: Address[]; evidence?: AuthorEvidence; welcome?: Delivery; others?: Address[] };
type Entry = Omit<LogRow, "seq">;

/**
 * One conversation hosted here (its hub): membership, epoch, the ordered log, and fan-out of
 * every accepted entry to the members' mailboxes, local or through the Outbox of their domain.
 */
export class ConversationObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly sessions: Sessions;
  /** Submissions waiting for the next accept round; one round is one SQLite commit. */
  private intake: Pending[] = [];
  private accepting: Promise<void> | null = null;
  /** When the alarm is known to be set for, while this instance lives; undefined when unknown. */
  private alarmAt: number | undefined;
  /** Both lanes' runs (see fanOut), while either goes. */
  private fanning: Promise<void> | null = null;
  /**
   * Each lane of the fan-out (see Lane): how far it got while this instance lives, whether a run
   * is going, and that run. meta's fanned_through is the lesser of the two positions.
   */
  private readonly lanes: Record<Lane, { through?: number; running: boolean; run?: Promise<void> }> = { local: { running: false }, remote: { running: false } };
  /** The round the remote lane has in flight, and since when (see keepPace). */
  private remoteRound: { settled: Promise<unknown>; since: number } | undefined;
  /** Entries accepted by this instance and not yet handed on, in seq order: fanned without reading them back. */
  private toFan: LogRow[] = [];
  /** The ids of the runs not yet moved to submit_ids, once read (see recentIds). */
  private recent: Map<string, number> | undefined;
  /** The log's last seq, once read (see logEnd): new runs follow it, and a lane past it has nothing to read. */
  private end: number | undefined;
  /** Submitters waiting until their entry is fanned out. */
  private waiters: { seq: number; release: () => void }[] = [];
  /**
   * The meta row and members as last read: this object is their only writer, and drops this
   * before each write, so every submission does not read them again.
   */
  private known: { meta: MetaRow; members: Address[] } | undefined;
  /** The members array (known's, replaced, never changed, on each write) and its recipients' JSON (see membersJson). */
  private recipientsText: { of: Address[]; json: string } | undefined;
  /**
   * The recipients' JSON last parsed (see fannedOf), and, by author, those recipients but the
   * author (Fanned.others): the entries of a round mostly share both, and nothing changes them.
   */
  private recipientsParsed: { json: string; to: Address[]; others: Map<string, Address[]> } | undefined;
  /**
   * Where both lanes got (see bothFanned) while that is not written yet: it is written with the next
   * log write, in its transaction, or FANNED_WRITE_MS after the fan-out stopped (fannedTimer). A
   * busy conversation's next round comes sooner, so one commit a round does for both. A restart
   * before the write hands the entries after the written position on again, which receivers take
   * once (PROTOCOL §6: an entry's hubSeq), as after a stop between a hand-over and its write before.
   */
  private fannedUnwritten: number | undefined;
  private fannedTimer: ReturnType<typeof setTimeout> | undefined;
  /** The move of recent ids waiting for a quiet moment (see RECENT_IDS_MAX), and when the log was last written. */
  private idsMoveTimer: ReturnType<typeof setTimeout> | undefined;
  private lastInsertAt = 0;
  /** Whether this object has tables yet, i.e. `create` ran here once. */
  private schema: boolean;
  /**
   * Authors whose account (or, for one on another domain, its server: PROTOCOL §7) said, in
   * answer to a fan-out, that it has one device, and the epoch then. An application message
   * that device submitted here and was answered for goes to no mailbox of its account
   * (PROTOCOL §6), so while the epoch holds, the account is left
   * out of its fan-out. A device added to the account takes part only after a commit adding it,
   * which moves the epoch on, so a device the hub does not know of yet cannot miss anything.
   */
  private soleDevices = new Map<Address, { deviceId: string; epoch: number }>();
  /** What sole devices said over their sessions they stored (`got`, PROTOCOL §10): their accounts' copies are spared. */
  private readonly stored = new StoredCopies();
  /** Each session's bytes of submission frames taken and not yet answered (see SESSION_UNANSWERED_BYTES), and all sessions' together. */
  private readonly unanswered = new WeakMap<WebSocket, number>();
  private unansweredTotal = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // Storage is made by `create` only: a request naming a made-up conversation leaves nothing behind (issue 14).
    this.schema = this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").toArray().length > 0;
    if (this.schema) migrate(this.sql, STEPS);
    this.sessions = new Sessions(ctx);
  }

  private meta(): MetaRow {
    if (this.known) return this.known.meta;
    const row = this.schema ? this.sql.exec<MetaRow>("SELECT ref, creator, epoch, fanned_through, withdrawn_epoch FROM meta").toArray()[0] : undefined;
    if (!row) throw new EmsgError("not_found", "No such conversation here.");
    if (this.fannedUnwritten !== undefined) row.fanned_through = Math.max(row.fanned_through, this.fannedUnwritten);
    this.known = { meta: row, members: this.readMembers() };
    return row;
  }

  /** Whether this conversation was created here; asks storage only while its meta is not in memory. */
  private hosted(): boolean {
    return this.known !== undefined || (this.schema && this.sql.exec("SELECT 1 FROM meta").toArray().length > 0);
  }

  private members(): Address[] {
    return this.known?.members ?? this.readMembers();
  }

  private readMembers(): Address[] {
    return this.sql.exec<{ address: string }>("SELECT address FROM members ORDER BY since, address").toArray().map((r) => r.address as Address);
  }

  async create(ref: ConversationRef, creator: Address, members: Address[], now: number): Promise<Outcome<null>> {
    return attempt(() => {
      if (this.hosted()) throw new EmsgError("conflict", "That conversation id is taken.");
      this.known = undefined;
      if (!this.schema) migrate(this.sql, STEPS);
      this.schema = true;
      this.ctx.storage.transactionSync(() => {
        this.sql.exec("INSERT INTO meta (id, ref, creator, epoch, created) VALUES (1, ?, ?, 0, ?)", ref, creator, now);
        for (const m of new Set([creator, ...members])) this.sql.exec("INSERT INTO members (address, since) VALUES (?, ?)", m, now);
      });
      return null;
    });
  }

  async view(requester: Address): Promise<Outcome<ConversationView>> {
    return attempt(() => {
      const meta = this.meta();
      const members = this.members();
      if (!members.includes(requester)) throw new EmsgError("forbidden", "Only members may see a conversation.");
      return { conversation: meta.ref as ConversationRef, members, epoch: meta.epoch, lastSeq: this.logEnd() };
    });
  }

  /**
   * Orders one submission (idempotent on its id); answers once it is fanned out, or at once when
   * `untilFanned` is false: a peer's submission must not wait for our deliveries to that peer,
   * which may wait for its answer to us.
   */
  async submit(from: Address, deviceId: string, submit: FramedSubmit, now: number, untilFanned = true, evidence?: AuthorEvidence): Promise<Outcome<{ seq: number }>> {
    const accepted = await this.take({ from, deviceId, submit, now, fromPeer: !untilFanned, evidence });
    if (!accepted.ok) return accepted;
    if (accepted.value.fresh && untilFanned) await this.fannedOut(accepted.value.seq);
    return { ok: true, value: { seq: accepted.value.seq } };
  }

  /**
   * Queues a submission for the next accept round. A round starts once the current event's work
   * is done (a microtask) when none is running, so a frame's burst of submissions is ordered
   * together and shares one commit; what arrives while a round runs or waits for the fan-out
   * goes in the next. A timer's turn (setTimeout 0) would also gather the frames of other
   * events, but costs about a millisecond in workerd: measured, most of a message's way through a
   * local hub (delivery 2.25 → 0.84 ms one at a time), for no throughput under load.
   */
  private take(p: Submission): Promise<Outcome<Accepted>> {
    return new Promise((done) => {
      this.intake.push({ ...p, done });
      if (!this.accepting) this.accepting = Promise.resolve().then(() => this.acceptRounds());
    });
  }

  private async acceptRounds(): Promise<void> {
    try {
      while (this.intake.length > 0) {
        // A peer's submission never waits: the fan-out may be waiting for that peer's answer.
        if (this.toFan.length >= FAN_BACKLOG && this.fanning && !this.intake.some((p) => p.fromPeer)) {
          // The timer is cleared once the fan-out wins: left running, each round's fired a second later, a wake-up for nothing.
          let timer: ReturnType<typeof setTimeout> | null = null;
          await Promise.race([this.fanning, new Promise((r) => (timer = setTimeout(r, FAN_WAIT_MS)))]);
          clearTimeout(timer);
        }
        await this.acceptRound();
      }
    } finally {
      this.accepting = null;
    }
  }

  private async acceptRound(): Promise<void> {
    const round = this.intake;
    this.intake = [];
    const outcomes = this.acceptAll(round);
    const rows = outcomes.flatMap((o) => (o.ok && o.value.row ? [o.value.row] : []));
    if (rows.length > 0) {
      // A fan-out failing for long (retried by the alarm) leaves the backlog to the log, not to memory.
      this.toFan = this.toFan.length + rows.length > FAN_MEMORY ? [] : this.toFan.concat(rows);
      this.notePushed(rows, this.sessions.push(this.deliveriesOf(rows), this.members()));
      // Should this object stop before the fan-out finishes, the alarm takes it up again.
      await this.scheduleAlarm(Date.now() + FAN_SAFETY_MS);
      void this.fanOut();
    }
    round.forEach((p, i) => p.done(outcomes[i]!));
  }

  /**
   * Orders a round's submissions, in order. Whatever is not a commit changes nothing but the log,
   * so a run of them is judged one by one and inserted by one statement (a statement's own cost
   * was most of a row's); a commit, which also rewrites the epoch and members, goes on its own,
   * after the run before it.
   */
  private acceptAll(round: Pending[]): Outcome<Accepted & { row?: LogRow }>[] {
    const outcomes: Outcome<Accepted & { row?: LogRow }>[] = [];
    let run: { index: number; entry: Entry; p: Pending }[] = [];
    const insertRun = () => {
      if (run.length === 0) return;
      // An id twice in one run is inserted once; the second is then answered as a retry.
      const unique = new Map<string, Entry>();
      for (const { entry } of run) if (!unique.has(entry.submit_id)) unique.set(entry.submit_id, entry);
      let seqs: Map<string, number>;
      try {
        // One transaction: a run row that fails must not leave its ids taken, or their retries are refused.
        seqs = this.transaction(() => this.insertLog([...unique.values()]));
      } catch {
        const failed = new EmsgError("unavailable", "The submission could not be stored; send it again.").toJSON();
        for (const { index } of run) outcomes[index] = { ok: false, error: failed };
        run = [];
        return;
      }
      for (const { index, entry, p } of run) {
        outcomes[index] = attemptNow(() => {
          const seq = seqs.get(entry.submit_id);
          seqs.delete(entry.submit_id);
          return this.accepted(seq, entry, p);
        });
      }
      run = [];
    };
    round.forEach((p, index) => {
      if (p.veto !== undefined) {
        insertRun();
        outcomes[index] = attemptNow(() => this.acceptVeto(p.from, p.deviceId, p.veto, p.now));
        return;
      }
      if (p.rejoin !== undefined) {
        insertRun();
        outcomes[index] = attemptNow(() => this.acceptRejoin(p.from, p.deviceId, p.rejoin, p.now));
        return;
      }
      if (p.submit.kind === "commit") {
        insertRun();
        outcomes[index] = attemptNow(() => this.acceptCommit(p));
        return;
      }
      const judged = attemptNow(() => this.judge(p));
      if (!judged.ok) outcomes[index] = judged;
      else if ("again" in judged.value) outcomes[index] = { ok: true, value: judged.value.again };
      else run.push({ index, entry: judged.value.entry, p });
    });
    insertRun();
    return outcomes;
  }

  /** A commit: judged, then inserted with the epoch and members it sets, in one transaction. */
  private acceptCommit(p: Pending & { submit: FramedSubmit }): Accepted & { row?: LogRow } {
    const judged = this.judge(p);
    if ("again" in judged) return judged.again;
    const { entry, next } = judged;
    const before = this.members();
    const seq = this.transaction(() => {
      this.known = undefined;
      this.sql.exec("UPDATE meta SET epoch = ?", next.epoch);
      this.sql.exec("DELETE FROM members");
      for (const m of next.members) this.sql.exec("INSERT INTO members (address, since) VALUES (?, ?)", m, p.now);
      const inserted = this.insertLog([entry]).get(entry.submit_id);
      // Its id in the log already (the lookup in judge missed it): nothing of it may stay.
      if (inserted === undefined) throw new EmsgError("conflict", "That submission id is taken.");
      this.sql.exec(
        "INSERT INTO recent_commits (seq, submit_id, sender, device_id, epoch, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)",
        inserted, entry.submit_id, p.from, p.deviceId, entry.epoch, JSON.stringify(before), JSON.stringify(next.members),
      );
      this.sql.exec("DELETE FROM recent_commits WHERE seq NOT IN (SELECT seq FROM recent_commits ORDER BY seq DESC LIMIT ?)", COMMITS_KEPT);
      return inserted;
    });
    return this.accepted(seq, entry, p);
  }

  /**
   * Judges one submission against the epoch and members: the log entry it makes, or the first
   * answer when it is a retry. A commit is looked up first; anything else only when refused
   * (a retry of what was ordered before the epoch moved on gets its first answer, not stale_epoch).
   */
  private judge({ from, deviceId, submit, now, evidence }: Pending & { submit: FramedSubmit }): { again: Accepted } | { entry: Entry; next: Judgement } {
    const meta = this.meta();
    const changed = submit.kind === "commit";
    if (changed) {
      const again = this.retried(submit.id, from);
      if (again) return { again };
    }
    const before = this.members();
    let next: Judgement;
    try {
      next = judgeSubmit({ epoch: meta.epoch, members: before, withdrawn: meta.withdrawn_epoch ?? undefined }, from, submit);
    } catch (error) {
      const again = this.retried(submit.id, from);
      if (again) return { again };
      throw error;
    }
    const entry: Entry = {
      submit_id: submit.id,
      at: now,
      sender: from,
      device_id: deviceId,
      epoch: submit.epoch,
      type: submit.kind,
      mls: submit.mls,
      welcome: submit.welcome ?? null,
      members: changed ? JSON.stringify(next.members) : null,
      recipients: next.members === before ? this.membersJson(before) : JSON.stringify(recipientsOf(before, next.members)),
      welcome_to: submit.welcome ? JSON.stringify(welcomeRecipients(next.members, submit)) : "[]",
      author_proof: evidence ? JSON.stringify(evidence) : null,
    };
    return { entry, next };
  }

  /** An entry's recipients when it changes no members (recipientsOf of them twice): one JSON text while they stay. */
  private membersJson(members: Address[]): string {
    if (this.recipientsText?.of !== members) this.recipientsText = { of: members, json: JSON.stringify(recipientsOf(members, members)) };
    return this.recipientsText.json;
  }

  /**
   * A veto of one of the latest commits (PROTOCOL §8, Vetoes), judged by judgeVeto: it and the
   * commits after it are withdrawn, the epoch and members go back to what they were before it, the
   * commits kept before it are forgotten (a group is rewound once, never further), and a `withdrawn`
   * entry tells everyone they reached. What was ordered at their epochs since stays in the log; its
   * senders send it again. A repeat of an accepted veto, or a veto of a commit another one withdrew
   * already, gets that withdrawal's position.
   */
  private acceptVeto(from: Address, deviceId: string, veto: Veto, now: number): Accepted & { row?: LogRow } {
    this.meta();
    // Before any repeat's answer: whose veto it is not learns nothing of the log (judgeVeto says the rest).
    if (!this.members().includes(from)) throw new EmsgError("forbidden", "Only an account that was a member before the commit and still is can veto it.");
    const again = this.withdrawal("submit_id", veto.id, from) ?? this.withdrawal("withdraws", veto.hubSeq);
    if (again) return again;
    const since = now - VETO_WINDOW_MS;
    // Counted by account: a device id is its server's word for a remote member, and an account can link more devices.
    const vetoes = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM vetoes WHERE address = ? AND at > ?", from, since).one().n;
    const current = this.members();
    const run = judgeVeto(this.recentCommits(), current, from, deviceId, veto, vetoes);
    const { epoch, before } = run[0]!;
    // Whom the run removed comes back; an account deleted since (gone from the members otherwise) does not.
    const removed = new Set(run.flatMap((c) => c.before.filter((m) => !c.after.includes(m))));
    const restored = before.filter((m) => current.includes(m) || removed.has(m));
    const reached = [...new Set([...before, ...run.flatMap((c) => c.after)])];
    const entry: Entry = {
      submit_id: veto.id,
      at: now,
      sender: from,
      device_id: deviceId,
      epoch,
      type: "withdrawn",
      mls: "",
      welcome: null,
      members: JSON.stringify(restored),
      recipients: JSON.stringify(reached),
      welcome_to: "[]",
      author_proof: null,
      withdraws: JSON.stringify(run.map((c) => ({ id: c.id, hubSeq: c.seq }))),
    };
    const seq = this.transaction(() => {
      this.known = undefined;
      this.sql.exec("UPDATE meta SET epoch = ?, withdrawn_epoch = ?", epoch, epoch + run.length);
      this.sql.exec("DELETE FROM members");
      for (const m of restored) this.sql.exec("INSERT INTO members (address, since) VALUES (?, ?)", m, now);
      this.sql.exec("DELETE FROM recent_commits");
      this.sql.exec("DELETE FROM vetoes WHERE at <= ?", since);
      this.sql.exec("INSERT INTO vetoes (address, device_id, at) VALUES (?, ?, ?)", from, deviceId, now);
      const inserted = this.insertLog([entry]).get(entry.submit_id);
      // Its id in the log already (the lookup above found no veto of it): nothing of it may stay.
      if (inserted === undefined) throw new EmsgError("conflict", "That veto id is taken.");
      return inserted;
    });
    // What accounts said of their devices held for an epoch now left (see soleDevices).
    this.soleDevices.clear();
    return { seq, fresh: true, row: { seq, ...entry, answered: false } };
  }

  /**
   * A member device's ask to be let back in (PROTOCOL §8, Rejoining), judged by judgeRejoin: a
   * `rejoin` entry at the current epoch goes to every member, whose in-step devices re-add it. A
   * repeat of its id by the same account gets the first answer; one used by anything else `conflict`.
   */
  private acceptRejoin(from: Address, deviceId: string, rejoin: Rejoin, now: number): Accepted & { row?: LogRow } {
    const meta = this.meta();
    const members = this.members();
    // Before any repeat's answer: whose ask it is not learns nothing of the log.
    if (!members.includes(from)) judgeRejoin(members, from, 0);
    const again = this.retried(rejoin.id, from);
    if (again) return again;
    const since = now - REJOIN_WINDOW_MS;
    // Counted by account: a device id is its server's word for a remote member.
    judgeRejoin(members, from, this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM rejoins WHERE address = ? AND at > ?", from, since).one().n);
    const entry: Entry = {
      submit_id: rejoin.id, at: now, sender: from, device_id: deviceId, epoch: meta.epoch, type: "rejoin", mls: "", welcome: null,
      members: null, recipients: JSON.stringify(members), welcome_to: "[]", author_proof: null,
    };
    const seq = this.transaction(() => {
      this.sql.exec("DELETE FROM rejoins WHERE at <= ?", since);
      this.sql.exec("INSERT INTO rejoins (address, device_id, at) VALUES (?, ?, ?)", from, deviceId, now);
      const inserted = this.insertLog([entry]).get(entry.submit_id);
      // Its id in the log already (the lookup above missed it): nothing of it may stay.
      if (inserted === undefined) throw new EmsgError("conflict", "That id is taken.");
      return inserted;
    });
    return { seq, fresh: true, row: { seq, ...entry, answered: false } };
  }

  /** The commits a veto may name, oldest first. */
  private recentCommits(): RecentCommit[] {
    const rows = this.sql
      .exec<{ seq: number; submit_id: string; sender: string; device_id: string; epoch: number; before: string; after: string }>("SELECT * FROM recent_commits ORDER BY seq")
      .toArray();
    const parse = (list: string) => JSON.parse(list) as Address[];
    return rows.map((r) => ({ seq: r.seq, id: r.submit_id, sender: r.sender as Address, deviceId: r.device_id, epoch: r.epoch, before: parse(r.before), after: parse(r.after) }));
  }

  /**
   * The withdrawal a veto repeats, as its first answer: the one with its id (`conflict` when that id
   * is taken by anything but this device's account's veto), or the one of the commit it names.
   */
  private withdrawal(by: "submit_id" | "withdraws", key: string | number, from?: Address): Accepted | undefined {
    const row =
      by === "submit_id"
        ? this.entryOf(key as string)
        : this.sql
            .exec<{ seq: number; sender: string; type: string }>(
              // A withdrawn entry is a run of its own (acceptVeto), whose withdraws the run row keeps.
              "SELECT first AS seq, entries->>'$[0][2]' AS sender, 'withdrawn' AS type FROM runs WHERE withdraws IS NOT NULL AND EXISTS (SELECT 1 FROM json_each(withdraws) WHERE json_extract(value, '$.hubSeq') = ?)",
              key,
            )
            .toArray()[0];
    if (!row) return undefined;
    if (from !== undefined && (row.sender !== from || row.type !== "withdrawn")) throw new EmsgError("conflict", "That veto id is taken.");
    return { seq: row.seq, fresh: false };
  }

  /**
   * Appends entries to the log, in order, at the positions after its end: those whose id is in
   * the log already are left out, the others go as one run row (or a few, when large), with their
   * ids. The seq each got by its submit id, none for an id already in the log.
   */
  private insertLog(entries: Entry[]): Map<string, number> {
    const first = this.logEnd() + 1;
    const recent = this.recentIds();
    const unseen = entries.filter((e) => !recent.has(e.submit_id));
    const stored = unseen.length === 0 ? [] : this.sql.exec<{ id: string }>("SELECT id FROM submit_ids WHERE id IN (SELECT value FROM json_each(?))", JSON.stringify(unseen.map((e) => e.submit_id))).toArray();
    const taken = new Set(stored.map((r) => r.id));
    // Retries (rare) are left out, and so is an id twice; the others close up behind the log's end, no seq left out.
    const kept: Entry[] = [];
    for (const e of unseen) {
      if (taken.has(e.submit_id)) continue;
      taken.add(e.submit_id);
      kept.push(e);
    }
    let start = 0;
    let text: string[] = [];
    let size = 0;
    const flush = (upTo: number) => {
      if (upTo === start) return;
      const run = kept.slice(start, upTo);
      // A withdrawn entry is a run of its own (acceptVeto): withdrawal() finds it by this column.
      const withdraws = run.length === 1 ? (run[0]!.withdraws ?? null) : null;
      const at = Math.max(...run.map((e) => e.at));
      const ids = JSON.stringify(run.map((e, i) => [e.submit_id, first + start + i, e.sender, e.type]));
      this.sql.exec("INSERT INTO runs (last, first, at, entries, withdraws, ids) VALUES (?, ?, ?, ?, ?, ?)", first + upTo - 1, first + start, at, `[${text.join(",")}]`, withdraws, ids);
      start = upTo;
      text = [];
      size = 0;
    };
    kept.forEach((e, i) => {
      const tuple: EntryTuple = [e.submit_id, e.at, e.sender, e.device_id, e.epoch, e.type, e.mls, e.welcome, e.members, e.recipients, e.welcome_to, e.author_proof, e.withdraws ?? null];
      const json = JSON.stringify(tuple);
      if (size + json.length > RUN_TEXT_MAX) flush(i);
      text.push(json);
      size += json.length;
    });
    flush(kept.length);
    this.end = first + kept.length - 1;
    kept.forEach((e, i) => recent.set(e.submit_id, first + i));
    this.lastInsertAt = Date.now();
    if (recent.size >= RECENT_IDS_HARD_MAX) this.moveRecentIds();
    else if (recent.size >= RECENT_IDS_MAX) this.moveIdsWhenQuiet();
    return new Map(kept.map((e, i) => [e.submit_id, first + i]));
  }

  /** The log's last seq: the last run's, or where the fan-out got when older runs were dropped (see alarm). */
  private logEnd(): number {
    this.end ??= Math.max(this.sql.exec<{ s: number | null }>("SELECT MAX(last) AS s FROM runs").one().s ?? 0, this.meta().fanned_through);
    return this.end;
  }

  /**
   * A transaction that writes to the log, and where the fan-out got (see fannedUnwritten): its end
   * and recent ids are read again should the transaction roll back.
   */
  private transaction<T>(write: () => T): T {
    const fanned = this.fannedUnwritten;
    try {
      const written = this.ctx.storage.transactionSync(() => {
        if (fanned !== undefined) this.sql.exec("UPDATE meta SET fanned_through = ?", fanned);
        return write();
      });
      if (this.fannedUnwritten === fanned) this.fannedUnwritten = undefined;
      return written;
    } catch (error) {
      this.end = undefined;
      this.recent = undefined;
      throw error;
    }
  }

  /** Entries of the runs holding seqs after `after`, in order, until `limit` of them. */
  private entriesAfter(after: number, limit: number): LogRow[] {
    const out: LogRow[] = [];
    for (const run of this.sql.exec<{ first: number; entries: string }>("SELECT first, entries FROM runs WHERE last > ? ORDER BY last", after)) {
      (JSON.parse(run.entries) as EntryTuple[]).forEach((t, i) => {
        const seq = run.first + i;
        if (seq > after && out.length < limit) out.push(rowOf(seq, t));
      });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Where a submit id is in the log, who sent it and what it is, if it is there. */
  private entryOf(id: string): { seq: number; sender: string; type: string } | undefined {
    const seq = this.recentIds().get(id);
    if (seq === undefined) return this.sql.exec<{ seq: number; sender: string; type: string }>("SELECT seq, sender, type FROM submit_ids WHERE id = ?", id).toArray()[0];
    // A recent id's run is in the log, its ids column holding [id, seq, sender, type] by seq: runs are dropped only after their ids move.
    return this.sql
      .exec<{ seq: number; sender: string; type: string }>("SELECT ? AS seq, ids->>('$[' || (CAST(? AS INTEGER) - first) || '][2]') AS sender, ids->>('$[' || (CAST(? AS INTEGER) - first) || '][3]') AS type FROM runs WHERE last >= ? ORDER BY last LIMIT 1", seq, seq, seq, seq)
      .one();
  }

  /**
   * The seqs of the runs past ids_through by id, read once an instance (their ids only; a seq, not
   * an object, as each stays until its move and an object would outlive the young GC); dropped
   * when a write rolls back. Each run's ids column is parsed here: split into rows by json_each,
   * a row each crossed into JavaScript, the read was ~6% of a hub's CPU in a pass that woke it.
   */
  private recentIds(): Map<string, number> {
    if (this.recent) return this.recent;
    const recent = new Map<string, number>();
    for (const { ids } of this.sql.exec<{ ids: string }>("SELECT ids FROM runs WHERE last > (SELECT ids_through FROM meta) AND ids IS NOT NULL")) {
      for (const [id, seq] of JSON.parse(ids) as [string, number, string, string][]) recent.set(id, seq);
    }
    this.recent = recent;
    return recent;
  }

  /** Moves the recent ids (see RECENT_IDS_MAX) once no log write came for IDS_MOVE_QUIET_MS. */
  private moveIdsWhenQuiet(): void {
    if (this.idsMoveTimer !== undefined) return;
    const wait = (ms: number) => {
      this.idsMoveTimer = setTimeout(() => {
        const quietFor = Date.now() - this.lastInsertAt;
        if (quietFor < IDS_MOVE_QUIET_MS) return wait(IDS_MOVE_QUIET_MS - quietFor);
        this.idsMoveTimer = undefined;
        // A failed move changes nothing: the ids stay in their runs, and the next write tries again.
        if ((this.recent?.size ?? 0) >= RECENT_IDS_MAX) attemptNow(() => this.transaction(() => this.moveRecentIds()));
      }, ms);
    };
    wait(IDS_MOVE_QUIET_MS);
  }

  /** Moves the ids of the runs past ids_through to submit_ids, sorted by id: each of its pages that takes some is written once. */
  private moveRecentIds(): void {
    this.sql.exec(
      "INSERT INTO submit_ids (id, seq, sender, type) SELECT value->>0, value->>1, value->>2, value->>3 FROM runs, json_each(runs.ids) WHERE runs.last > (SELECT ids_through FROM meta) ORDER BY 1 ON CONFLICT (id) DO NOTHING",
    );
    this.sql.exec("UPDATE meta SET ids_through = ?", this.logEnd());
    this.recent = new Map();
  }

  /** The answer to an inserted entry, or, when its id was in the log already, to a retry. */
  private accepted(seq: number | undefined, entry: Entry, { from, fromPeer }: Pending): Accepted & { row?: LogRow } {
    if (seq !== undefined) return { seq, fresh: true, row: { seq, ...entry, answered: !fromPeer } };
    const again = this.retried(entry.submit_id, from);
    if (again) return again;
    throw new EmsgError("conflict", "That submission id is taken.");
  }

  /** The first answer to a submission already in the log; `conflict` when someone else used its id. */
  private retried(id: string, from: Address): Accepted | undefined {
    const seen = this.entryOf(id);
    if (!seen) return undefined;
    if (seen.sender !== from) throw new EmsgError("conflict", "That submission id is taken.");
    return { seq: seen.seq, fresh: false };
  }

  /**
   * The payloads log entries become, each with its recipients, in log order. Who of the author's
   * account gets one is decided now (see ownCopyNeeded); the rest is parsed once an entry, and
   * shared: nothing downstream changes a delivery's payload or list.
   */
  private deliveriesOf(rows: LogRow[]): Delivery[] {
    const out: Delivery[] = [];
    for (const row of rows) {
      const fanned = (row.fanned ??= this.fannedOf(row));
      const { payload, to, evidence, welcome } = fanned;
      out.push({ to: this.ownCopyNeeded(row) ? to : (fanned.others ??= this.othersOf(to, row.sender)), payload, answered: row.answered === true, ...(evidence ? { evidence } : {}) });
      if (welcome) out.push(welcome);
    }
    return out;
  }

  private fannedOf(row: LogRow): Fanned {
    const payload: ConvPayload = {
      conversation: this.meta().ref as ConversationRef,
      id: row.submit_id,
      hubSeq: row.seq,
      from: row.sender as Address,
      deviceId: row.device_id,
      epoch: row.epoch,
      type: row.type as ConvPayload["type"],
      mls: row.mls,
      at: row.at,
      ...(row.members ? { members: JSON.parse(row.members) as Address[] } : {}),
      ...(row.withdraws ? { withdraws: JSON.parse(row.withdraws) as { id: string; hubSeq: number }[] } : {}),
    };
    const evidence = row.author_proof ? (JSON.parse(row.author_proof) as AuthorEvidence) : undefined;
    const welcome: Delivery | undefined = row.welcome
      ? { to: JSON.parse(row.welcome_to) as Address[], payload: { ...payload, type: "welcome", mls: row.welcome }, ...(evidence ? { evidence } : {}) }
      : undefined;
    return { payload, to: this.parsedRecipients(row.recipients), evidence, welcome };
  }

  /** An entry's recipients from their JSON, parsed once while entries share it (see recipientsParsed). */
  private parsedRecipients(json: string): Address[] {
    if (this.recipientsParsed?.json !== json) this.recipientsParsed = { json, to: JSON.parse(json) as Address[], others: new Map() };
    return this.recipientsParsed.to;
  }

  /** An entry's recipients but its author, shared by the entries of one author and recipients' list. */
  private othersOf(to: Address[], author: string): Address[] {
    const parsed = this.recipientsParsed;
    if (parsed?.to !== to) return to.filter((a) => a !== author);
    let others = parsed.others.get(author);
    if (!others) parsed.others.set(author, (others = to.filter((a) => a !== author)));
    return others;
  }

  /** Whether the author's own account needs a copy of an entry (see soleDevices). */
  private ownCopyNeeded(row: LogRow): boolean {
    if (!row.answered || row.type !== "application") return true;
    const sole = this.soleDevices.get(row.sender as Address);
    return sole === undefined || sole.deviceId !== row.device_id || sole.epoch !== this.meta().epoch;
  }

  private learnSoleDevices(answers: Map<Address, string | null>, epoch: number): void {
    for (const [address, deviceId] of answers) {
      if (deviceId === null) this.soleDevices.delete(address);
      else this.soleDevices.set(address, { deviceId, epoch });
    }
  }

  /**
   * Fans out every entry not yet handed on, in each lane (see Lane) in seq order, a batch at a
   * time; one run per lane at once. Resolves when both runs end.
   */
  private fanOut(): Promise<void> {
    for (const lane of LANES) if (!this.lanes[lane].running) this.lanes[lane].run = this.fanLane(lane);
    const both = Promise.all(LANES.map((lane) => this.lanes[lane].run)).then(() => {
      if (this.fanning !== both) return;
      this.fanning = null;
      if (this.fannedUnwritten === undefined || this.fannedTimer !== undefined) return;
      this.fannedTimer = setTimeout(() => {
        this.fannedTimer = undefined;
        this.writeFanned();
      }, FANNED_WRITE_MS);
    });
    this.fanning = both;
    return both;
  }

  private async fanLane(lane: Lane): Promise<void> {
    const state = this.lanes[lane];
    state.running = true;
    try {
      if (!this.hosted()) return;
      for (;;) {
        if (lane === "local") await this.keepPace();
        const rows = this.unfannedRows(lane);
        if (rows.length === 0) return;
        const last = rows[rows.length - 1]!.seq;
        try {
          // Accounts whose sole device was pushed an entry get their copy once it says `got`, or its
          // hold ends; every other account gets its copy now, not after that wait.
          const ours = (address: Address) => isLocal(this.env, address) === (lane === "local");
          const [now, held] = this.heldForGot(this.deliveriesOf(rows), ours);
          await this.deliverIn(lane, this.withoutStored(now));
          if (held.length > 0) {
            await this.stored.settle(rows.map((row) => row.seq), ours);
            await this.deliverIn(lane, this.withoutStored(held));
          }
        } catch {
          // Retried by the alarm; the submitters are answered: their entries are ordered and kept.
          this.release(last);
          await this.scheduleAlarm(Date.now() + REFAN_DELAY_MS);
          return;
        }
        state.through = last;
        this.bothFanned();
      }
    } finally {
      // Set false in the same turn as the last look for rows: entries accepted after it start a new run.
      state.running = false;
    }
  }

  /** Hands `deliveries` to a lane's accounts, and notes what those say of their devices. */
  private async deliverIn(lane: Lane, deliveries: Delivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    // What the accounts answer holds for the epoch of when they were asked.
    const epoch = this.meta().epoch;
    if (lane === "local") return this.learnSoleDevices(await deliverLocal(this.env, deliveries), epoch);
    // A round that hands nothing on (all its recipients local, or each copy spared, see withoutStored) has nothing to ask peers, and holds the local lane back for nothing.
    if (!deliveries.some((d) => d.to.some((a) => !isLocal(this.env, a)))) return;
    const handed = deliverToPeers(this.env, deliveries);
    this.remoteRound = { settled: handed.catch(() => undefined), since: Date.now() };
    this.learnSoleDevices(await handed, epoch);
  }

  /**
   * Splits a batch's deliveries into what goes now and what waits for a `got` (see StoredCopies):
   * an account's share waits from its first entry still awaited on, so its copies keep hub order.
   */
  private heldForGot(deliveries: Delivery[], ours: (address: Address) => boolean): [Delivery[], Delivery[]] {
    if (!this.stored.tracking) return [deliveries, []];
    const now: Delivery[] = [];
    const held: Delivery[] = [];
    const holding = new Set<Address>();
    const at = Date.now();
    for (const d of deliveries) {
      const waiting = this.stored.waiting(d.payload.hubSeq, at);
      for (const address of d.to) if (waiting.has(address) && ours(address)) holding.add(address);
      const later = d.to.filter((address) => holding.has(address));
      if (later.length === 0) now.push(d);
      else {
        held.push({ ...d, to: later });
        if (later.length < d.to.length) now.push({ ...d, to: d.to.filter((address) => !holding.has(address)) });
      }
    }
    return [now, held];
  }

  /**
   * Waits for the remote lane's round in flight, until LOCAL_PACE_MS after it left. Measured on
   * the benchmark's round trip, where one workerd runs the hub, the Outbox and the local accounts
   * on one thread: a local lane running at once put its work (a mailbox write and push, the
   * device's ack) beside the next message's path and doubled the first copy's p50.
   */
  private async keepPace(): Promise<void> {
    const round = this.remoteRound;
    const left = round ? round.since + LOCAL_PACE_MS - Date.now() : 0;
    if (!round || left <= 0) return;
    let timer: ReturnType<typeof setTimeout> | null = null;
    await Promise.race([round.settled, new Promise<void>((r) => (timer = setTimeout(r, left)))]);
    clearTimeout(timer);
  }

  /** Entries both lanes handed on: kept as fanned_through (where a restart resumes), dropped from memory, their submitters answered. */
  private bothFanned(): void {
    const meta = this.meta();
    const through = Math.min(...LANES.map((lane) => this.lanes[lane].through ?? meta.fanned_through));
    if (through <= meta.fanned_through) return;
    meta.fanned_through = through;
    this.fannedUnwritten = through;
    this.toFan = this.toFan.filter((row) => row.seq > through);
    this.stored.forget(through);
    this.release(through);
  }

  /**
   * The next entries after a lane's position: from memory when it holds them (toFan is always
   * every entry from its first on), else (after a restart) from the log.
   */
  private unfannedRows(lane: Lane): LogRow[] {
    const through = this.lanes[lane].through ?? this.meta().fanned_through;
    const first = this.toFan[0]?.seq;
    if (first !== undefined && first <= through + 1) {
      const next = this.toFan.findIndex((row) => row.seq > through);
      return next < 0 ? [] : this.toFan.slice(next, next + FAN_BATCH);
    }
    // Each round's last look found the log's end by a query that read nothing (~4% of a hub's CPU).
    if (through >= this.logEnd()) return [];
    return this.entriesAfter(through, FAN_BATCH);
  }

  /** Writes where the fan-out got, if that is not written yet (see fannedUnwritten). */
  private writeFanned(): void {
    if (this.fannedUnwritten === undefined) return;
    this.sql.exec("UPDATE meta SET fanned_through = ?", this.fannedUnwritten);
    this.fannedUnwritten = undefined;
  }

  private fannedOut(seq: number): Promise<void> {
    return new Promise((release) => this.waiters.push({ seq, release }));
  }

  private release(upTo: number): void {
    const due = this.waiters.filter((w) => w.seq <= upTo);
    if (due.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.seq > upTo);
    for (const w of due) w.release();
  }

  /**
   * A member device's veto of the latest commit (PROTOCOL §8, Vetoes): ordered with the submissions,
   * and answered, as they are, once its withdrawal is fanned out (at once for a peer's).
   */
  async veto(from: Address, deviceId: string, veto: Veto, now: number, untilFanned = true): Promise<Outcome<{ seq: number }>> {
    const accepted = await this.take({ from, deviceId, veto, now, fromPeer: !untilFanned });
    if (!accepted.ok) return accepted;
    if (accepted.value.fresh && untilFanned) await this.fannedOut(accepted.value.seq);
    return { ok: true, value: { seq: accepted.value.seq } };
  }

  /**
   * A member device's ask to be let back in (PROTOCOL §8, Rejoining): ordered with the submissions,
   * and answered, as they are, once its entry is fanned out (at once for a peer's).
   */
  async rejoin(from: Address, deviceId: string, rejoin: Rejoin, now: number, untilFanned = true): Promise<Outcome<{ seq: number }>> {
    const accepted = await this.take({ from, deviceId, rejoin, now, fromPeer: !untilFanned });
    if (!accepted.ok) return accepted;
    if (accepted.value.fresh && untilFanned) await this.fannedOut(accepted.value.seq);
    return { ok: true, value: { seq: accepted.value.seq } };
  }

  /** A deleted account leaves: it gets nothing more from here. */
  async leave(address: Address): Promise<void> {
    if (!this.hosted()) return;
    this.known = undefined;
    this.sql.exec("DELETE FROM members WHERE address = ?", address);
    this.sessions.closeAllBut(this.members());
  }

  /** A member's session socket (PROTOCOL §10), admitted by the Worker with a checked ticket. */
  override async fetch(request: Request): Promise<Response> {
    const params = new URL(request.url).searchParams;
    const address = params.get("address") as Address;
    if (!this.hosted() || !this.members().includes(address)) {
      return Response.json(new EmsgError("forbidden", "Only members may open a session.").toJSON(), { status: 403 });
    }
    const exp = Number(params.get("exp"));
    if (!this.firstOpening(params.get("sig") ?? "", exp, Date.now())) {
      return Response.json(new EmsgError("unauthorized", "This session ticket opened a session already: ask your server for a fresh one.").toJSON(), { status: 401 });
    }
    // The ticket of a member of another domain, checked by the Worker: it proves that member's session submissions to others (§9).
    const ticket = params.get("ticket");
    const proof = ticket ? (JSON.parse(new TextDecoder().decode(fromB64u(ticket))) as SignedSessionTicket) : undefined;
    const response = this.sessions.open(address, params.get("deviceId") ?? "", Date.now(), exp, proof);
    await this.scheduleAlarm(Math.min(Date.now() + SESSION_IDLE_MS, exp));
    return response;
  }

  /**
   * Whether a ticket opens its first session here. A remote member's ticket is passed on to the
   * other domains as its authorTicket (§9): held by them, it must not open a session as that
   * device, whose `got` would spare its account copies it never stored.
   */
  private firstOpening(sig: string, exp: number, now: number): boolean {
    this.sql.exec("DELETE FROM used_tickets WHERE exp < ?", now);
    return this.sql.exec("INSERT INTO used_tickets (sig, exp) VALUES (?, ?) ON CONFLICT DO NOTHING", sig, exp).rowsWritten > 0;
  }

  /** Extends a session by a fresh ticket for the same device (PROTOCOL §10); a refused one changes nothing. */
  private async renew(ws: WebSocket, tag: SessionTag, ticket: SignedSessionTicket): Promise<void> {
    try {
      const body = await checkSessionTicket(this.env, ticket, this.meta().ref as ConversationRef, Date.now());
      if (body.address !== tag.address || body.deviceId !== tag.deviceId) throw new EmsgError("unauthorized", "The session ticket is for another device.");
      if (!this.members().includes(body.address)) throw new EmsgError("forbidden", "Only members may keep a session.");
      this.sessions.extend(ws, body.exp);
      await this.scheduleAlarm(body.exp);
    } catch (error) {
      const refused = error instanceof EmsgError ? error : new EmsgError("internal", "The ticket could not be checked.");
      this.sessions.reply(ws, { t: "error", error: refused.code, message: refused.message });
    }
  }

  /** Whether `address` is a member of a conversation hosted here: asked before a session ticket's issuer is looked up. */
  async hasMember(address: Address): Promise<boolean> {
    return this.hosted() && this.members().includes(address);
  }

  /** A removed device's session ends at once (PROTOCOL §6, Revocation). */
  async closeSession(address: Address, deviceId: string): Promise<void> {
    this.sessions.closeDevice(address, deviceId);
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    countCall(this.env, "Conversation", this.ctx.id.toString());
    const frame = this.sessions.frame(ws, message, Date.now());
    if (!frame) return;
    if (frame.kind === "renew") return this.renew(ws, frame.tag, frame.ticket);
    if (frame.kind === "got") return this.stored.got(ws, `${frame.tag.address}/${frame.tag.deviceId}`, frame.seqs);
    if (frame.kind === "submit") {
      // What the device stored, told with its next submission: read first, as a `got` frame would be.
      if (frame.got) this.stored.got(ws, `${frame.tag.address}/${frame.tag.deviceId}`, frame.got);
      // Acknowledged once ordered and stored (the output gate holds the ack until the commit); the
      // fan-out to mailboxes follows in the background. Not awaited, so the socket's next frames
      // are read meanwhile and join the same round. One frame's submissions share a round.
      const { submits, tag, batched } = frame;
      const bytes = typeof message === "string" ? message.length : message.byteLength;
      const held = this.unanswered.get(ws) ?? 0;
      if (held + bytes > SESSION_UNANSWERED_BYTES || this.unansweredTotal + bytes > HUB_UNANSWERED_BYTES) {
        const busy = "Too many of this session's submissions wait for an answer: send these again once some are answered.";
        for (const { id } of submits) this.sessions.reply(ws, { t: "error", error: "rate_limited", message: busy, id });
        return;
      }
      this.unanswered.set(ws, held + bytes);
      this.unansweredTotal += bytes;
      const now = Date.now();
      const conversation = this.meta().ref as ConversationRef;
      // A session's frames come straight here, so their framing is checked here (a few µs each).
      const taken = submits.map((submit): Promise<Outcome<Accepted>> => {
        const framed = attemptNow(() => checkFraming(conversation, submit));
        if (!framed.ok) return Promise.resolve(framed);
        return this.take({ from: tag.address, deviceId: tag.deviceId, evidence: tag.proof && { authorTicket: tag.proof }, submit: framed.value, now, fromPeer: false });
      });
      void Promise.all(taken).then((results) => {
        this.unanswered.set(ws, (this.unanswered.get(ws) ?? bytes) - bytes);
        this.unansweredTotal -= bytes;
        const acks: { id: string; seq: number }[] = [];
        results.forEach((result, i) => {
          const id = submits[i]!.id;
          if (result.ok) acks.push({ id, seq: result.value.seq });
          else this.sessions.reply(ws, { t: "error", ...result.error, id });
        });
        if (batched && acks.length > 0) this.sessions.reply(ws, { t: "acks", acks });
        else if (!batched) for (const ack of acks) this.sessions.reply(ws, { t: "ack", ...ack });
      });
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.stored.closed(ws);
    this.sessions.closed(ws, code);
  }

  /**
   * Notes, of the application entries just pushed, the sessions whose `got` may spare their account
   * its mailbox copy: those of a recipient's sole device (see soleDevices) at the entry's epoch.
   */
  private notePushed(rows: LogRow[], acking: { ws: WebSocket; tag: SessionTag }[]): void {
    if (acking.length === 0) return;
    const epoch = this.meta().epoch;
    const now = Date.now();
    for (const row of rows) {
      if (row.type !== "application" || row.epoch !== epoch) continue;
      const sessions = new Map<WebSocket, Address>();
      // One session a device: however many it opens, what is kept for an entry stays one per account.
      const devices = new Set<Address>();
      for (const { ws, tag } of acking) {
        const sole = this.soleDevices.get(tag.address);
        if (tag.address === row.sender || sole?.deviceId !== tag.deviceId || sole.epoch !== epoch || devices.has(tag.address)) continue;
        devices.add(tag.address);
        sessions.set(ws, tag.address);
      }
      // An application entry goes to every member, and only members' sessions say `got` (see Sessions.push).
      this.stored.pushed(row.seq, now, sessions);
    }
  }

  /**
   * Leaves out of each application entry's recipients the accounts whose sole device (at the
   * current epoch, the entry's) said over its session that it stored the entry (PROTOCOL §10).
   */
  private withoutStored(deliveries: Delivery[]): Delivery[] {
    if (!this.stored.tracking) return deliveries;
    const epoch = this.meta().epoch;
    return deliveries.map((d) => {
      if (d.payload.type !== "application" || d.payload.epoch !== epoch) return d;
      const to = d.to.filter((address) => {
        const sole = this.soleDevices.get(address);
        return !(sole?.epoch === epoch && this.stored.isStored(d.payload.hubSeq, `${address}/${sole.deviceId}`));
      });
      return to.length === d.to.length ? d : { ...d, to };
    });
  }

  /** Drops the runs handed on whose entries are all older than `before`, and their ids. */
  private dropOld(before: number): void {
    if (!this.schema) return;
    const dropped = this.sql.exec("DELETE FROM runs WHERE last <= (SELECT fanned_through FROM meta) AND at < ?", before).rowsWritten;
    if (dropped === 0) return;
    this.transaction(() => {
      this.moveRecentIds();
      // An id whose seq no run holds any more: the run holding the first seq after it starts later.
      this.sql.exec("DELETE FROM submit_ids WHERE COALESCE((SELECT first FROM runs WHERE last >= submit_ids.seq ORDER BY last LIMIT 1), seq + 1) > seq");
    });
  }

  private async scheduleAlarm(at: number): Promise<void> {
    // Known to be set early enough already: no storage call on the path of every round.
    if (this.alarmAt !== undefined && this.alarmAt <= at) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || at < current) await this.ctx.storage.setAlarm(at);
    this.alarmAt = current === null ? at : Math.min(current, at);
  }

  override async alarm(): Promise<void> {
    this.alarmAt = undefined;
    const nextIdleCheck = this.sessions.closeIdle(Date.now());
    if (nextIdleCheck !== null) await this.scheduleAlarm(nextIdleCheck);
    this.dropOld(Date.now() - LOG_RETENTION_MS);
    await this.fanOut();
    const oldest = this.sql.exec<{ at: number | null }>("SELECT MIN(at) AS at FROM runs").one().at;
    if (oldest !== null) await this.scheduleAlarm(oldest + LOG_RETENTION_MS);
  }
}

/** A log entry from its run's tuple (see EntryTuple). */
function rowOf(seq: number, t: EntryTuple): LogRow {
  const [submit_id, at, sender, device_id, epoch, type, mls, welcome, members, recipients, welcome_to, author_proof, withdraws] = t;
  return { seq, submit_id, at, sender, device_id, epoch, type, mls, welcome, members, recipients, welcome_to, author_proof, withdraws };
}
