import type { Domain } from "../address.js";
import { EmsgError } from "../errors.js";
import { membersOf } from "../mls/group-state.js";
import { decodeGroupState } from "../mls/state-codec.js";
import { parseConversationRef, type ConvPayload, type Submit, type SubmitAccepted } from "../wire/index.js";
import type { CoreContext, LiveRoute } from "./context.js";
import { loadConversation } from "./conversation-record.js";
import { DirectLinks } from "./direct.js";
import { applyDirectCopy } from "./direct-receive.js";
import { applyConvItem, type ConvOutcome } from "./incoming-conv.js";
import type { PeerConnector } from "./peer-channel.js";
import type { ServerApi } from "./server-api.js";
import { SessionLink } from "./session-link.js";

/** How a conversation's messages travel now (PROTOCOL §10): via servers, via the hub, or browser to browser. */
export type MessagePath = "relay" | "session" | "direct";

/** A session nothing went through for this long is closed by `tick` (the hub would close it later). */
export const SESSION_IDLE_CLOSE_MS = 10 * 60_000;

/** A session with a submission unanswered this long is taken for dead and left for the mailbox path. */
export const SESSION_ANSWER_MS = 15_000;

export interface LiveHost {
  context(): CoreContext;
  /** Runs a step in order with everything else that changes state, then handles its outcome. */
  apply(step: (ctx: CoreContext) => Promise<ConvOutcome>): Promise<void>;
  /** Tells the platform a conversation's path changed. */
  changed(conversation: string, path: MessagePath): void;
  peers?: PeerConnector;
}

interface Live {
  session: SessionLink;
  direct: DirectLinks | undefined;
}

/**
 * The sessions (path 2) and direct channels (path 3) of the conversations on screen. The mailbox
 * (path 1) stays the durable path: everything that arrives live also arrives there and is
 * deduplicated, and whatever a closed session left unanswered goes out through it. No timers:
 * the platform calls `tick` for keep-alives and idle closing.
 */
export class LivePaths implements LiveRoute {
  readonly #host: LiveHost;
  readonly #live = new Map<string, Live>();
  readonly #opening = new Map<string, Promise<MessagePath>>();
  /** Conversations closed while their session was still opening. */
  readonly #unwanted = new Set<string>();
  readonly #paths = new Map<string, MessagePath>();

  constructor(host: LiveHost) {
    this.#host = host;
  }

  pathOf(conversation: string): MessagePath {
    return this.#paths.get(conversation) ?? "relay";
  }

  /** Opens a session for a conversation; resolves with its path ("relay" when the hub cannot be reached). */
  open(conversation: string): Promise<MessagePath> {
    if (this.#live.has(conversation)) return Promise.resolve(this.pathOf(conversation));
    this.#unwanted.delete(conversation);
    let opening = this.#opening.get(conversation);
    if (!opening) {
      opening = this.#start(conversation).finally(() => this.#opening.delete(conversation));
      this.#opening.set(conversation, opening);
    }
    return opening;
  }

  close(conversation: string): void {
    if (this.#opening.has(conversation)) this.#unwanted.add(conversation);
    this.#live.get(conversation)?.session.close();
  }

  closeAll(): void {
    for (const conversation of this.#opening.keys()) this.#unwanted.add(conversation);
    for (const live of [...this.#live.values()]) live.session.close();
  }

  /**
   * Keeps every session alive, renews the tickets due for it (the hub closes a session whose ticket
   * expired, §10), and closes those idle for `idleMs` or not answering.
   */
  tick(now: number, idleMs: number): void {
    for (const { session } of [...this.#live.values()]) {
      const waiting = session.oldestWaiting;
      if (now - session.lastActive >= idleMs || (waiting !== undefined && now - waiting >= SESSION_ANSWER_MS)) session.close();
      else {
        session.ping();
        if (session.renewalDue(now)) void session.renew(this.#host.context());
      }
    }
  }

  submit(conversation: string, submit: Submit): Promise<SubmitAccepted | undefined> | undefined {
    const live = this.#live.get(conversation);
    if (!live?.session.isOpen) return undefined;
    const now = this.#host.context().clock.now();
    if (submit.kind === "application") {
      live.direct?.send({ t: "conv", conversation: parseConversationRef(conversation).ref, id: submit.id, epoch: submit.epoch, mls: submit.mls });
    }
    return live.session.submit(submit, now);
  }

  async #start(conversation: string): Promise<MessagePath> {
    const ctx = this.#host.context();
    const record = await loadConversation(ctx, conversation);
    if (!record) throw new EmsgError("not_found", "No such conversation on this device.");
    const me = `${ctx.account.address}/${ctx.account.deviceId}`;
    let live: Live | undefined;
    let session: SessionLink;
    try {
      session = await SessionLink.open(ctx, conversation, {
        onItem: (item) => this.#onItem(live, item),
        onRtc: (from, data) => live?.direct?.onSignal(from, data),
        onClose: () => this.#closed(conversation, live),
      });
    } catch (error) {
      console.warn(`emsg: no session for ${conversation}, messages stay on the mailbox path: ${(error as Error).message}`);
      return "relay";
    }
    if (this.#unwanted.delete(conversation)) {
      session.close();
      return "relay";
    }
    const peers = this.#host.peers;
    live = { session, direct: undefined };
    if (peers) {
      live.direct = new DirectLinks(me, peers, {
        signal: (to, data) => session.signal(to, data),
        onFrame: (from, frame) => this.#onDirect(live!, from, frame),
        onChange: () => this.#update(conversation),
      });
    }
    this.#live.set(conversation, live);
    this.#update(conversation);
    live.direct?.start(await this.#peerDevices(ctx, conversation));
    return this.pathOf(conversation);
  }

  /** The other members' devices in the conversation's MLS group, as `ADDRESS/DEVICEID`. */
  async #peerDevices(ctx: CoreContext, conversation: string): Promise<string[]> {
    const record = await loadConversation(ctx, conversation);
    if (!record) return [];
    const devices = membersOf(await decodeGroupState(record.group));
    return devices.filter((d) => d.address !== ctx.account.address).map((d) => `${d.address}/${d.deviceId}`);
  }

  #onItem(live: Live | undefined, item: ConvPayload): void {
    if (!live || item.conversation !== live.session.conversation) return;
    live.session.lastActive = this.#host.context().clock.now();
    let release: (() => void) | undefined;
    void this.#host
      .apply(async (ctx) => {
        const outcome = await applyConvItem(ctx, item);
        // Stored now: the hub may spare this account the mailbox copy (§10, `got`); only an
        // application message's. Said with what the host sends after it (its delivery receipt),
        // so the hub has one event to handle, not two; alone once the host is done.
        if (item.type === "application") {
          release = live.session.holdGot();
          live.session.stored(item.hubSeq);
        }
        return outcome;
      })
      .then(
        () => release?.(),
        (error: unknown) => {
          release?.();
          // The mailbox delivers the same entry; it is read from there.
          if (!release) console.warn(`emsg: a session item (hub seq ${item.hubSeq}) was left for the mailbox: ${(error as Error).message}`);
        },
      );
  }

  #onDirect(live: Live, from: string, frame: Parameters<typeof applyDirectCopy>[1]): void {
    if (frame.conversation !== live.session.conversation) return;
    live.session.lastActive = this.#host.context().clock.now();
    void this.#host.apply((ctx) => applyDirectCopy(ctx, frame, from)).catch((error: unknown) => {
      console.warn(`emsg: a direct message was left for the hub's copy: ${(error as Error).message}`);
    });
  }

  #closed(conversation: string, live: Live | undefined): void {
    live?.direct?.closeAll();
    if (live && this.#live.get(conversation) === live) this.#live.delete(conversation);
    this.#update(conversation);
  }

  #update(conversation: string): void {
    const live = this.#live.get(conversation);
    const path: MessagePath = !live?.session.isOpen ? "relay" : live.direct?.open ? "direct" : "session";
    if (path === this.pathOf(conversation)) return;
    if (path === "relay") this.#paths.delete(conversation);
    else this.#paths.set(conversation, path);
    this.#host.changed(conversation, path);
  }
}
