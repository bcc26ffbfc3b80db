/**
 * A message's words as runs of text and links. Only http and https addresses become links, so a
 * `javascript:` or `data:` text stays plain words; the view opens them with rel="noopener noreferrer".
 */
export type TextPart = { text: string; href?: string };

// An address ends before trailing punctuation that usually closes the sentence around it.
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"]+/giu;
const TRAILING = /[.,;:!?)\]}'"»”’]+$/u;

function safeHref(candidate: string): string | undefined {
  try {
    const url = new URL(candidate);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : undefined;
  } catch {
    // Not an address after all (a bare "http://"): it stays text.
    return undefined;
  }
}

export function textParts(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let at = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const raw = match[0].replace(TRAILING, "");
    const href = safeHref(raw);
    if (!href) continue;
    if (match.index > at) parts.push({ text: text.slice(at, match.index) });
    parts.push({ text: raw, href });
    at = match.index + raw.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at) });
  return parts;
}
