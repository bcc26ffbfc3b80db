import { DurableObject } from "cloudflare:workers";
import { sha256 } from "@noble/hashes/sha2.js";
import { domainOf, type Address, type Domain } from "../shared/address.js";
import { toB64u } from "../shared/base64url.js";
import { EmsgError } from "../shared/errors.js";
import type { ConversationView, ConvPayload, Submit } from "../shared/wire/index.js";
import type { ConversationRef } from "../shared/wire/conversation.js";
import type { Env } from "./env.js";
import { attempt, type Outcome } from "./outcome.js";
import { migrate } from "./sql-schema.js";
import { judgeSubmit, recipientsOf, welcomeRecipients } from "./policy/epoch.js";
import { accountOf, bounce, enqueueRemote, isLocal, type Queued } from "./routing.js";
import { Sessions, SESSION_IDLE_MS } from "./sessions.js";

export const LOG_RETENTION_MS = 30 * 86400_000;
const REFAN_DELAY_MS = 1000;

const STEPS = [
  `CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), ref TEXT NOT NULL, creator TEXT NOT NULL,
     epoch INTEGER NOT NULL, created INTEGER NOT NULL);
   CREATE TABLE members (address TEXT PRIMARY KEY, since INTEGER NOT NULL);
   CREATE TABLE log (seq INTEGER PRIMARY KEY AUTOINCREMENT, submit_id TEXT NOT NULL UNIQUE, at INTEGER NOT NULL,
     sender TEXT NOT NULL, device_id TEXT NOT NULL, epoch INTEGER NOT NULL, type TEXT NOT NULL, mls TEXT NOT NULL,
     welcome TEXT, members TEXT, recipients TEXT NOT NULL, welcome_to TEXT NOT NULL, fanned INTEGER NOT NULL DEFAULT 0);
   CREATE INDEX log_unfanned ON log(fanned, seq);`,
];

type MetaRow = { ref: string; creator: string; epoch: number };
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
};

/**
 * One conversation hosted here (its hub): membership, epoch, the ordered log, and fan-out of
 * every accepted entry to the members' mailboxes, local or through the Outbox of their domain.
 */
export class ConversationObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly sessions: Sessions;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(this.sql, STEPS);
    this.sessions = new Sessions(ctx);
  }

  private meta(): MetaRow {
    const row = this.sql.exec<MetaRow>("SELECT ref, creator, epoch FROM meta").toArray()[0];
    if (!row) throw new EmsgError("not_found", "No such conversation here.");
    return row;
  }

  private members(): Address[] {
    return this.sql.exec<{ address: string }>("SELECT address FROM members ORDER BY since, address").toArray().map((r) => r.address as Address);
  }

  async create(ref: ConversationRef, creator: Address, members: Address[], now: number): Promise<Outcome<null>> {
    return attempt(() => {
      if (this.sql.exec("SELECT 1 FROM meta").toArray().length > 0) throw new EmsgError("conflict", "That conversation id is taken.");
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
      const last = this.sql.exec<{ s: number | null }>("SELECT MAX(seq) AS s FROM log").one().s ?? 0;
      return { conversation: meta.ref as ConversationRef, members, epoch: meta.epoch, lastSeq: last };
    });
  }

  /** Orders one submission (idempotent on its id) and fans it out. */
  async submit(from: Address, deviceId: string, submit: Submit, now: number): Promise<Outcome<{ seq: number }>> {
    const accepted = await attempt(() => this.accept(from, deviceId, submit, now));
    if (!accepted.ok) return accepted;
    if (accepted.value.fresh) {
      this.sessions.push(this.deliveriesOf(accepted.value.seq).map(([, payload]) => payload), this.members());
      await this.fanOut(accepted.value.seq);
    }
    return { ok: true, value: { seq: accepted.value.seq } };
  }

  private accept(from: Address, deviceId: string, submit: Submit, now: number): { seq: number; fresh: boolean } {
    const meta = this.meta();
    const seen = this.sql.exec<{ seq: number; sender: string }>("SELECT seq, sender FROM log WHERE submit_id = ?", submit.id).toArray()[0];
    if (seen) {
      if (seen.sender !== from) throw new EmsgError("conflict", "That submission id is taken.");
      return { seq: seen.seq, fresh: false };
    }
    const before = this.members();
    const next = judgeSubmit({ epoch: meta.epoch, members: before }, from, submit);
    const changed = submit.kind === "commit";
    const row = this.ctx.storage.transactionSync(() => {
      if (changed) {
        this.sql.exec("UPDATE meta SET epoch = ?", next.epoch);
        this.sql.exec("DELETE FROM members");
        for (const m of next.members) this.sql.exec("INSERT INTO members (address, since) VALUES (?, ?)", m, now);
      }
      return this.sql
        .exec<{ seq: number }>(
          `INSERT INTO log (submit_id, at, sender, device_id, epoch, type, mls, welcome, members, recipients, welcome_to)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
          submit.id,
          now,
          from,
          deviceId,
          submit.epoch,
          submit.kind,
          submit.mls,
          submit.welcome ?? null,
          changed ? JSON.stringify(next.members) : null,
          JSON.stringify(recipientsOf(before, next.members)),
          JSON.stringify(submit.welcome ? welcomeRecipients(next.members, submit) : []),
        )
        .one();
    });
    return { seq: row.seq, fresh: true };
  }

  /** The payloads one log entry becomes, each with its recipients. */
  private deliveriesOf(seq: number): Array<[Address[], ConvPayload]> {
    const row = this.sql.exec<LogRow>("SELECT * FROM log WHERE seq = ?", seq).toArray()[0];
    if (!row) return [];
    const base: ConvPayload = {
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
    };
    const deliveries: Array<[Address[], ConvPayload]> = [[JSON.parse(row.recipients) as Address[], base]];
    if (row.welcome) deliveries.push([JSON.parse(row.welcome_to) as Address[], { ...base, type: "welcome", mls: row.welcome }]);
    return deliveries;
  }

  /** Hands one log entry to every recipient's mailbox or Outbox; an alarm retries what failed. */
  private async fanOut(seq: number): Promise<void> {
    try {
      for (const [to, payload] of this.deliveriesOf(seq)) await this.deliver(to, payload);
      this.sql.exec("UPDATE log SET fanned = 1 WHERE seq = ?", seq);
      await this.scheduleAlarm(Date.now() + LOG_RETENTION_MS);
    } catch {
      await this.scheduleAlarm(Date.now() + REFAN_DELAY_MS);
    }
  }

  private async deliver(to: Address[], payload: ConvPayload): Promise<void> {
    const remote = new Map<Domain, Address[]>();
    const local: Promise<void>[] = [];
    for (const address of to) {
      if (isLocal(this.env, address)) local.push(this.deliverLocal(address, payload));
      else remote.set(domainOf(address), [...(remote.get(domainOf(address)) ?? []), address]);
    }
    for (const [domain, addresses] of remote) {
      const item: Queued = {
        item: { id: fedItemId(payload, domain), kind: "conv_deliver", conversation: payload.conversation, to: addresses, item: payload },
        bounceTo: payload.from,
        ref: payload.id,
        to: addresses[0]!,
        conversation: payload.conversation,
      };
      local.push(enqueueRemote(this.env, domain, [item]));
    }
    await Promise.all(local);
  }

  private async deliverLocal(address: Address, payload: ConvPayload): Promise<void> {
    const result = await accountOf(this.env, address).receiveConv(payload, Date.now());
    if (!result.ok && address !== payload.from) {
      await bounce(this.env, payload.from, { ref: payload.id, to: address, error: result.error.error, conversation: payload.conversation });
    }
  }

  /** A deleted account leaves: it gets nothing more from here. */
  async leave(address: Address): Promise<void> {
    this.sql.exec("DELETE FROM members WHERE address = ?", address);
    this.sessions.closeAllBut(this.members());
  }

  /** A member's session socket (PROTOCOL §10), admitted by the Worker with a checked ticket. */
  override async fetch(request: Request): Promise<Response> {
    const params = new URL(request.url).searchParams;
    const address = params.get("address") as Address;
    if (!this.sql.exec("SELECT 1 FROM meta").toArray().length || !this.members().includes(address)) {
      return Response.json(new EmsgError("forbidden", "Only members may open a session.").toJSON(), { status: 403 });
    }
    const response = this.sessions.open(address, params.get("deviceId") ?? "", Date.now());
    await this.scheduleAlarm(Date.now() + SESSION_IDLE_MS);
    return response;
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const frame = this.sessions.frame(ws, message, Date.now());
    if (!frame) return;
    if (frame.kind === "submit") {
      const result = await this.submit(frame.tag.address, frame.tag.deviceId, frame.submit, Date.now());
      this.sessions.reply(ws, result.ok ? { t: "ack", id: frame.submit.id, seq: result.value.seq } : { t: "error", ...result.error, id: frame.submit.id });
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.sessions.closed(ws, code);
  }

  private async scheduleAlarm(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || at < current) await this.ctx.storage.setAlarm(at);
  }

  override async alarm(): Promise<void> {
    const nextIdleCheck = this.sessions.closeIdle(Date.now());
    if (nextIdleCheck !== null) await this.scheduleAlarm(nextIdleCheck);
    this.sql.exec("DELETE FROM log WHERE fanned = 1 AND at < ?", Date.now() - LOG_RETENTION_MS);
    const pending = this.sql.exec<{ seq: number }>("SELECT seq FROM log WHERE fanned = 0 ORDER BY seq").toArray();
    for (const { seq } of pending) await this.fanOut(seq);
    const oldest = this.sql.exec<{ at: number | null }>("SELECT MIN(at) AS at FROM log").one().at;
    if (oldest !== null) await this.scheduleAlarm(oldest + LOG_RETENTION_MS);
  }
}

/** Deterministic, so a re-run fan-out is deduplicated by the receiving server. */
function fedItemId(payload: ConvPayload, domain: Domain): string {
  return toB64u(sha256(new TextEncoder().encode(`${payload.conversation}\n${payload.hubSeq}\n${payload.type}\n${domain}`)).subarray(0, 16));
}
