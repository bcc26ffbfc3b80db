import { type Address, type Domain, domainOf, parseAddress } from "../address.js";
import { newText, newTyping } from "../content.js";
import { originFor, parseResolverMap } from "../discovery.js";
import { EmsgError } from "../errors.js";
import type { Settings } from "../wire/account.js";
import { type AccountRecord, loadAccount } from "./account-record.js";
import { createAccount, replenishKeyPackages, signerOf } from "./account.js";
import { deleteAccount, keptRetentionDays, loadSettings, readReceiptsOn, updateSettings } from "./account-settings.js";
import * as actions from "./message-actions.js";
import { deleteForgottenBlobs, forgetBlobs } from "./blob-deletions.js";
import { indexMessages, searchMessages, type SearchOptions, unindexMessages } from "./search.js";
import { cleanHeld } from "./message-changes.js";
import type { ClientEvents, CoreContext, UploadProgress } from "./context.js";
import { type ConversationSummary, conversationWith, friendChat, friendChatKey, listConversations, loadConversation, saveConversation, summaryOf } from "./conversation-record.js";
import { Emitter } from "./events.js";
import * as friends from "./friends.js";
import * as groups from "./groups.js";
import { type FavoriteCopy, readAccountArchive } from "../account-archive.js";
import { continueMove, exportAccount as sealExport, type ImportProgress, type ImportResult, loadMove, type MoveStatus, restoreFriends, statusOf } from "./account-move.js";
import { followMove, payOwedAccepts } from "./friend-moves.js";
import { movedChat, type MovedChat, movedChats, movedSummaries, restoreHistory } from "./moved-history.js";
import { pendingSummaries } from "./pending-chats.js";
import type { ConvOutcome } from "./incoming-conv.js";
import { applyFrames, openMailboxSocket, parseServerFrame, pollMailbox, retryWelcomes } from "./mailbox-sync.js";
import type { MailItem } from "../wire/mail.js";
import * as deviceLink from "./device-link.js";
import { runDeviceJobs } from "./device-jobs.js";
import { runReadds } from "./rejoin.js";
import { parseLinkCode } from "../device-link.js";
import { deleteMessage, findMessage, history, type HistoryPage, type MessageRecord, saveMessage, uploaded } from "./messages.js";
import { enqueue, enqueueReceipts, flushOutgoing, pendingConversation } from "./outgoing-queue.js";
import { announceSending, cannotRetry, discardFailed, failedOwn, resendFailed } from "./failed-sends.js";
import { peerSafetyNumber } from "./verification.js";
import { chatRetention, checkTimerDays, expiresAtFor, expiryPlan, setChatTimer } from "./retention.js";
import { LivePaths, type MessagePath, SESSION_IDLE_CLOSE_MS } from "./live-paths.js";
import type { PeerConnector } from "./peer-channel.js";
import { ServerApi } from "./server-api.js";
import type { Store } from "./store.js";
import { type Clock, type SocketLike, systemClock, type Transport } from "./transport.js";
import { AttachmentSends } from "./attachment-sends.js";
import { knownProfiles, nicknames, ownProfile, setNickname, setOwnProfile, shareProfile } from "./profiles.js";
import type { Avatar, Profile } from "../profile.js";
import type { FileSource, KeptUploads, MediaInfo, TransferOptions } from "./attachments.js";

export interface ClientOptions {
  store: Store;
  transport: Transport;
  clock?: Clock;
  /** Development resolver map `domain=origin,…` (PROTOCOL §3); production uses https://DOMAIN. */
  resolve?: string;
  /** The platform's WebRTC, for direct channels (path 3); without it sessions stop at path 2. */
  peers?: PeerConnector;
  /** Where the platform keeps files being sent, sealed, so an upload resumes after the app restarts. */
  keptUploads?: KeptUploads;
}

/** The mailbox socket's close code for a device its account removed (PROTOCOL §6, Revocation). */
const CLOSE_DEVICE_REMOVED = 4001;

/** How often "typing" is sent again while the user keeps typing (PROTOCOL §8.1). */
const TYPING_EVERY_MS = 4000;

/** A mailbox socket's frame of items, with the socket it came on (and is acknowledged on). */
interface MailboxFrame {
  socket: SocketLike;
  items: MailItem[];
  left?: number;
}

/**
 * One account on one device: the whole client core behind one object. It does no I/O of its own
 * beyond the Store and Transport it is given and starts no timers: the platform calls `connect()`
 * again after `connection` says offline, and `expire()` now and then.
 */
export class EmsgClient {
  readonly events = new Emitter<ClientEvents>();
  readonly #options: ClientOptions;
  readonly #clock: Clock;
  /** The last `sentAt` this device gave a message of its own (see #sentAt). */
  #lastSentAt = 0;
  #ctx: CoreContext | undefined;
  #socket: SocketLike | undefined;
  #removed = false;
  // The backlog the mailbox socket sends on opening, while it is applied (its frames say how much is `left`).
  #backlog: { done: number; total: number } | undefined;
  // Frames from mailbox sockets not taken yet, in order: one drain at a time applies them (#drainFrames).
  readonly #frames: Array<{ socket: SocketLike; data: string }> = [];
  // Every change to group states, the mailbox cursor and the queue runs one at a time, in order.
  #serial: Promise<unknown> = Promise.resolve();

  readonly #live: LivePaths;
  readonly #attachments = new AttachmentSends({ context: () => this.#context(), sendSoon: () => this.#sendSoon(), kept: () => this.#options.keptUploads });
  // Whether a conversation or friend may have appeared since the profile was last shared (checked when set).
  #profileOwed = true;

  constructor(options: ClientOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#live = new LivePaths({
      context: () => this.#context(),
      apply: (step) => this.#applyLive(step),
      changed: (conversation, path) => this.events.emit("path", { conversation, path }),
      ...(options.peers ? { peers: options.peers } : {}),
    });
    const owe = () => (this.#profileOwed = true);
    this.events.on("conversation", owe);
    this.events.on("friend", owe);
    this.events.on("message", (message) => this.#expiryNoticed(message));
  }

  on<K extends keyof ClientEvents>(event: K, listener: (payload: ClientEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  get account(): AccountRecord | undefined {
    return this.#ctx?.account;
  }

  get address(): Address {
    return this.#context().account.address;
  }

  #context(): CoreContext {
    if (!this.#ctx) throw new EmsgError("not_found", "There is no account on this device yet.");
    this.#ctx.live ??= this.#live;
    return this.#ctx;
  }

  #apiFor(domain: Domain, origin?: string): ServerApi {
    const at = origin ?? originFor(domain, parseResolverMap(this.#options.resolve));
    return new ServerApi(this.#options.transport, this.#clock, at, domain);
  }

  #exclusive<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(step, step);
    // The queue goes on after a step that failed: that step's caller has the error from `run`.
    this.#serial = run.catch(() => undefined);
    return run;
  }

  /**
   * Sends what is queued, in turn with everything else, without the caller waiting. What fails
   * (offline, a server down) stays queued for the next connect or sync, so it is only logged.
   */
  #sendSoon(): void {
    void this.#exclusive(() => this.#afterItems()).catch((error: unknown) => {
      console.warn(`emsg: queued items wait for the next connect or sync: ${(error as Error).message}`);
    });
  }

  /** Resolves once everything queued so far (frames, sends) has been applied. */
  idle(): Promise<void> {
    return this.#exclusive(async () => undefined);
  }

  /** Creates the account and this first device, and publishes KeyPackages. `server` overrides where it lives. */
  async register(addressText: string, { label = "device", server }: { label?: string; server?: string } = {}): Promise<AccountRecord> {
    const { address } = parseAddress(addressText);
    if (await loadAccount(this.#options.store)) throw new EmsgError("conflict", "This device already holds an account.");
    const api = this.#apiFor(domainOf(address), server);
    const account = await createAccount({ store: this.#options.store, api, clock: this.#clock }, address, label);
    this.#ctx = { store: this.#options.store, api, clock: this.#clock, account, events: this.events };
    await replenishKeyPackages(this.#ctx);
    return account;
  }

  /** Restores the account kept in the Store; false when there is none. */
  async open(): Promise<boolean> {
    const account = await loadAccount(this.#options.store);
    if (!account) return false;
    const api = this.#apiFor(account.domain, account.origin);
    api.setSigner(signerOf(account));
    this.#ctx = { store: this.#options.store, api, clock: this.#clock, account, events: this.events };
    return true;
  }

  // ---- devices (PROTOCOL §6, device links)

  /** Makes this device a new device of the account whose link code (shown by another device) is given. */
  async linkDevice(code: string, { label = "device", server }: { label?: string; server?: string } = {}): Promise<AccountRecord> {
    if (await loadAccount(this.#options.store)) throw new EmsgError("conflict", "This device already holds an account.");
    const api = this.#apiFor(domainOf(parseLinkCode(code).address), server);
    const deps = { store: this.#options.store, api, clock: this.#clock, events: this.events };
    const account = await deviceLink.linkDevice(deps, code, label);
    this.#ctx = { ...deps, account };
    return account;
  }

  /** A code (and its expiry) that links a new device to this account; show it as text and QR. */
  startDeviceLink(): Promise<deviceLink.DeviceLinkOffer> {
    return deviceLink.startDeviceLink(this.#context());
  }

  devices(): Promise<deviceLink.DeviceInfo[]> {
    return deviceLink.listDevices(this.#context());
  }

  /** This device as the device list shows it, from its own certificate: known while the server cannot be asked. */
  thisDevice(): deviceLink.DeviceInfo {
    return deviceLink.deviceOf(this.#context().account);
  }

  /** Removes another device from the account and, as far as it can now, from every conversation. */
  async removeDevice(deviceId: string): Promise<void> {
    await deviceLink.removeDevice(this.#context(), deviceId);
    await this.#exclusive(() => this.#afterItems()).catch((error: unknown) => {
      console.warn(`emsg: the removed device stays in some conversations for now: ${(error as Error).message}`);
    });
  }

  // ---- mailbox

  async #onOutcome(outcome: ConvOutcome): Promise<void> {
    if (outcome.receipts) await enqueueReceipts(this.#context(), [outcome.receipts], this.#clock.now());
  }

  async #afterItems(): Promise<void> {
    const ctx = this.#context();
    const catchUp = this.#catchUp(ctx);
    await this.#moveJobs(ctx);
    if (this.#profileOwed) {
      this.#profileOwed = false;
      // Sharing the profile never holds up what is queued; what it could not queue is tried next time.
      await shareProfile(ctx).catch((error: unknown) => {
        this.#profileOwed = true;
        console.warn(`emsg: the profile goes out later: ${(error as Error).message}`);
      });
    }
    this.#retryDue = await retryWelcomes(ctx, (o) => this.#onOutcome(o));
    await flushOutgoing(ctx, catchUp);
    await runDeviceJobs(ctx, catchUp);
    await runReadds(ctx, catchUp);
    await groups.runRosterJobs(ctx, catchUp);
    await groups.removeLeavers(ctx, catchUp);
    // What those jobs queued (a group's name for a device just added) goes out now, not next time.
    await flushOutgoing(ctx, catchUp);
    await replenishKeyPackages(ctx);
  }

  /** Pulls everything waiting over HTTP (mail and held requests) and sends what is queued: the polling path. */
  sync(): Promise<void> {
    return this.#exclusive(async () => {
      await pollMailbox(this.#context(), (o) => this.#onOutcome(o));
      await friends.fetchHeldRequests(this.#context());
      await this.#afterItems();
    }).catch((error: unknown) => {
      this.#noteRemoved(error);
      throw error;
    });
  }

  /**
   * Fetches the friend requests held for review: what a connected app asks for, since they never
   * come through the mailbox. Polling the mailbox as well would apply it ahead of the socket's
   * replay, page by page, without the catch-up progress that replay shows.
   */
  fetchHeldRequests(): Promise<void> {
    return this.#exclusive(() => friends.fetchHeldRequests(this.#context()));
  }

  /** Whether the server said this device was removed from its account (the `removed` connection state). */
  get removed(): boolean {
    return this.#removed;
  }

  /** Takes a server's `device_removed` for what it says: the device stops, and says so once. */
  #noteRemoved(error: unknown): void {
    if (!(error instanceof EmsgError && error.code === "device_removed") || this.#removed) return;
    this.#removed = true;
    this.disconnect();
    this.events.emit("connection", { state: "removed", error: error.message });
  }

  /** Opens the mailbox WebSocket; resolves once it is open. Queued messages go out then. */
  async connect(): Promise<void> {
    this.disconnect();
    const ctx = this.#context();
    if (this.#removed) throw new EmsgError("device_removed");
    this.events.emit("connection", { state: "connecting" });
    const socket = await openMailboxSocket(ctx).catch((error: unknown) => {
      // No ticket: removed when the server says so, offline otherwise (and tried again by the platform).
      this.#noteRemoved(error);
      if (!this.#removed) this.events.emit("connection", { state: "offline", error: (error as Error).message });
      throw error;
    });
    this.#backlog = undefined;
    // The server sends the backlog as soon as it accepts, and a socket may deliver that frame in
    // the same turn as its open (Node's ws does): frames are taken from the start.
    this.#socket = socket;
    socket.onmessage = (data) => {
      this.#frames.push({ socket, data });
      // A drain waiting or running takes it with the others; one is started when there was none to take.
      if (this.#frames.length === 1) void this.#exclusive(() => this.#drainFrames());
    };
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = (error) => reject(new EmsgError("unavailable", `The mailbox connection failed: ${String(error)}`));
      socket.onclose = (code) => reject(new EmsgError("unavailable", `The mailbox connection closed (${code}).`));
    }).catch((error: unknown) => {
      if (this.#socket === socket) this.#socket = undefined;
      this.events.emit("connection", { state: "offline", error: (error as Error).message });
      throw error;
    });
    socket.onerror = () => undefined;
    socket.onclose = (code) => (code === CLOSE_DEVICE_REMOVED && this.#socket === socket ? this.#noteRemoved(new EmsgError("device_removed")) : this.#dropped(socket));
    this.events.emit("connection", { state: "online" });
    await this.#exclusive(() => this.#afterItems()).catch((error: unknown) => {
      console.warn(`emsg: connected, but queued items wait for the next try: ${(error as Error).message}`);
    });
    void this.#attachments.resume().catch((error: unknown) => console.warn(`emsg: an upload waits for the next connect: ${(error as Error).message}`));
    this.#dropUnsendable();
    this.#deleteBlobs();
  }

  /** Applies the frames waiting, in order, the next one read while the one before is written (applyFrames). */
  async #drainFrames(): Promise<void> {
    const taken = new Set<SocketLike>();
    const next = (): MailboxFrame | undefined => {
      for (let queued = this.#frames.shift(); queued; queued = this.#frames.shift()) {
        const frame = parseServerFrame(queued.data);
        if (frame?.t !== "items") continue;
        taken.add(queued.socket);
        if (frame.left !== undefined) this.#backlog ??= { done: 0, total: frame.items.length + frame.left };
        if (this.#backlog) this.events.emit("catchUp", this.#backlog);
        return { socket: queued.socket, items: frame.items, ...(frame.left === undefined ? {} : { left: frame.left }) };
      }
      return undefined;
    };
    try {
      // Only between frames of a backlog with more to come: after the last, and a live one, what is queued goes out.
      await applyFrames(this.#context(), next, (frame) => (frame.left ?? 0) > 0, (o) => this.#onOutcome(o), (frame, upTo) => this.#onApplied(frame, upTo));
    } catch (error) {
      // Nothing from the frame that failed on was acknowledged, so the server sends it again on the next connect.
      console.error("emsg: applying mailbox items failed", error);
      for (const { socket } of this.#frames.splice(0)) taken.add(socket);
      for (const socket of taken) {
        socket.close(1011, "client error");
        this.#dropped(socket, (error as Error).message);
      }
    }
  }

  /** A frame is stored: it is acknowledged, the catch-up progress told, and what is queued sent once the backlog is in. */
  async #onApplied({ socket, items, left }: MailboxFrame, upTo: number): Promise<void> {
    if (items.length > 0 && this.#socket === socket) socket.send(JSON.stringify({ t: "ack", upTo }));
    if (this.#backlog) {
      const done = left === 0 ? this.#backlog.total : Math.min(this.#backlog.done + items.length, this.#backlog.total);
      this.#backlog = { ...this.#backlog, done };
      this.events.emit("catchUp", this.#backlog);
      // What is queued (receipts) goes out once the backlog is in, never beside a frame of it being applied.
      if (done < this.#backlog.total || (left ?? 0) > 0) return;
      this.#backlog = undefined;
    }
    await this.#afterItems().catch((error) => console.warn(`emsg: sending after sync failed: ${(error as Error).message}`));
  }

  #dropped(socket: SocketLike, error?: string): void {
    if (this.#socket !== socket) return;
    this.#socket = undefined;
    this.events.emit("connection", error ? { state: "offline", error } : { state: "offline" });
  }

  get connected(): boolean {
    return this.#socket !== undefined;
  }

  disconnect(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.close(1000, "bye");
  }

  // ---- friends

  sendFriendRequest(address: string, note = ""): Promise<friends.Friend> {
    return friends.sendFriendRequest(this.#context(), parseAddress(address).address, note);
  }

  acceptFriend(address: string): Promise<friends.Friend> {
    return friends.respond(this.#context(), parseAddress(address).address, "accept");
  }

  declineFriend(address: string): Promise<friends.Friend> {
    return friends.respond(this.#context(), parseAddress(address).address, "decline");
  }

  /** Ends a friendship: the server and this device forget the address; chats with them stay readable. */
  async removeFriend(address: string): Promise<void> {
    await friends.removeFriend(this.#context(), parseAddress(address).address);
    this.#dropUnsendable();
  }

  /** Takes back a friend request this account sent, waiting or undelivered. */
  withdrawFriendRequest(address: string): Promise<void> {
    return friends.withdrawFriendRequest(this.#context(), parseAddress(address).address);
  }

  block(address: string): Promise<friends.Friend> {
    return friends.block(this.#context(), parseAddress(address).address);
  }

  friends(): Promise<friends.Friend[]> {
    return friends.listFriends(this.#context());
  }

  /** The 60-digit safety number with a friend, to compare out of band (PROTOCOL §4). */
  safetyNumber(address: string): Promise<string> {
    return peerSafetyNumber(this.#context(), parseAddress(address).address);
  }

  /** Whether an address is a registered account, as its home server says (friends.accountStanding). */
  accountStanding(address: string): Promise<friends.AccountStanding> {
    return friends.accountStanding(this.#context(), parseAddress(address).address);
  }

  // ---- moving an account (PROTOCOL §11)

  /**
   * Moves an exported account here: opens the archive, registers `newAddress` with a fresh account
   * key (on a device with no account; one that holds an account takes the old one into it), restores
   * settings and friends, tells the old server and introduces the new address to every friend.
   * Favorites and groups come back for the platform to keep. What cannot be done now is retried.
   */
  async importAccount(
    archive: string | Uint8Array | unknown,
    passphrase: string,
    newAddress?: string,
    { label = "device", server, onProgress }: { label?: string; server?: string; onProgress?: (progress: ImportProgress) => void } = {},
  ): Promise<ImportResult> {
    const step = (name: ImportProgress["step"], fraction = 1) => onProgress?.({ step: name, fraction });
    const contents = await readAccountArchive(archive, passphrase, { onProgress: (f) => step("unlock", f) });
    const fresh = !this.#ctx && !(await loadAccount(this.#options.store));
    if (fresh) {
      if (!newAddress) throw new EmsgError("bad_request", "Choose the new address to move the account to.");
      if (parseAddress(newAddress).address === contents.address) throw new EmsgError("conflict", "That is the address being moved away from.");
      step("register", 0);
      await this.register(newAddress, { label, ...(server ? { server } : {}) });
    } else if (!this.#ctx) await this.open();
    const ctx = this.#context();
    if (!fresh && newAddress && parseAddress(newAddress).address !== ctx.account.address) {
      throw new EmsgError("conflict", `This device holds ${ctx.account.address}; the account can only move into that one here.`);
    }
    step("restore", 0);
    // The account exists now: nothing after this may fail the import and leave its keys unkept.
    if (fresh) await updateSettings(ctx, contents.settings).catch((error: unknown) => console.warn(`emsg: settings not restored: ${(error as Error).message}`));
    const restored = await this.#exclusive(() => restoreFriends(ctx, contents));
    // The chats' history comes along (PROTOCOL §11), shown with each friend's and group's chat here.
    await this.#exclusive(() => restoreHistory(ctx, contents.address, contents.history ?? [])).catch((error: unknown) => console.warn(`emsg: the moved history is not kept: ${(error as Error).message}`));
    step("announce", 0);
    const status = (await this.#exclusive(() => continueMove(ctx, (d) => this.#apiFor(d), true)))!;
    step("done");
    return { ...status, address: ctx.account.address, friends: restored.length, favorites: contents.favorites, groups: contents.groups };
  }

  /** Where a move into this account stands; undefined when none was made here. */
  async moveStatus(): Promise<MoveStatus | undefined> {
    const record = await loadMove(this.#context());
    return record && statusOf(record);
  }

  /** Seals this account into an export archive (PROTOCOL §11); `favorites` are the platform's starred messages. */
  exportAccount(passphrase: string, opts: { favorites?: readonly FavoriteCopy[]; onProgress?: (fraction: number) => void; N?: number } = {}) {
    return sealExport(this.#context(), passphrase, opts);
  }

  /** Accepts owed to friends who asked again, and what is left of a move: before any message goes out. */
  async #moveJobs(ctx: CoreContext): Promise<void> {
    await payOwedAccepts(ctx);
    await continueMove(ctx, (d) => this.#apiFor(d));
  }

  // ---- conversations

  async #resolveTarget(target: string): Promise<{ conversation?: string; peer?: Address }> {
    // `@FRIEND` (a chat listed before its conversation exists) is the friend's address.
    if (target.startsWith("@")) return this.#resolveTarget(target.slice(1));
    if (target.includes("/")) {
      const record = await loadConversation(this.#context(), target);
      if (!record) throw new EmsgError("not_found", "No such conversation on this device.");
      // A friend's chat may be several 1:1s (friendChat): what is written goes where writing to them by address does.
      const key = friendChatKey(record);
      const chosen = key === undefined ? undefined : await conversationWith(this.#context(), record.peer!);
      return { conversation: chosen && friendChatKey(chosen) === key ? chosen.conversation : target };
    }
    const peer = parseAddress(target).address;
    const existing = await conversationWith(this.#context(), peer);
    return existing ? { conversation: existing.conversation, peer } : { peer };
  }

  /**
   * Where a message to `target` goes: a conversation this device may write in, or a friend (by
   * address) whose conversation is made on the first send; `into` is what the message is filed under.
   */
  async #writable(ctx: CoreContext, target: string): Promise<{ conversation?: string; peer?: Address; into: string }> {
    const { conversation, peer } = await this.#resolveTarget(await followMove(ctx, target));
    if (!conversation && !(await friends.pinnedKey(ctx, peer!))) throw new EmsgError("forbidden", `${peer} is not your friend yet.`);
    const record = conversation ? await loadConversation(ctx, conversation) : undefined;
    if (record?.left) throw new EmsgError("forbidden", "You are no longer a member of this group.");
    // Out of step, waiting to be let back in: what is written waits for it (PROTOCOL §8, Rejoining).
    if (record?.unsafe && !record.rejoin?.stuck) throw new EmsgError("unauthorized", record.unsafe);
    return { ...(conversation ? { conversation } : {}), ...(peer ? { peer } : {}), into: conversation ?? pendingConversation(peer!) };
  }

  /**
   * A new message's `sentAt`: now, but always after the one before. Receivers list a chat by
   * `sentAt` (ties by id, which is random): two texts written in the same millisecond (a paste of
   * lines, a caption after its file) showed in either order.
   */
  #sentAt(): number {
    this.#lastSentAt = Math.max(this.#clock.now(), this.#lastSentAt + 1);
    return this.#lastSentAt;
  }

  /**
   * Sends a text to a friend (by address) or into a conversation. It is stored as `sending` at
   * once and goes out now if the server is reachable, or on the next connect otherwise.
   */
  async sendText(target: string, text: string, { replyTo }: { replyTo?: string } = {}): Promise<MessageRecord> {
    const ctx = this.#context();
    const { conversation, peer, into } = await this.#writable(ctx, target);
    // A reply quotes a message of the same conversation (PROTOCOL §8.1).
    if (replyTo !== undefined && (await findMessage(ctx, replyTo))?.conversation !== into) throw new EmsgError("not_found", "The message to reply to is not in this conversation.");
    const sentAt = this.#sentAt();
    // The chat's timer goes with the text, so every receiver deletes it when this device does (PROTOCOL §8.1).
    const expiresAt = await expiresAtFor(ctx, await this.#chatKey(target), await keptRetentionDays(ctx), sentAt);
    const content = newText(text, sentAt, { ...(replyTo === undefined ? {} : { replyTo }), ...(expiresAt === undefined ? {} : { expiresAt }) });
    const message: MessageRecord = {
      id: content.id,
      conversation: into,
      from: ctx.account.address,
      direction: "out",
      text: content.text,
      at: content.sentAt,
      status: "sending",
      ...(replyTo === undefined ? {} : { replyTo }),
      ...(expiresAt === undefined ? {} : { expiresAt }),
    };
    // Stored at once, not behind earlier sends still being encrypted and submitted: a message
    // written meanwhile survives a reload. Both are new keys; a flush already running leaves
    // the entry to the next one, which follows below.
    await saveMessage(ctx, message);
    await enqueue(ctx, { content, ...(conversation ? { conversation } : { peer: peer! }) });
    // In turn: its bucket is rewritten by every message read too.
    void this.#exclusive(() => indexMessages(ctx, [message])).catch((error: unknown) => console.warn(`emsg: a sent message is not searchable: ${(error as Error).message}`));
    this.events.emit("message", message);
    if (!conversation) await this.#listPending(ctx, peer!);
    void this.#exclusive(() => this.#touch(conversation, message)).catch((error: unknown) => {
      console.warn(`emsg: the chat list shows the previous last message for now: ${(error as Error).message}`);
    });
    this.#sendSoon();
    return message;
  }

  /**
   * Sends a file (PROTOCOL §15) to a friend or into a conversation, as `sendText` does a text: shown
   * as `sending` at once, sealed and uploaded to this account's server (progress and cancel through
   * `options`), then its pointer is queued. Offline, the upload resumes on the next connect.
   */
  async sendFile(target: string, source: FileSource, media: MediaInfo = {}, options: TransferOptions = {}): Promise<MessageRecord> {
    const ctx = this.#context();
    const { conversation, peer, into } = await this.#writable(ctx, target);
    const sentAt = this.#sentAt();
    // As a text: the chat's timer goes with it, and the server deletes the blob then (PROTOCOL §15.4).
    const expiresAt = await expiresAtFor(ctx, await this.#chatKey(target), await keptRetentionDays(ctx), sentAt);
    const base = { conversation: into, from: ctx.account.address, direction: "out" as const, ...(expiresAt === undefined ? {} : { expiresAt }) };
    const message = await this.#attachments.prepare(base, conversation ? { conversation } : { peer: peer! }, source, media, sentAt);
    // Listed at once, not when an upload of minutes is done: a new chat's row too, as `@FRIEND`.
    if (conversation) {
      void this.#exclusive(() => this.#touch(conversation, message)).catch((error: unknown) => {
        console.warn(`emsg: the chat list shows the previous last message for now: ${(error as Error).message}`);
      });
    } else await this.#listPending(ctx, peer!);
    await this.#attachments.run(message.id, options);
    return (await findMessage(ctx, message.id)) ?? message;
  }

  /** Announces the chat with `peer` whose first messages wait for its conversation, as the list shows it. */
  async #listPending(ctx: CoreContext, peer: Address): Promise<void> {
    // Not when a send meanwhile made the conversation: that one is the chat's row then.
    const summary = (await pendingSummaries(ctx, await listConversations(ctx), ctx.account.address)).find((s) => s.peer === peer);
    if (summary) this.events.emit("conversation", summary);
  }

  /**
   * The plaintext of a message's attachment, fetched from its sender's server and checked (length,
   * every chunk's tag, the hash). A damaged or expired one is marked so on the message, and throws.
   */
  downloadAttachment(messageId: string, options: TransferOptions = {}): Promise<Uint8Array> {
    return this.#attachments.fetch(messageId, options);
  }

  /** The uploads the core went on with by itself (after a restart, or back online) and runs now; `upload` events follow each. */
  uploads(): Promise<UploadProgress[]> {
    return Promise.resolve(this.#attachments.uploads());
  }

  /** Stops sending a file, running or waiting for a server: its message is marked failed, as cancelled. */
  cancelUpload(messageId: string): Promise<void> {
    return this.#attachments.cancel(messageId);
  }

  async #touch(conversation: string | undefined, message: MessageRecord): Promise<void> {
    const ctx = this.#context();
    const record = conversation ? await loadConversation(ctx, conversation) : undefined;
    if (!record) return;
    // A flush that was waiting for its turn already may have sent it, or had it refused, before this
    // turn came: the line shows the status it has now, not the `sending` it was written with.
    const { id, from, text, at, direction, status } = (await findMessage(ctx, message.id)) ?? message;
    await saveConversation(ctx, { ...record, last: { id, from, text, at, direction, status } });
  }

  /** Sends what is queued now; resolves with how many entries still wait. */
  flush(): Promise<number> {
    const ctx = this.#context();
    // Uploads that met no server go on too: the socket may have outlived the drop that stopped them.
    void this.#attachments.resume().catch((error: unknown) => console.warn(`emsg: an upload waits for the next connect: ${(error as Error).message}`));
    return this.#exclusive(() => flushOutgoing(ctx, () => pollMailbox(ctx, (o) => this.#onOutcome(o))));
  }

  /**
   * The chats on this device, and those whose history moved in with the account and have no
   * conversation here yet: a friend's as `@FRIEND` (a target like the address), a group's as one left.
   */
  async conversations(): Promise<ConversationSummary[]> {
    const ctx = this.#context();
    const live = await listConversations(ctx);
    // A chat whose first message waits (for its upload, or offline) is listed before its conversation exists.
    const listed = [...live, ...(await pendingSummaries(ctx, live, ctx.account.address))];
    return [...listed, ...(await movedSummaries(ctx, listed, ctx.account.address))];
  }

  /**
   * A conversation's messages (by conversation or by the friend's address), oldest first, with the
   * history that moved in with the account for the same friend or group, and a friend's other 1:1s
   * shown as one chat with it (friendChat). A group the account had before it moved, not joined
   * again here, shows that history alone.
   */
  async history(target: string, options: HistoryPage = {}): Promise<MessageRecord[]> {
    const ctx = this.#context();
    if (await this.#movedGroup(target)) return history(ctx, movedChat(target), options);
    const { conversation, peer } = await this.#resolveTarget(target);
    const record = conversation ? await loadConversation(ctx, conversation) : undefined;
    const live = record ? await friendChat(ctx, record) : [conversation ?? pendingConversation(peer!)];
    return history(ctx, [...live, movedChat(await this.#chatKey(target))], options);
  }

  /** The chats whose history moved in with the account: friends and groups, with their names as they were. */
  movedHistories(): Promise<MovedChat[]> {
    return movedChats(this.#context());
  }

  /**
   * The conversation is on screen (with the 1:1s shown as one chat with it): unread goes to zero
   * and, if the account shares them, a `read` receipt goes out. In turn with everything else: the record it rewrites holds the group state,
   * and one read before a send advanced it would put back a message key already used (PROTOCOL §6).
   */
  async markRead(target: string): Promise<void> {
    await this.#exclusive(async () => {
      // A group's history that moved in, not joined again, has nothing to mark.
      if (target.includes("/") && !(await loadConversation(this.#context(), target))) return;
      const { conversation } = await this.#resolveTarget(target);
      const record = conversation ? await loadConversation(this.#context(), conversation) : undefined;
      for (const each of record ? await friendChat(this.#context(), record) : []) await actions.markRead(this.#context(), each);
    });
    this.#sendSoon();
  }

  /** Runs a change to a shown message in turn with everything else, then sends it. */
  async #messageChange(change: (ctx: CoreContext) => Promise<MessageRecord>): Promise<MessageRecord> {
    const result = await this.#exclusive(() => change(this.#context()));
    this.#sendSoon();
    return result;
  }

  /** Messages whose words hold every word of `query` (case and accents aside), newest first; over this device's store. */
  search(query: string, options: SearchOptions = {}): Promise<MessageRecord[]> {
    return this.#exclusive(() => searchMessages(this.#context(), query, options));
  }

  /** Adds (or, with `op: "remove"`, takes back) this account's reaction `emoji` to a message. */
  react(id: string, emoji: string, op: "add" | "remove" = "add"): Promise<MessageRecord> {
    return this.#messageChange((ctx) => actions.react(ctx, id, emoji, op));
  }

  /** New words for one of this account's messages, for everyone in its conversation. */
  editMessage(id: string, text: string): Promise<MessageRecord> {
    return this.#messageChange((ctx) => actions.edit(ctx, id, text));
  }

  /** Deletes one of this account's messages for everyone in its conversation; a "deleted" line stays. */
  deleteForEveryone(id: string): Promise<MessageRecord> {
    return this.#messageChange((ctx) => actions.deleteForEveryone(ctx, id)).then((message) => {
      this.#deleteBlobs();
      return message;
    });
  }

  /**
   * Whether a message of this account that failed to send can be sent again now (a client offers
   * Retry only then): its conversation still takes what this device writes, and a file is still on
   * our server or, for an upload never finished, at hand in this process.
   */
  async canRetry(id: string): Promise<boolean> {
    if (this.#removed) return false;
    const ctx = this.#context();
    const message = await failedOwn(ctx, id).catch(() => undefined);
    return message !== undefined && (await cannotRetry(ctx, message, await this.#attachments.holdsFile(id))) === undefined;
  }

  /**
   * Sends a failed message of this account again, at the user's word only: a text, or a file's
   * pointer, under a new Submit id with the same content id; a file whose upload never finished is
   * uploaded again. Refused (`canRetry` false) with the reason.
   */
  async retryMessage(id: string): Promise<MessageRecord> {
    if (this.#removed) throw new EmsgError("device_removed");
    const ctx = this.#context();
    const { message, upload } = await this.#exclusive(async () => {
      const failed = await failedOwn(ctx, id);
      const refusal = await cannotRetry(ctx, failed, await this.#attachments.holdsFile(id));
      if (refusal) throw refusal;
      if (!failed.attachment || uploaded(failed.attachment)) return { message: await resendFailed(ctx, failed), upload: false };
      const again = await this.#attachments.again(failed);
      await announceSending(ctx, again);
      return { message: again, upload: true };
    });
    if (upload) {
      // Its progress goes out as `upload` events; a refusal marks it failed again.
      void this.#attachments.run(id).catch((error: unknown) => console.warn(`emsg: the file could not be sent again: ${(error as Error).message}`));
    } else this.#sendSoon();
    return message;
  }

  /** Deletes a message of this account that failed to send from this device (nobody else has it). */
  async deleteFailed(id: string): Promise<void> {
    const ctx = this.#context();
    await this.#exclusive(async () => {
      await discardFailed(ctx, await failedOwn(ctx, id));
      await this.#attachments.forgetFile(id);
    });
    this.#deleteBlobs();
  }

  /** Drops the kept bytes of failed files that can no longer be sent again, in turn with Retry and Delete. */
  #dropUnsendable(): void {
    void this.#exclusive(() => this.#attachments.dropUnsendable()).catch((error: unknown) => console.warn(`emsg: failed files' bytes are dropped on the next connect: ${(error as Error).message}`));
  }

  /** Deletes on the server the blobs of this account's messages that are gone; what cannot be reached waits for the next connect. */
  #deleteBlobs(): void {
    void deleteForgottenBlobs(this.#context()).catch((error: unknown) => console.warn(`emsg: blobs wait to be deleted: ${(error as Error).message}`));
  }

  readonly #typingSent = new Map<string, number>();

  /**
   * The user is typing in a conversation (or stopped: cleared or sent the draft). Sent at most every
   * 4 seconds, never kept for later, and not at all when the account shares no read receipts.
   */
  async setTyping(target: string, typing: boolean): Promise<void> {
    const ctx = this.#context();
    const { conversation } = await this.#resolveTarget(target);
    if (!conversation || !(await readReceiptsOn(ctx))) return;
    const last = this.#typingSent.get(conversation);
    const now = this.#clock.now();
    if (typing ? last !== undefined && now - last < TYPING_EVERY_MS : last === undefined) return;
    if (typing) this.#typingSent.set(conversation, now);
    else this.#typingSent.delete(conversation);
    await this.#exclusive(() => enqueue(ctx, { content: newTyping(typing ? "typing" : "stopped", now), conversation }));
    this.#sendSoon();
  }

  // ---- groups (PROTOCOL §12)

  #catchUp(ctx: CoreContext): () => Promise<void> {
    return () => pollMailbox(ctx, (o) => this.#onOutcome(o));
  }

  /** Runs a group change in turn with everything else, then sends what it queued (the name, say). */
  async #groupChange<T>(change: (ctx: CoreContext) => Promise<T>): Promise<T> {
    const ctx = this.#context();
    const result = await this.#exclusive(() => change(ctx));
    this.#sendSoon();
    return result;
  }

  /**
   * Makes a group of this account and `members` (friends' addresses, at least two), hosted on this
   * account's server, and sends its name to everyone. A member who is not a friend is `forbidden`.
   */
  async createGroup(title: string, members: string[]): Promise<ConversationSummary> {
    const addresses = members.map((m) => parseAddress(m).address);
    return summaryOf(await this.#groupChange((ctx) => groups.createGroupConversation(ctx, title, addresses)));
  }

  renameGroup(conversation: string, title: string): Promise<void> {
    return this.#groupChange((ctx) => groups.renameGroup(ctx, conversation, title));
  }

  /** Adds friends to a group; they read only what is sent after. */
  addToGroup(conversation: string, members: string[]): Promise<void> {
    const addresses = members.map((m) => parseAddress(m).address);
    return this.#groupChange((ctx) => groups.addToGroup(ctx, conversation, addresses, this.#catchUp(ctx)));
  }

  /** Removes members (all their devices); they receive nothing sent after. */
  removeFromGroup(conversation: string, members: string[]): Promise<void> {
    const addresses = members.map((m) => parseAddress(m).address);
    return this.#groupChange((ctx) => groups.removeFromGroup(ctx, conversation, addresses, this.#catchUp(ctx)));
  }

  /** Leaves a group: the others are told and one of them commits the removal; the history stays here. */
  async leaveGroup(conversation: string): Promise<void> {
    await this.#groupChange((ctx) => groups.leaveGroup(ctx, conversation));
    this.#dropUnsendable();
  }

  // ---- sessions and direct channels (PROTOCOL §10)

  /**
   * Opens a session to the conversation's hub while it is on screen (and, with `peers`, direct
   * channels to the other members' devices); resolves with the path. Without a conversation yet,
   * in a group this account left, or when the hub cannot be reached, it stays "relay".
   */
  async openSession(target: string): Promise<MessagePath> {
    const { conversation } = await this.#resolveTarget(target);
    // A group this account left takes no new messages: nothing to hurry along.
    if (!conversation || (await loadConversation(this.#context(), conversation))?.left) return "relay";
    return this.#live.open(conversation);
  }

  /** Closes a conversation's session (all of them without a target); what waits goes out by the mailbox. */
  async closeSession(target?: string): Promise<void> {
    if (target === undefined) return this.#live.closeAll();
    const { conversation } = await this.#resolveTarget(target);
    if (conversation) this.#live.close(conversation);
  }

  /** How the conversation's messages travel now; the `path` event tells of every change. */
  pathOf(conversation: string): MessagePath {
    return this.#live.pathOf(conversation);
  }

  /** The platform calls this every minute or so: pings open sessions, closes idle or unanswering ones. */
  tickSessions(idleMs = SESSION_IDLE_CLOSE_MS): void {
    this.#live.tick(this.#clock.now(), idleMs);
  }

  /** A session item or direct message is applied like a mailbox item: in order, then receipts and sends. */
  #applyLive(step: (ctx: CoreContext) => Promise<ConvOutcome>): Promise<void> {
    return this.#exclusive(async () => {
      await this.#onOutcome(await step(this.#context()));
      await this.#afterItems().catch((error) => console.warn(`emsg: sending after a live item failed: ${(error as Error).message}`));
    });
  }

  // ---- display name and avatar (PROTOCOL §8.2)

  /** This account's profile, as set on any of its devices; undefined until one is. */
  profile(): Promise<Profile | undefined> {
    return ownProfile(this.#context());
  }

  /** Every account's latest profile this device holds, this account's own among them. */
  profiles(): Promise<Map<Address, Profile>> {
    return knownProfiles(this.#context());
  }

  /**
   * Sets this account's display name (trimmed, NFC; `bad_request` when empty, over 64 characters or
   * holding control or direction characters) and avatar (`null` removes it, omitted keeps it), and
   * sends it to every friend and group.
   */
  async setProfile(name: string, avatar?: Avatar | null): Promise<Profile> {
    const profile = await this.#exclusive(() => setOwnProfile(this.#context(), name, avatar));
    this.#profileOwed = true;
    this.#sendSoon();
    return profile;
  }

  /** Names this device's user gave people (kept here only); they win over display names. */
  nicknames(): Promise<Map<Address, string>> {
    return nicknames(this.#context());
  }

  /** Gives someone a nickname on this device (`null` or empty takes it away); `bad_request` as for a display name. */
  setNickname(address: string, nickname: string | null): Promise<string | null> {
    return this.#exclusive(() => setNickname(this.#context(), parseAddress(address).address, nickname));
  }

  // ---- settings, expiry, deletion

  settings(): Promise<Settings> {
    return loadSettings(this.#context());
  }

  setSettings(change: Partial<Settings>): Promise<Settings> {
    return updateSettings(this.#context(), change);
  }

  /**
   * A chat's own retention (the friend's address, or a conversation id): days, `null` to keep
   * forever, `undefined` when it follows the account's setting.
   */
  async chatRetention(target: string): Promise<number | null | undefined> {
    return chatRetention(this.#context(), await this.#chatKey(target));
  }

  /**
   * Sets a chat's disappearing-messages timer for everyone in it (PROTOCOL §8.1): days, `null` to
   * keep forever, `undefined` for each device's own setting. The others are told and each sees a
   * notice; `expire()` applies it.
   */
  async setChatRetention(target: string, days: number | null | undefined): Promise<void> {
    const ctx = this.#context();
    checkTimerDays(days);
    const chat = await this.#chatKey(target);
    const { conversation, peer, into } = await this.#writable(ctx, target);
    await this.#exclusive(() => setChatTimer(ctx, chat, conversation ? { conversation, into } : { peer: peer!, into }, days));
    this.#expiryDue = ctx.clock.now();
    this.#sendSoon();
  }

  #expiryDue: number | undefined;
  #retryDue: number | undefined;

  /**
   * When a Welcome this device could not take for now (its server busy or rate limiting) is next
   * tried again (undefined: none waits). Applying mail or a sync tries it when due; a device that
   * gets nothing meanwhile has the platform call `retryDue()` then.
   */
  get nextRetry(): number | undefined {
    return this.#retryDue;
  }

  /** Tries again what waits for a retry and is due now (see nextRetry), and sends what is queued. */
  retryDue(): Promise<void> {
    return this.#exclusive(() => this.#afterItems());
  }

  /**
   * When `expire()` next has something to delete, as far as this device knows (undefined: nothing
   * will): the platform runs it then. A message arriving with a timer, or a chat's timer changing,
   * brings it forward.
   */
  get nextExpiry(): number | undefined {
    return this.#expiryDue;
  }

  #expiryNoticed(message: MessageRecord): void {
    const due = message.notice?.type === "timer" ? this.#clock.now() : message.expiresAt;
    if (due !== undefined) this.#expiryDue = Math.min(this.#expiryDue ?? due, due);
  }

  /** A 1:1's setting follows the friend, so it holds before the conversation exists; a group's is its own. */
  /** A group whose history moved in with the account, not joined again here: read from its moved words alone. */
  async #movedGroup(target: string): Promise<boolean> {
    const ctx = this.#context();
    return target.includes("/") && !(await loadConversation(ctx, target)) && (await movedChats(ctx)).some((c) => c.chat === target);
  }

  async #chatKey(target: string): Promise<string> {
    if (await this.#movedGroup(target)) return target;
    const { conversation, peer } = await this.#resolveTarget(target);
    if (peer) return peer;
    return (await loadConversation(this.#context(), conversation!))?.peer ?? conversation!;
  }

  /**
   * Deletes messages past their time (the timer they were sent with, their chat's timer, else the
   * account's setting), in turn with everything else so a message being applied or sent is never
   * deleted halfway; returns their ids and sets `nextExpiry`.
   */
  expire(now = this.#clock.now()): Promise<string[]> {
    const ctx = this.#context();
    return this.#exclusive(async () => {
      const { expired, next } = await expiryPlan(ctx, (await loadSettings(ctx)).retentionDays, now);
      this.#expiryDue = next;
      for (const message of expired) await deleteMessage(ctx, message);
      await forgetBlobs(ctx, expired);
      this.#deleteBlobs();
      // Their words leave the search index too, and changes held for messages that never came go.
      await unindexMessages(ctx, expired.map((m) => m.id));
      await cleanHeld(ctx, now);
      await this.#attachments.dropUnsendable();
      return expired.map((m) => m.id);
    });
  }

  /**
   * Empties this device's store with the platform's `clear` (a device its account removed), and drops
   * what the platform kept of uploads and failed files too: nothing in the store points to them after.
   */
  async clearDevice(clear: () => Promise<void>): Promise<void> {
    await this.#exclusive(() => this.#attachments.erasing(clear));
  }

  /** Deletes the account on its server (friends are told) and everything this device kept. */
  async deleteAccount(): Promise<void> {
    const ctx = this.#context();
    this.#live.closeAll();
    this.disconnect();
    await this.#exclusive(() => this.#attachments.erasing(() => deleteAccount(ctx)));
    this.#ctx = undefined;
  }
}
