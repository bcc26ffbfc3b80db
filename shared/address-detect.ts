import { DOMAIN_MAX, NAME_MAX, parseAddress, type Address } from "./address.js";

/** An EMSG address found in running text; `start`/`end` are UTF-16 offsets into that text. */
export interface FoundAddress {
  address: Address;
  start: number;
  end: number;
}

export interface FindOptions {
  /** Stop after this many results, so a huge page costs bounded work. */
  max?: number;
}

// `#`, full-width `＃` and small `﹟`: all three NFKC-normalize to `#`.
const SEPARATOR = /[#\uFF03\uFE5F]/g;
// ASCII name characters and their full-width forms (NFKC folds them to ASCII).
const NAME_CHAR = /[A-Za-z0-9._\-\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A\uFF0E\uFF3F\uFF0D]/;
const NAME_EDGE = /[._\-\uFF0E\uFF3F\uFF0D]/;
// Host names may be international, but only in scripts written with spaces between words:
// Han, Kana or Hangul glued to an address are the sentence around it, not part of the host.
const HOST_CHAR = /[A-Za-z0-9.\-\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A\uFF0E\uFF0D\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}\p{M}]/u;
const HOST_EDGE = /[.\-\uFF0E\uFF0D]/;
const SPACELESS = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
const WORD = /[\p{L}\p{N}\p{M}]/u;
// Characters that, touching a candidate, mean it is part of a URL, an e-mail address, a
// query string or a selector rather than an address standing on its own.
const URLISH_BEFORE = /[/\\@#&=?%+~$*^|\uFF03\uFE5F\uFF20\uFF0F]/;
const URLISH_AFTER = /[/\\@#&=%_{[\uFF03\uFE5F\uFF20\uFF0F\uFF3F]/;
// These end a sentence harmlessly but, glued to a word, start a port, a pseudo-class or a query.
const GLUE_AFTER = /[:?(]/;
const PREFIX = "emsg:";

function gluedWord(ch: string | undefined): boolean {
  return ch !== undefined && WORD.test(ch) && !SPACELESS.test(ch);
}

/** Start of the name before the separator at `hash`, or -1 when what precedes it cannot start an address. */
function nameStart(text: string, hash: number): number {
  let i = hash;
  while (i > 0 && hash - i <= NAME_MAX && NAME_CHAR.test(text[i - 1]!)) i--;
  if (hash - i > NAME_MAX) return -1;
  while (i < hash && NAME_EDGE.test(text[i]!)) i++;
  if (i === hash) return -1;
  let before = i;
  while (before > 0 && NAME_EDGE.test(text[before - 1]!)) before--;
  const prev = text[before - 1];
  if (prev === ":" && text.slice(before - PREFIX.length, before).toLowerCase() === PREFIX) {
    const outer = text[before - PREFIX.length - 1];
    return gluedWord(outer) || (outer !== undefined && URLISH_BEFORE.test(outer)) ? -1 : before - PREFIX.length;
  }
  if (prev !== undefined && (gluedWord(prev) || URLISH_BEFORE.test(prev))) return -1;
  return i;
}

/** End (exclusive) of the host after the separator at `hash`, or -1 when what follows it continues a URL. */
function hostEnd(text: string, hash: number): number {
  let run = hash + 1;
  while (run < text.length && run - hash <= DOMAIN_MAX + 1 && HOST_CHAR.test(text[run]!)) run++;
  if (run - hash > DOMAIN_MAX + 1) return -1;
  const next = text[run];
  if (next !== undefined) {
    if (URLISH_AFTER.test(next) || gluedWord(next)) return -1;
    if (GLUE_AFTER.test(next) && gluedWord(text[run + 1])) return -1;
  }
  let end = run;
  while (end > hash + 1 && HOST_EDGE.test(text[end - 1]!)) end--;
  return end === hash + 1 ? -1 : end;
}

/**
 * Finds EMSG addresses (`name#host`) in running text, in any language, and returns each in
 * normal form with its range. Tuned against false positives: e-mail addresses, URLs with
 * fragments, hashtags, colours, issue references and headings are not addresses. Work is
 * linear in the text: each `#` looks at most one name and one host length around it.
 */
export function findAddresses(text: string, options: FindOptions = {}): FoundAddress[] {
  const max = options.max ?? Infinity;
  const found: FoundAddress[] = [];
  let from = 0;
  for (const match of text.matchAll(SEPARATOR)) {
    if (found.length >= max) break;
    const hash = match.index;
    if (hash < from) continue;
    const start = nameStart(text, hash);
    if (start < 0 || start < from) continue;
    const end = hostEnd(text, hash);
    if (end < 0) continue;
    try {
      found.push({ address: parseAddress(text.slice(start, end)).address, start, end });
      from = end;
    } catch {
      // Looked like an address but is not one (no dot in the host, an IP, a bad label…).
    }
  }
  return found;
}
