import type { Limits } from "../shared/discovery.js";
import { MAX_BATCH_ITEMS, MAX_STREAM_BODY_BYTES } from "../shared/wire/index.js";

/** The most items, and bytes of body, one request to a peer may carry under our limits and its own. */
function requestLimits(peer: Limits | undefined): { count: number; bytes: number } {
  return {
    count: Math.min(MAX_BATCH_ITEMS, peer?.maxBatchItems ?? Infinity),
    // A stream frame's limit (PROTOCOL §7); the length counted is the JSON text's, and a body whose UTF-8 is longer goes by POST.
    bytes: Math.min(MAX_STREAM_BODY_BYTES, peer?.maxFederationBodyBytes ?? Infinity),
  };
}

/** The bytes of `{"items":[…]}` around and between the items' JSON. */
const ENVELOPE_BYTES = 16;

/** How many of `items` fit one request under our limits and the peer's, at least one. */
export function withinLimits<T>(items: readonly T[], json: (item: T) => string, peer: Limits | undefined): number {
  const { count: most, bytes } = requestLimits(peer);
  const count = Math.min(items.length, most);
  let size = ENVELOPE_BYTES;
  let n = 0;
  while (n < count) {
    size += json(items[n]!).length + 1;
    if (size > bytes && n > 0) break;
    n++;
  }
  return n;
}

/**
 * Splits handed-over items into the next request's and those left, each in order: as many as
 * fit our limits and the peer's (at least one), none of a conversation a request in flight
 * carries (`flying`: a handover too large for one request would otherwise go as two at once, and
 * the peer might apply the second first). Once one of a conversation's items is left, so are the
 * ones after it; the items of other conversations behind it still go: when a large request cut
 * one conversation's handover, the rest waited behind it and left lanes idle.
 */
export function takeFree<T extends { conversation: string; json: string }>(
  items: readonly T[],
  flying: ReadonlySet<string>,
  peer: Limits | undefined,
): { taken: T[]; left: T[] } {
  const { count, bytes } = requestLimits(peer);
  const taken: T[] = [];
  const left: T[] = [];
  const waiting = new Set(flying);
  let size = ENVELOPE_BYTES;
  for (const item of items) {
    const fits = taken.length < count && (taken.length === 0 || size + item.json.length + 1 <= bytes);
    if (fits && !waiting.has(item.conversation)) {
      taken.push(item);
      size += item.json.length + 1;
    } else {
      left.push(item);
      waiting.add(item.conversation);
    }
  }
  return { taken, left };
}
