import type { Address } from "../shared/address.js";
import type { AuthorEvidence, ConvPayload } from "../shared/wire/index.js";

/**
 * A hub's entries as an Account call carries them: each entry's JSON text as its mailbox row
 * holds it, less its seq and at (one string for all), and, a column each, what the Account reads
 * of them. An object of nine keys an entry cost about three times more to copy across the call
 * than its text, and the Account made that text anyway: the caller makes it instead.
 */
export interface ConvEntries {
  /** `{"kind":"conv",` and the entry's fields but its `at`, without the closing brace; entry i ends at ends[i]. */
  text: string;
  ends: number[];
  /** Distinct authors and conversations, and each entry's index into them. */
  authors: Address[];
  authorOf: number[];
  conversations: string[];
  conversationOf: number[];
  /** Each entry's place in its hub's order (hubPosition). */
  positions: number[];
  /** The hub named entries whose author's device has its answer: the Account says whether it has one device. */
  asksSole: boolean;
  /** Of those, the application entries and their devices (see receiveConvBatch). */
  answered: { index: number; deviceId: string }[];
  /** A remote hub's evidence of each entry's author (PROTOCOL §9), none for a local hub's. */
  claims?: AuthorEvidence[];
}

/** `answered`: ids of entries whose author's device has the hub's answer; `claims` as in ConvEntries. */
export function convEntries(payloads: ConvPayload[], answered: string[] = [], claims?: AuthorEvidence[]): ConvEntries {
  const ownAnswered = new Set(answered);
  const entries: ConvEntries = { text: "", ends: [], authors: [], authorOf: [], conversations: [], conversationOf: [], positions: [], asksSole: answered.length > 0, answered: [], ...(claims ? { claims } : {}) };
  const texts: string[] = [];
  const authors = new Distinct(entries.authors);
  const conversations = new Distinct(entries.conversations);
  let end = 0;
  payloads.forEach((payload, i) => {
    const text = entryText(payload);
    texts.push(text);
    entries.ends.push((end += text.length));
    entries.authorOf.push(authors.indexOf(payload.from));
    entries.conversationOf.push(conversations.indexOf(payload.conversation));
    entries.positions.push(hubPosition(payload));
    if (payload.type === "application" && ownAnswered.has(payload.id)) entries.answered.push({ index: i, deviceId: payload.deviceId });
  });
  entries.text = texts.join("");
  return entries;
}

/** Entry `i`'s text (see ConvEntries.text). */
export function entryTextAt(entries: ConvEntries, i: number): string {
  return entries.text.slice(i === 0 ? 0 : entries.ends[i - 1], entries.ends[i]);
}

/** Entry `i` as a payload, for the rare check that needs all of it (an author's proof); its `at` is not carried. */
export function entryAt(entries: ConvEntries, i: number): Omit<ConvPayload, "at"> {
  const { kind: _kind, ...payload } = JSON.parse(`${entryTextAt(entries, i)}}`) as ConvPayload & { kind: "conv" };
  return payload;
}

/** The stored item: the entry's text closed with the mailbox's seq and at (PROTOCOL §6), each key once. */
export function storedItem(text: string, seq: number, at: number): string {
  return `${text},"seq":${seq},"at":${at}}`;
}

/** An entry's place in its hub's order: a commit's Welcome shares its hubSeq and comes after it. */
export function hubPosition(payload: ConvPayload): number {
  return payload.hubSeq * 2 + (payload.type === "welcome" ? 1 : 0);
}

/**
 * The entry's fields but its `at`, as JSON.stringify writes them, without the closing brace. A new
 * object of a fixed shape goes by workerd's fast JSON.stringify: an entry copied with its `at` left
 * out, or written by hand, took twice as long or more.
 */
function entryText(p: ConvPayload): string {
  const fields: Record<string, unknown> = { kind: "conv", conversation: p.conversation, id: p.id, hubSeq: p.hubSeq, from: p.from, deviceId: p.deviceId, epoch: p.epoch, type: p.type, mls: p.mls };
  if (p.members !== undefined) fields.members = p.members;
  if (p.withdraws !== undefined) fields.withdraws = p.withdraws;
  return JSON.stringify(fields).slice(0, -1);
}

/** Distinct values in the order first met, each given its index there. */
class Distinct<T> {
  private readonly index = new Map<T, number>();
  private last: { value: T; at: number } | undefined;

  constructor(private readonly values: T[]) {}

  indexOf(value: T): number {
    // Entries come in runs of one author and conversation.
    if (this.last?.value === value) return this.last.at;
    let at = this.index.get(value);
    if (at === undefined) this.index.set(value, (at = this.values.push(value) - 1));
    this.last = { value, at };
    return at;
  }
}
