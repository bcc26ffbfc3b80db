// The EMSG half's hot loop: MLS ciphertexts made before the clock, submitted over the sender's
// session socket straight to the hub (or through the sender's server, path 1), and counted off
// the receiver's mailbox WebSocket, which acknowledges every frame.
import { SessionLink } from "../shared/client/session-link.js";
import { encodeContent, newText } from "../shared/content.js";
import { loadConversation, saveConversation } from "../shared/client/conversation-record.js";
import { submitToHub } from "../shared/client/conversations.js";
import { openMailboxSocket, parseServerFrame } from "../shared/client/mailbox-sync.js";
import type { SocketLike } from "../shared/client/transport.js";
import { randomId16 } from "../shared/ids.js";
import { encrypt, epochOf } from "../shared/mls/index.js";
import { decodeGroupState, encodeGroupState } from "../shared/mls/state-codec.js";
import type { Submit } from "../shared/wire/conversation.js";
import type { Person } from "./emsg-people.js";
import type { Link } from "./load.js";
import { bodyText } from "./xmpp-load.js";

// The last characters of an MLS PrivateMessage are its AEAD tag: unique per message, and what a
// receiver that does not decrypt in the hot loop can recognise a message by.
const TAG_CHARS = 24;
export const tagOf = (mls: string) => mls.slice(-TAG_CHARS);

export interface Prepared {
  conversation: string;
  submits: Submit[];
  /** Message index by the tag of its ciphertext. */
  index: Map<string, number>;
}

/**
 * Encrypts `count` texts of ~`bytes` bytes from `sender` into `conversation`, in order, and stores
 * the advanced group state as the core would, so later sends go on from it.
 */
export async function prepare(sender: Person, conversation: string, count: number, bytes: number): Promise<Prepared> {
  const record = await loadConversation(sender.ctx, conversation);
  if (!record) throw new Error(`${sender.address} has no conversation ${conversation}`);
  let state = await decodeGroupState(record.group);
  const submits: Submit[] = [];
  const index = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const content = newText(bodyText(i, bytes), Date.now());
    const sent = await encrypt(state, encodeContent(content));
    state = sent.state;
    submits.push({ id: randomId16(), epoch: epochOf(state), kind: "application", mls: sent.mls });
    index.set(tagOf(sent.mls), i);
  }
  await saveConversation(sender.ctx, { ...record, group: encodeGroupState(state), epoch: epochOf(state) }, false);
  return { conversation, submits, index };
}

/** A receiver's mailbox socket: every frame is parsed like the client core does, then acknowledged. */
export interface Mailbox {
  socket: SocketLike;
  onItem: (mls: string) => void;
  close(): void;
}

export async function openMailbox(person: Person, onItem: (mls: string) => void = () => {}): Promise<Mailbox> {
  const socket = await openMailboxSocket(person.ctx);
  const mailbox: Mailbox = { socket, onItem, close: () => socket.close(1000, "bench done") };
  // Set before the open: the backlog may come in the same turn as the open itself.
  socket.onmessage = (data) => {
    const frame = parseServerFrame(data);
    if (frame?.t !== "items" || frame.items.length === 0) return;
    let upTo = 0;
    for (const item of frame.items) {
      upTo = Math.max(upTo, item.seq);
      if (item.kind === "conv" && item.type === "application") mailbox.onItem(item.mls);
    }
    socket.send(JSON.stringify({ t: "ack", upTo }));
  };
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = (error) => reject(new Error(`${person.address}'s mailbox socket failed: ${String(error)}`));
  });
  socket.onerror = () => {};
  return mailbox;
}

function deliveriesTo(receiver: Mailbox, prepared: Prepared): Link["onDelivery"] {
  return (handler) => {
    receiver.onItem = (mls) => {
      const i = prepared.index.get(tagOf(mls));
      if (i !== undefined) handler(i);
    };
  };
}

/** Path 1: messages go from `sender` through its server to the hub and on to `receiver`'s mailbox. */
export function emsgLink(sender: Person, receiver: Mailbox, prepared: Prepared): Link {
  return {
    send: async (i) => {
      await submitToHub(sender.ctx, prepared.conversation, prepared.submits[i]!);
    },
    onDelivery: deliveriesTo(receiver, prepared),
  };
}

export interface SessionBenchLink extends Link {
  close(): void;
}

/**
 * Path 2 (PROTOCOL §10), what a client uses while a conversation is active: `sender` holds a
 * session socket straight to the hub, opened with a ticket from its own server through the
 * client core; a message counts as taken when the hub's `ack` is back.
 */
export async function sessionLink(sender: Person, receiver: Mailbox, prepared: Prepared): Promise<SessionBenchLink> {
  const session = await SessionLink.open(sender.ctx, prepared.conversation, { onItem: () => {}, onRtc: () => {}, onClose: () => {} });
  return {
    send: async (i) => {
      if (!(await session.submit(prepared.submits[i]!, Date.now()))) throw new Error("the session closed before the hub answered");
    },
    onDelivery: deliveriesTo(receiver, prepared),
    close: () => session.close(),
  };
}

/** Submits every prepared message, `window` at a time; any refusal fails the whole batch. */
export async function submitAll(sender: Person, prepared: Prepared, window: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < prepared.submits.length) await submitToHub(sender.ctx, prepared.conversation, prepared.submits[next++]!);
  };
  await Promise.all(Array.from({ length: window }, worker));
}
