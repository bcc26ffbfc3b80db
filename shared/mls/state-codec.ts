import { decodeGroupState as decodeMlsGroupState, encodeGroupState as encodeMlsGroupState } from "ts-mls";
import { fromB64u, toB64u } from "../base64url.js";
import { EmsgError } from "../errors.js";
import { asClient, asGroupState, type GroupState } from "./group-state.js";
import { cipherSuite, clientConfig } from "./suite.js";

// Leads the stored bytes so a later layout (or a ts-mls whose state codec changed) is told apart.
// 2: the secret tree stored as derived so far (patches/ts-mls); 1, every node's ratchets, still reads.
const FORMAT = 2;
const READABLE_FORMATS = new Set([1, FORMAT]);

/**
 * A group state as b64u text for the device's store: ts-mls's own TLS codec of the whole state
 * (epoch secrets, trees, retained past epochs, bigints and maps), behind one format byte.
 * Secret: it contains the device's signature key.
 */
export function encodeGroupState(state: GroupState): string {
  const body = encodeMlsGroupState(asClient(state));
  const out = new Uint8Array(body.length + 1);
  out[0] = FORMAT;
  out.set(body, 1);
  const text = toB64u(out);
  remember(text, state);
  return text;
}

// The states last encoded or decoded, by their text: a conversation's state is read back, moved on
// by one message and stored again for every message sent or read alone, and decoding it cost about
// as much as the message's crypto (~0.5 ms for a 1:1, ~6 ms for 50 members). A remembered state
// has one owner at a time: decoding takes it out, so two readers of one text at once (two clients
// on one store in a process) never share the object whose spent secrets the first one zeroes; a
// state also leaves once an operation that zeroes them takes it (forgetGroupState).
const MAX_REMEMBERED = 32;
const byText = new Map<string, GroupState>();
const textOf = new WeakMap<GroupState, string>();

function remember(text: string, state: GroupState): void {
  if (byText.size >= MAX_REMEMBERED && !byText.has(text)) byText.delete(byText.keys().next().value!);
  byText.set(text, state);
  textOf.set(state, text);
}

/** Drops every remembered state, as a restart would: for a device that locks or leaves its account. */
export function forgetGroupStates(): void {
  byText.clear();
}

/**
 * Zeroes the secrets an operation spent. ts-mls's zeroOutUint8Array fills each with random bytes
 * first (a call to the platform's generator each), ~2% of a catch-up's CPU in Chromium.
 */
export function wipeSpent(consumed: Uint8Array[]): void {
  for (const bytes of consumed) bytes.fill(0);
}

/** Called before `state`'s spent secrets are zeroed: its text decodes afresh from then on. */
export function forgetGroupState(state: GroupState): void {
  const text = textOf.get(state);
  if (text !== undefined && byText.get(text) === state) byText.delete(text);
  textOf.delete(state);
}

// States whose encoding waits for the end of a batch (see deferGroupState), by stand-in text.
const deferred = new Map<string, GroupState>();
// Not base64url, so never taken for an encoded state.
const DEFERRED = "\u0000deferred/";
let deferredCount = 0;

/**
 * A stand-in for `encodeGroupState(state)` that costs nothing now: a mailbox frame moves one
 * conversation's state on hundreds of times, and encoding and decoding it each time (~0.5 ms each
 * for a 1:1) cost as much as reading the message. `decodeGroupState` takes it back as the state;
 * `encodeDeferred` gives the real text, once, before anything is stored.
 */
export function deferGroupState(state: GroupState): string {
  const text = `${DEFERRED}${deferredCount++}`;
  deferred.set(text, state);
  return text;
}

export function isDeferred(text: string): boolean {
  return text.startsWith(DEFERRED);
}

/** The encoded state a stand-in holds. */
export function encodeDeferred(text: string): string {
  const state = deferred.get(text);
  if (state === undefined) throw new EmsgError("internal", "A conversation state was left unencoded.");
  return encodeGroupState(state);
}

/** Forgets stand-ins of a batch that was abandoned. */
export function dropDeferred(texts: Iterable<string>): void {
  for (const text of texts) deferred.delete(text);
}

export async function decodeGroupState(text: string): Promise<GroupState> {
  if (isDeferred(text)) {
    const state = deferred.get(text);
    if (state === undefined) throw new EmsgError("internal", "A conversation state was left unencoded.");
    return state;
  }
  const known = byText.get(text);
  if (known !== undefined) {
    byText.delete(text);
    textOf.delete(known);
    return known;
  }
  const bytes = fromB64u(text);
  if (!READABLE_FORMATS.has(bytes[0]!)) throw new EmsgError("bad_request", "A stored conversation state has an unknown format.");
  let decoded: ReturnType<typeof decodeMlsGroupState>;
  try {
    decoded = decodeMlsGroupState(bytes, 1);
  } catch {
    decoded = undefined;
  }
  if (decoded === undefined || decoded[1] !== bytes.length - 1) throw new EmsgError("bad_request", "A stored conversation state is damaged.");
  const [state] = decoded;
  const cs = await cipherSuite();
  if (state.groupContext.cipherSuite !== cs.name) throw new EmsgError("bad_request", "A stored conversation state uses another ciphersuite.");
  return asGroupState({ ...state, clientConfig });
}
