// A backlog of texts from one person to a friend, made faster than the client's queue sends:
// what the catch-up benchmarks (PWA and extension) and the extension's browser test give an account to catch up on.
import { loadConversation, saveConversation } from "../shared/client/conversation-record.js";
import { SessionLink } from "../shared/client/session-link.js";
import { encodeContent, newText } from "../shared/content.js";
import { encrypt, epochOf } from "../shared/mls/index.js";
import { decodeGroupState, encodeGroupState } from "../shared/mls/state-codec.js";
import type { Submit } from "../shared/wire/conversation.js";
import type { Person } from "./emsg-people.js";

// Submits in flight per sender over its session to the hub: one socket keeps them in order, and a
// signed HTTP request each (the benches' setup used to) took minutes for 10,000 on this machine.
const SUBMIT_WINDOW = 32;

/** `count` texts `${label} 0`, `${label} 1`... from `from` to `to`, encrypted ahead and submitted over a session to the hub. */
export function sendBacklog(from: Person, to: string, count: number, label = "backlog"): Promise<void> {
  return sendTexts(from, to, Array.from({ length: count }, (_, n) => `${label} ${n}`));
}

/** `texts`, in order, from `from` to their 1:1 with `to`, encrypted ahead and submitted over a session to the hub. */
export async function sendTexts(from: Person, to: string, texts: readonly string[]): Promise<void> {
  const conversation = (await from.client.conversations()).find((c) => c.peer === to)!.conversation;
  const record = (await loadConversation(from.ctx, conversation))!;
  let state = await decodeGroupState(record.group);
  const submits: Submit[] = [];
  const at = Date.now();
  for (const [n, text] of texts.entries()) {
    const content = newText(text, at + n);
    const sent = await encrypt(state, encodeContent(content));
    state = sent.state;
    // Under its content id, as the client's queue submits a text the first time (outgoing-window.ts).
    submits.push({ id: content.id, epoch: epochOf(state), kind: "application", mls: sent.mls });
  }
  await saveConversation(from.ctx, { ...record, group: encodeGroupState(state) }, false);
  const session = await SessionLink.open(from.ctx, conversation, { onItem: () => {}, onRtc: () => {}, onClose: () => {} });
  try {
    let next = 0;
    const submitNext = async () => {
      while (next < submits.length) if (!(await session.submit(submits[next++]!, Date.now()))) throw new Error(`${from.address}'s session closed before the hub answered`);
    };
    await Promise.all(Array.from({ length: SUBMIT_WINDOW }, submitNext));
  } finally {
    session.close();
  }
}

/**
 * Run inside the extension's origin (its worker or a tab of it): the texts its store holds, counted
 * in IndexedDB without reading them; 0 before the database exists (opening it would make an empty
 * one under the background). Self-contained, as Playwright's evaluate sends its source.
 */
export async function storedTextsInIndexedDb(): Promise<number> {
  if (!(await indexedDB.databases()).some((d) => d.name === "emsg-store")) return 0;
  return new Promise<number>((done, fail) => {
    const open = indexedDB.open("emsg-store");
    open.onerror = () => fail(open.error);
    open.onsuccess = () => {
      const count = open.result.transaction("entries").objectStore("entries").count(IDBKeyRange.bound("msg/", "msg/\uffff"));
      count.onsuccess = () => {
        open.result.close();
        done(count.result);
      };
      count.onerror = () => fail(count.error);
    };
  });
}
