import { DurableObject } from "cloudflare:workers";
import { domainOf, type Address, type Domain } from "../shared/address.js";
import { EmsgError } from "../shared/errors.js";
import { fromB64u } from "../shared/base64url.js";
import { verifyObject, type Signed } from "../shared/signed.js";
import type { DeviceCert, DeviceCertBody } from "../shared/identity.js";
import type {
  AccountView,
  ClaimResponse,
  DeviceListResponse,
  FriendEntry,
  LinkUpload,
  MailContent,
  MailItem,
  Settings,
  SignedDeletion,
  SignedFriendRequest,
  SignedFriendResponse,
  SignedMoved,
  Verdict,
} from "../shared/wire/index.js";
import { parseConversationRef } from "../shared/wire/index.js";
import { entryAt, type ConvEntries } from "./conv-entries.js";
import type { FriendState } from "../shared/wire/friends.js";
import type { Env } from "./env.js";
import { attempt, type Outcome } from "./outcome.js";
import { migrate } from "./sql-schema.js";
import { CONV_MARKS_SCHEMA, CONV_POSITIONS_STEP, Mailbox, MAILBOX_RUNS_STEP, MAILBOX_SCHEMA, type SocketTag } from "./mailbox.js";
import { CONV_WINDOWS_STEP } from "./conv-windows.js";
import { Friends, FRIENDS_SCHEMA } from "./friends.js";
import { Devices, DEVICES_SCHEMA, KEY_PACKAGE_REFS_STEP, REMOVED_KEYS_STEP, REVOCATION_SCHEMA, type CheckedKeyPackage } from "./devices.js";
import { Links, LINKS_REVOCATION_STEP, LINKS_SCHEMA, type StoredLink } from "./links.js";
import { admitConversationItem, admitFriendRequest, admitFriendResponse, type AuthorStanding, type ConvAdmission } from "./policy/strangers.js";
import { authorProven } from "./author-proof.js";
import { bounce, serverOf } from "./routing.js";
import { countCall } from "./call-counts.js";
import { carriedMove, mayAdopt, movedVerifies } from "../shared/move.js";

export const MAILBOX_TTL_MS = 30 * 86400_000;
export const NAME_GRACE_MS = 30 * 86400_000;
const PING = JSON.stringify({ t: "ping" });
const PONG = JSON.stringify({ t: "pong" });
/** Author and conversation pairs whose admission state an Account keeps at most. */
const MAX_PAIRS_KEPT = 1000;
export const DEFAULT_SETTINGS: Settings = { strangers: "accept", retentionDays: null };

const STEPS = [
  `CREATE TABLE account (id INTEGER PRIMARY KEY CHECK (id = 1), address TEXT NOT NULL, account_key TEXT NOT NULL,
     created INTEGER NOT NULL, settings TEXT NOT NULL);
   CREATE TABLE tombstone (id INTEGER PRIMARY KEY CHECK (id = 1), address TEXT NOT NULL, deleted_at INTEGER NOT NULL);
   CREATE TABLE joined (conversation TEXT PRIMARY KEY);
   ${DEVICES_SCHEMA}
   ${MAILBOX_SCHEMA}
   ${FRIENDS_SCHEMA}`,
  LINKS_SCHEMA,
  // Mail is written and acknowledged far more often than it expires: expiry may scan.
  "DROP INDEX mailbox_at",
  `${LINKS_REVOCATION_STEP} ${REVOCATION_SCHEMA}`,
  KEY_PACKAGE_REFS_STEP,
  CONV_MARKS_SCHEMA,
  CONV_POSITIONS_STEP,
  MAILBOX_RUNS_STEP,
  CONV_WINDOWS_STEP,
  REMOVED_KEYS_STEP,
];

/** Tables holding the account's data; deletion empties every one of them. */
export const ACCOUNT_TABLES = ["account", "devices", "key_packages", "joined", "ws_tickets", "mailbox", "friends", "links", "removed_devices", "session_tickets", "conv_positions", "key_packages_used", "conv_windows"] as const;

type AccountRow = { address: string; account_key: string; settings: string };

/**
 * An account's answer to a hub's batch: each item's outcome, in order, and, when the batch held
 * submissions its device was answered for, that device if it is the account's only one (else null).
 */
export interface ConvBatchAnswer {
  outcomes: Outcome<null>[];
  soleDevice: string | null;
  /** Items whose author was not proven (§9): refusing one is not bounced to whoever the hub named. */
  unproven?: number[];
}

export interface Departure {
  acquaintances: Address[];
  conversations: string[];
}

/**
 * One account (one writer for everything about it): devices, KeyPackages, settings, friends,
 * the mailbox and its devices' hibernating WebSockets, and deletion.
 */
export class AccountObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly mailbox: Mailbox;
  private readonly friends: Friends;
  private readonly devices: Devices;
  private readonly links: Links;
  /** An alarm is known to be set (this instance set or saw it), so storing mail need not ask. */
  private expiryAlarmSeen = false;
  /**
   * The account row as this instance last read it: every batch of mail reads it, and only this
   * object writes it (register, updateSettings, deleteAccount, alarm), each of which drops it.
   */
  private cachedRow: AccountRow | undefined;
  /**
   * What admitConv read of an author (friend state) and a conversation (joined), by author and
   * conversation, at friends.version `pairsAt`: a burst asks the same pair batch after batch.
   * Dropped when friends change, a conversation is joined, or the account's rows go (forgetRows).
   */
  private readonly pairs = new Map<string, { joined: boolean; state: FriendState | undefined }>();
  private pairsAt = -1;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(this.sql, STEPS);
    this.mailbox = new Mailbox(this.sql, ctx);
    this.friends = new Friends(this.sql);
    this.devices = new Devices(this.sql);
    this.links = new Links(this.sql);
    // Keep-alive pings are answered without waking the object: idle sockets stay free.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  /** Drops what this instance keeps of its rows, before they all go. */
  private forgetRows(): void {
    this.cachedRow = undefined;
    this.pairs.clear();
    this.mailbox.forget();
  }

  private row(): AccountRow {
    if (this.cachedRow) return this.cachedRow;
    const row = this.sql.exec<AccountRow>("SELECT address, account_key, settings FROM account").toArray()[0];
    if (row) return (this.cachedRow = row);
    throw new EmsgError(this.deletedAt() === null ? "not_found" : "gone", "No such account here.");
  }

  private deletedAt(): number | null {
    return this.sql.exec<{ deleted_at: number }>("SELECT deleted_at FROM tombstone").toArray()[0]?.deleted_at ?? null;
  }

  async register(cert: DeviceCert, body: DeviceCertBody, now: number): Promise<Outcome<{ deviceId: string }>> {
    return attempt(() => {
      if (this.sql.exec("SELECT 1 FROM account").toArray().length > 0) throw new EmsgError("conflict", "That name is taken.");
      const deleted = this.deletedAt();
      if (deleted !== null && now - deleted < NAME_GRACE_MS) throw new EmsgError("conflict", "That name was deleted recently and is reserved.");
      this.cachedRow = undefined;
      this.ctx.storage.transactionSync(() => {
        this.sql.exec("DELETE FROM tombstone");
        this.sql.exec(
          "INSERT INTO account (id, address, account_key, created, settings) VALUES (1, ?, ?, ?, ?)",
          body.address,
          body.accountKey,
          now,
          JSON.stringify(DEFAULT_SETTINGS),
        );
        this.devices.insert(cert, body, now, 0);
      });
      return { deviceId: body.deviceId };
    });
  }

  /**
   * The account key and a device's public key, for request authentication; null if unknown.
   * `removed` when the account removed it (its key kept from the removal).
   */
  async credentials(deviceId: string): Promise<{ accountKey: string; deviceKey: string; removed: boolean } | null> {
    const row = this.sql.exec<AccountRow>("SELECT address, account_key, settings FROM account").toArray()[0];
    if (!row) return null;
    const current = this.devices.keyOf(deviceId);
    if (current) return { accountKey: row.account_key, deviceKey: current, removed: false };
    const removed = this.devices.removedKeyOf(deviceId);
    return removed ? { accountKey: row.account_key, deviceKey: removed, removed: true } : null;
  }

  async view(): Promise<Outcome<AccountView>> {
    return attempt(() => {
      const row = this.row();
      return { address: row.address as Address, accountKey: row.account_key, devices: this.devices.certs(), settings: JSON.parse(row.settings) as Settings };
    });
  }

  async updateSettings(settings: Settings): Promise<Outcome<Settings>> {
    return attempt(() => {
      this.row();
      this.cachedRow = undefined;
      this.sql.exec("UPDATE account SET settings = ?", JSON.stringify(settings));
      return settings;
    });
  }

  /** The account key, for a device that adds itself with a certificate (PROTOCOL §6); null if no account. */
  async accountKey(): Promise<string | null> {
    return this.sql.exec<{ account_key: string }>("SELECT account_key FROM account").toArray()[0]?.account_key ?? null;
  }

  /**
   * Adds a device with its first KeyPackages, and tells the account's devices in a `device_added`
   * item. Returns the mailbox position the device starts after. A device adding itself (`self`)
   * uses up the link it fetched (PROTOCOL §6, Revocation); nothing is used up when the add fails.
   */
  async addDevice(
    cert: DeviceCert,
    body: DeviceCertBody,
    now: number,
    extra: { link?: string; keyPackages?: CheckedKeyPackage[]; self?: boolean } = {},
  ): Promise<Outcome<{ after: number }>> {
    return attempt(() => {
      this.row();
      // A new device starts after the backlog: the others still hold it, and it could not decrypt it.
      const after = this.mailbox.lastSeq();
      this.ctx.storage.transactionSync(() => {
        this.devices.insert(cert, body, now, after);
        if (extra.self) this.links.redeem(extra.link ?? "", now);
        if (extra.keyPackages) this.devices.publish(body.deviceId, extra.keyPackages, now);
      });
      this.store({ kind: "device_added", deviceCert: cert, ...(extra.link ? { link: extra.link } : {}) } as MailContent, now);
      return { after };
    });
  }

  /** Keeps a sealed link bundle until it is fetched once or expires. */
  async putLink(link: LinkUpload, deviceId: string, now: number): Promise<Outcome<{ id: string; expires: number }>> {
    return attempt(() => {
      this.row();
      const created = this.links.put(link, deviceId, now);
      void this.ctx.storage.getAlarm().then((at) => (at === null || at > created.expires ? this.ctx.storage.setAlarm(created.expires) : undefined));
      return created;
    });
  }

  async takeLink(id: string, now: number): Promise<Outcome<StoredLink>> {
    return attempt(() => {
      this.row();
      return this.links.take(id, now);
    });
  }

  /**
   * Removes a device for good (it can never be added again), drops the links it uploaded and closes its mailbox socket. Returns
   * the conversations it may still have a session open with, whose hubs here close it at once.
   */
  async removeDevice(deviceId: string, now: number): Promise<Outcome<{ sessions: string[] }>> {
    return attempt(() => {
      this.row();
      const sessions = this.devices.remove(deviceId, now);
      this.links.dropBy(deviceId);
      for (const ws of this.ctx.getWebSockets(deviceId)) ws.close(4001, "device removed");
      this.mailbox.trim();
      return { sessions };
    });
  }

  /** Remembers a session ticket given to a device (PROTOCOL §10), so its removal can close the session. */
  async noteSessionTicket(deviceId: string, conversation: string, expires: number, now: number): Promise<void> {
    this.devices.noteSessionTicket(deviceId, conversation, expires, now);
  }

  async publishKeyPackages(deviceId: string, keyPackages: CheckedKeyPackage[], now: number): Promise<Outcome<{ stored: number }>> {
    return attempt(() => {
      this.row();
      return { stored: this.devices.publish(deviceId, keyPackages, now) };
    });
  }

  async claim(): Promise<Outcome<ClaimResponse>> {
    return attempt(() => {
      const row = this.row();
      return { address: row.address as Address, accountKey: row.account_key, devices: this.devices.claim(Date.now()) };
    });
  }

  async deviceList(): Promise<Outcome<DeviceListResponse>> {
    return attempt(() => {
      const row = this.row();
      return { address: row.address as Address, accountKey: row.account_key, devices: this.devices.list() };
    });
  }

  async listFriends(): Promise<Outcome<FriendEntry[]>> {
    return attempt(() => {
      this.row();
      return this.friends.list();
    });
  }

  /** The user sent a friend request. */
  async requestSent(to: Address, now: number): Promise<Outcome<null>> {
    return attempt(() => {
      this.row();
      const state = this.friends.stateOf(to);
      if (state === "friend") throw new EmsgError("conflict", "You are friends already.");
      if (state === "incoming" || state === "held") throw new EmsgError("conflict", "They asked you already; accept their request.");
      this.friends.set(to, "outgoing", "", now);
      return null;
    });
  }

  /** A friend request arrived for this account; refusals are typed errors for the sender. */
  async receiveFriendRequest(signed: SignedFriendRequest, now: number): Promise<Outcome<"delivered" | "held">> {
    return attempt(() => {
      const settings = JSON.parse(this.row().settings) as Settings;
      const from = signed.body.from;
      if (this.introducesMove(signed)) {
        // A friend's move as the requester tells it: it waits, whatever the policy, for the old
        // server's notice, which alone makes the requester a friend (receiveNotice, §11).
        this.friends.set(from, "incoming", signed.body.accountKey, now, signed);
        this.store({ kind: "friend_request", signed }, now);
        return "delivered";
      }
      const admission = admitFriendRequest(this.friends.stateOf(from), settings.strangers);
      if (admission.verdict === "refuse") throw new EmsgError(admission.code);
      if (this.friends.stateOf(from) === "friend") {
        this.store({ kind: "friend_request", signed }, now);
        return "delivered";
      }
      const held = admission.verdict === "hold";
      this.friends.set(from, held ? "held" : "incoming", signed.body.accountKey, now, signed);
      if (!held) this.store({ kind: "friend_request", signed }, now);
      return held ? "held" : "delivered";
    });
  }

  /**
   * The request carries a move (§9) from a friend, signed by the key pinned for them, to a requester
   * who is neither a friend already nor blocked. The account key alone signs it, which a device the
   * friend removed still holds: it lets the request past the policy, never makes a friend.
   */
  private introducesMove(signed: SignedFriendRequest): boolean {
    const moved = carriedMove(signed);
    if (!moved) return false;
    const friend = this.friends.get(moved.body.from);
    const requester = this.friends.stateOf(signed.body.from);
    return friend?.state === "friend" && movedVerifies(moved, friend.accountKey) && requester !== "friend" && requester !== "blocked";
  }

  /** The user answered a request: `accept` pins their key, `decline` forgets them. Returns their key. */
  async answer(from: Address, verdict: Verdict, now: number): Promise<Outcome<null>> {
    return attempt(() => {
      this.row();
      const entry = this.friends.get(from);
      if (!entry || (entry.state !== "incoming" && entry.state !== "held" && entry.state !== "friend")) {
        throw new EmsgError("not_found", "There is no request from that address.");
      }
      if (verdict === "accept") this.friends.set(from, "friend", entry.accountKey, now);
      else this.friends.remove(from);
      return null;
    });
  }

  async receiveFriendResponse(signed: SignedFriendResponse, now: number): Promise<Outcome<null>> {
    return attempt(() => {
      this.row();
      const from = signed.body.from;
      const admission = admitFriendResponse(this.friends.stateOf(from));
      if (admission.verdict === "refuse") throw new EmsgError(admission.code, "No request of yours is waiting for that answer.");
      if (signed.body.verdict === "accept") this.friends.set(from, "friend", signed.body.accountKey, now);
      else this.friends.remove(from);
      this.store({ kind: "friend_response", signed }, now);
      return null;
    });
  }

  async block(address: Address, now: number): Promise<Outcome<null>> {
    return attempt(() => {
      this.row();
      this.friends.set(address, "blocked", "", now);
      return null;
    });
  }

  async unfriend(address: Address): Promise<Outcome<null>> {
    return attempt(() => {
      this.row();
      if (!this.friends.remove(address)) throw new EmsgError("not_found", "That address is not on your list.");
      return null;
    });
  }

  /** The account takes part in a conversation: its members may reach it from now on. */
  async join(conversation: string): Promise<void> {
    this.joinConversation(conversation);
  }

  /**
   * Items of one hub's fan-out, in order (see ConvEntries): each judged on its own, the admitted
   * ones stored in one transaction and pushed in as few frames as fit (one commit, not one per
   * message). `entries.answered` names this account's own submissions whose device has the hub's
   * answer: such an application message is not stored when that device is the account's only
   * one, as nobody else would read it (PROTOCOL §6). The answer names that device, so the hub can
   * leave such messages out of later batches (see ConvBatchAnswer).
   */
  async receiveConvBatch(entries: ConvEntries, now: number): Promise<ConvBatchAnswer> {
    const count = entries.ends.length;
    const account = await attempt(() => JSON.parse(this.row().settings) as Settings);
    if (!account.ok) return { outcomes: Array.from({ length: count }, () => account), soleDevice: null };
    const sole = entries.asksSole ? this.devices.sole() : undefined;
    // Only this account's own messages: the ids are the hub's word, another author's may share one.
    const mine = new Set<number>();
    if (sole !== undefined) {
      const self = this.row().address;
      for (const { index, deviceId } of entries.answered) if (entries.authors[entries.authorOf[index]!] === self && deviceId === sole) mine.add(index);
    }
    const { verdicts, unproven } = await this.judgeConv(entries, account.value);
    const admitted = verdicts.flatMap((verdict, i) => (verdict.ok && !mine.has(i) ? [i] : []));
    if (admitted.length > 0) {
      this.ctx.storage.transactionSync(() => {
        // Synchronous from the marks' read to the rows' write: two overlapping deliveries of one
        // entry (a hub and an Outbox both re-running theirs) store it once, in hub order.
        const fresh = this.mailbox.newEntries(entries, admitted);
        if (fresh.length > 0) this.mailbox.putConv(entries, fresh, now);
      });
      this.ensureExpiryAlarm();
    }
    return { outcomes: verdicts, soleDevice: sole ?? null, unproven };
  }

  /**
   * Each entry's verdict, in order (PROTOCOL §9), and which entries' authors stayed unproven.
   * `claims` come with a remote hub's entries: an author off the hub's domain is proven only by
   * its evidence, checked only when the verdict hangs on it (a friend's item in a conversation not
   * joined yet), so the usual entry costs nothing more. A burst is mostly one sender in one
   * conversation: each pair is judged once per batch, until the batch joins a conversation.
   */
  private async judgeConv(entries: ConvEntries, settings: Settings): Promise<{ verdicts: Outcome<null>[]; unproven: number[] }> {
    const { authors, authorOf, conversations, conversationOf, claims } = entries;
    const cache = new Map<string, Outcome<null>>();
    const verdicts: Outcome<null>[] = [];
    const unproven: number[] = [];
    // A batch is runs of one conversation's entries: its hub is read once a run.
    let conversation = -1;
    let hub = "" as Domain;
    let last: { from: number; conversation: number; standing: AuthorStanding; verdict: Outcome<null> } | undefined;
    for (let i = 0; i < authorOf.length; i++) {
      const evidence = claims?.[i];
      const from = authorOf[i]!;
      if (conversationOf[i] !== conversation) {
        conversation = conversationOf[i]!;
        hub = parseConversationRef(conversations[conversation]).hub;
      }
      const author = authors[from]!;
      let standing: AuthorStanding = !evidence || domainOf(author) === hub ? "proven" : evidence.authorProof || evidence.authorTicket ? "unchecked" : "unproven";
      // The entry before's verdict, when it was judged for the same pair and standing (as most are).
      if (last && last.from === from && last.conversation === conversation && last.standing === standing) {
        if (standing !== "proven") unproven.push(i);
        verdicts.push(last.verdict);
        continue;
      }
      const key = `${from}\n${conversation}\n${standing}`;
      let verdict = cache.get(key);
      if (!verdict) {
        let admission = this.admitConv(author, conversations[conversation]!, settings, standing);
        const checked = admission.verdict === "prove";
        if (checked) {
          standing = (await authorProven(this.env, hub, entryAt(entries, i), evidence!)) ? "proven" : "unproven";
          // Judged again from fresh state: other calls (a block, a friend accepted) may have run
          // while the proof was checked, so what was judged before it holds no more either.
          cache.clear();
          admission = this.admitConv(author, conversations[conversation]!, settings, standing);
        }
        verdict = admission.verdict === "deliver" ? { ok: true, value: null } : { ok: false, error: new EmsgError(admission.verdict === "refuse" ? admission.code : "stranger_refused").toJSON() };
        if (admission.verdict === "deliver" && admission.join) {
          this.joinConversation(conversations[conversation]!);
          cache.clear();
        }
        // A verdict that took this entry's own proof holds for this entry only.
        if (!checked) cache.set(key, verdict);
      }
      last = cache.get(key) === verdict ? { from, conversation, standing, verdict } : undefined;
      if (standing !== "proven") unproven.push(i);
      verdicts.push(verdict);
    }
    return { verdicts, unproven };
  }

  private admitConv(from: Address, conversation: string, settings: Settings, standing: AuthorStanding): ConvAdmission {
    const { joined, state } = this.pairOf(from, conversation);
    return admitConversationItem(state, settings.strangers, joined, standing);
  }

  /** The author's friend state and whether the conversation is joined (see `pairs`). */
  private pairOf(from: Address, conversation: string): { joined: boolean; state: FriendState | undefined } {
    if (this.pairsAt !== this.friends.version || this.pairs.size >= MAX_PAIRS_KEPT) {
      this.pairs.clear();
      this.pairsAt = this.friends.version;
    }
    const key = `${from}\n${conversation}`;
    const kept = this.pairs.get(key);
    if (kept) return kept;
    // Both lookups in one statement (see Friends.stateOf): a statement's own cost is most of either's.
    const row = this.sql
      .exec<{ joined: number; state: string | null }>(
        "SELECT EXISTS (SELECT 1 FROM joined WHERE conversation = ?) AS joined, (SELECT state FROM friends WHERE address = ?) AS state",
        conversation,
        from,
      )
      .one();
    const pair = { joined: row.joined === 1, state: (row.state ?? undefined) as FriendState | undefined };
    this.pairs.set(key, pair);
    return pair;
  }

  /** Joins a conversation: its members may reach the account from now on. */
  private joinConversation(conversation: string): void {
    this.sql.exec("INSERT OR IGNORE INTO joined (conversation) VALUES (?)", conversation);
    this.pairs.clear();
  }

  /** A move or deletion notice, checked against the account key pinned for its sender. */
  async receiveNotice(kind: "moved" | "deleted", signed: SignedMoved | SignedDeletion, now: number): Promise<Outcome<null>> {
    return attempt(() => {
      this.row();
      const from = ("from" in signed.body ? signed.body.from : signed.body.address) as Address;
      const entry = this.friends.get(from);
      if (!entry || entry.state === "blocked" || entry.accountKey === "") throw new EmsgError("forbidden", "Only acquaintances send notices.");
      if (!verifyObject(fromB64u(entry.accountKey), kind, signed as Signed<unknown>)) throw new EmsgError("unauthorized", `The ${kind} notice is not signed by the key pinned for ${from}.`);
      if (kind === "deleted") this.friends.remove(from);
      if (kind === "moved" && entry.state === "friend") this.adoptMove(signed as SignedMoved, now);
      this.store({ kind, signed } as MailContent, now);
      return null;
    });
  }

  /** A friend moved (§11): their new address is a friend with the new key, unless that clashes with what we know of it. */
  private adoptMove(notice: SignedMoved, now: number): void {
    const { to, accountKey } = notice.body;
    if (to === this.row().address || !mayAdopt(this.friends.get(to), accountKey)) return;
    this.friends.set(to, "friend", accountKey, now);
  }

  /** Bounces, which no policy holds back; a bounced friend request is no longer outgoing. */
  async deliver(content: MailContent): Promise<Outcome<MailItem>> {
    return attempt(() => {
      this.row();
      if (content.kind === "bounce" && !content.conversation && this.friends.stateOf(content.to) === "outgoing") this.friends.remove(content.to);
      return this.store(content, Date.now());
    });
  }

  async mailboxPage(after: number, limit: number): Promise<Outcome<{ items: MailItem[]; more: boolean; left: number }>> {
    return attempt(() => {
      this.row();
      return this.mailbox.polled(after, limit);
    });
  }

  async ack(deviceId: string, upTo: number): Promise<Outcome<null>> {
    return attempt(() => {
      this.row();
      this.mailbox.ack(deviceId, upTo);
      return null;
    });
  }

  async issueWsTicket(deviceId: string, now: number): Promise<Outcome<{ secret: string; expires: number }>> {
    return attempt(() => {
      this.row();
      return this.devices.issueTicket(deviceId, now);
    });
  }

  /** WebSocket upgrade, admitted by a single-use ticket (PROTOCOL §5). */
  override async fetch(request: Request): Promise<Response> {
    const deviceId = this.devices.redeemTicket(new URL(request.url).searchParams.get("secret") ?? "", Date.now());
    if (!deviceId) return Response.json(new EmsgError("unauthorized", "The WebSocket ticket is unknown, used or expired.").toJSON(), { status: 401 });
    const pair = new WebSocketPair();
    const server = pair[1];
    this.ctx.acceptWebSocket(server, [deviceId]);
    server.serializeAttachment({ deviceId } satisfies SocketTag);
    this.mailbox.replay(server, deviceId);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    countCall(this.env, "Account", this.ctx.id.toString());
    const tag = ws.deserializeAttachment() as SocketTag | null;
    if (!tag) return ws.close(4000, "unknown socket");
    const text = typeof message === "string" ? message : new TextDecoder().decode(message);
    const reply = this.mailbox.onFrame(tag.deviceId, text);
    if (reply) ws.send(JSON.stringify(reply));
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      ws.close(code === 1005 ? 1000 : code, "closing");
    } catch {
      // The device closed first: nothing is left to close.
    }
  }

  /** Everyone who should hear that this account moved. */
  async acquaintances(): Promise<Outcome<Address[]>> {
    return attempt(() => {
      this.row();
      return this.friends.acquaintances();
    });
  }

  /** Deletes every row of the account and keeps only the name's tombstone (PROTOCOL §11). */
  async deleteAccount(now: number): Promise<Outcome<Departure>> {
    return attempt(() => {
      const row = this.row();
      const departure: Departure = {
        acquaintances: this.friends.acquaintances(),
        conversations: this.sql.exec<{ conversation: string }>("SELECT conversation FROM joined").toArray().map((r) => r.conversation),
      };
      for (const ws of this.ctx.getWebSockets()) ws.close(4002, "account deleted");
      this.forgetRows();
      this.ctx.storage.transactionSync(() => {
        for (const table of ACCOUNT_TABLES) this.sql.exec(`DELETE FROM ${table}`);
        this.sql.exec("INSERT OR REPLACE INTO tombstone (id, address, deleted_at) VALUES (1, ?, ?)", row.address, now);
      });
      void this.ctx.storage.setAlarm(now + NAME_GRACE_MS);
      return departure;
    });
  }

  /** Stores a mail item; the first item of an empty mailbox starts the expiry alarm. */
  private store(content: MailContent, now: number): MailItem {
    const item = this.mailbox.put(content, now);
    this.ensureExpiryAlarm();
    return item;
  }

  /** Sets the expiry alarm unless one is set; asked of storage once per run of this instance, not per item. */
  private ensureExpiryAlarm(): void {
    if (this.expiryAlarmSeen) return;
    this.expiryAlarmSeen = true;
    void this.ctx.storage.getAlarm().then((at) => (at === null ? this.scheduleExpiry() : undefined));
  }

  /** The next alarm: the oldest mail's expiry or the next link's, whichever comes first. */
  private scheduleExpiry(): void {
    const oldest = this.mailbox.oldest();
    const due = [oldest === null ? null : oldest + MAILBOX_TTL_MS, this.links.nextExpiry()].filter((t): t is number => t !== null);
    if (due.length > 0) void this.ctx.storage.setAlarm(Math.min(...due));
  }

  /** Expires undelivered mail (bouncing it to its sender) and, after deletion, wipes the tombstone. */
  override async alarm(): Promise<void> {
    this.expiryAlarmSeen = false;
    const now = Date.now();
    const deleted = this.deletedAt();
    if (deleted !== null) {
      if (now - deleted >= NAME_GRACE_MS) {
        const { address } = this.sql.exec<{ address: string }>("SELECT address FROM tombstone").one();
        // deleteAll drops the schema too; this live instance may register the name again at once.
        this.forgetRows();
        await this.ctx.storage.deleteAll();
        migrate(this.sql, STEPS);
        await serverOf(this.env).forget(address);
      } else await this.ctx.storage.setAlarm(deleted + NAME_GRACE_MS);
      return;
    }
    const row = this.sql.exec<AccountRow>("SELECT address, account_key, settings FROM account").toArray()[0];
    if (!row) return;
    this.links.dropExpired(now);
    for (const gone of this.mailbox.expire(now - MAILBOX_TTL_MS)) {
      if (gone.sender && gone.ref && gone.kind !== "bounce") {
        await bounce(this.env, gone.sender as Address, { ref: gone.ref, to: row.address as Address, error: "unavailable" });
      }
    }
    this.scheduleExpiry();
  }
}
