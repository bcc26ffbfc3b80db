import { findAddresses, type FoundAddress } from "../../shared/address-detect.js";
import { EMSG_HOST_ATTRIBUTE } from "./friend-affordance.js";

export interface ScanLimits {
  /** Text nodes looked at per slice of work before yielding to the page. */
  nodesPerSlice: number;
  /** Affordances one page may get at most; a page listing thousands of addresses gets the first ones. */
  maxAffordances: number;
  /** Longest text node scanned; longer ones are data, not prose. */
  maxTextLength: number;
}

export const DEFAULT_LIMITS: ScanLimits = { nodesPerSlice: 400, maxAffordances: 100, maxTextLength: 20_000 };

// Never annotate inside code, editors, forms or anything the user does not read as prose.
const SKIP = new Set(["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE", "TEXTAREA", "INPUT", "SELECT", "OPTION", "CODE", "PRE", "KBD", "SAMP", "SVG", "MATH", "IFRAME", "OBJECT", "CANVAS", "HEAD", "TITLE"]);
// The button cannot go inside these without changing what a click on them does.
const INTERACTIVE = "a, button, label, summary, [role=button], [role=link]";
const MAYBE_ADDRESS = /[#\uFF03\uFE5F]/;

function skipped(element: Element): boolean {
  return SKIP.has(element.tagName.toUpperCase()) || element.hasAttribute(EMSG_HOST_ATTRIBUTE) || (element as HTMLElement).isContentEditable;
}

/** Whether a text node sits where annotating it is safe: not in an editable field, script, style or our own UI. */
export function scannable(node: Text): boolean {
  for (let el = node.parentElement; el; el = el.parentElement) if (skipped(el)) return false;
  return true;
}

export type Annotate = (node: Text, found: FoundAddress[]) => number;

/**
 * Watches a document and calls `annotate` for each readable text node holding addresses, in
 * small slices so a huge or busy page stays responsive. Returns a function that stops it.
 */
export function watchPage(document: Document, annotate: Annotate, limits: ScanLimits = DEFAULT_LIMITS): () => void {
  const pending: Node[] = [];
  let annotated = 0;
  let timer: number | undefined;
  const view = document.defaultView!;

  const schedule = (): void => {
    if (timer === undefined && pending.length > 0) timer = view.setTimeout(slice, 0);
  };

  const collect = (root: Node, out: Text[]): void => {
    if (root.nodeType === 3) {
      out.push(root as Text);
      return;
    }
    if (root.nodeType !== 1 && root.nodeType !== 9) return;
    if (root.nodeType === 1 && skipped(root as Element)) return;
    const walker = document.createTreeWalker(root, 0x1 | 0x4, {
      acceptNode: (n) => (n.nodeType === 1 ? (skipped(n as Element) ? 2 : 3) : 1),
    });
    for (let n = walker.nextNode(); n; n = walker.nextNode()) out.push(n as Text);
  };

  const slice = (): void => {
    timer = undefined;
    const texts: Text[] = [];
    while (pending.length > 0 && texts.length < limits.nodesPerSlice) collect(pending.shift()!, texts);
    for (const text of texts) {
      if (annotated >= limits.maxAffordances) break;
      const data = text.data;
      if (data.length > limits.maxTextLength || !MAYBE_ADDRESS.test(data) || !text.isConnected || !scannable(text)) continue;
      const found = findAddresses(data, { max: limits.maxAffordances - annotated });
      if (found.length > 0) annotated += annotate(text, found);
    }
    // Drop the mutations our own insertions caused, so they are not scanned again.
    observer.takeRecords();
    if (annotated < limits.maxAffordances) schedule();
  };

  const observer = new view.MutationObserver((records) => {
    if (annotated >= limits.maxAffordances) return;
    for (const record of records) {
      if (record.type === "characterData") pending.push(record.target);
      else for (const node of record.addedNodes) pending.push(node);
    }
    schedule();
  });
  observer.observe(document.documentElement, { childList: true, subtree: true, characterData: true });
  pending.push(document.body ?? document.documentElement);
  schedule();
  return () => {
    observer.disconnect();
    if (timer !== undefined) view.clearTimeout(timer);
  };
}

/**
 * Puts an element after each found address in a text node, and returns how many it placed.
 * Inside a link or button the element goes after that link or button instead.
 */
export function placeAfterAddresses(node: Text, found: FoundAddress[], make: (address: string) => HTMLElement): number {
  const interactive = node.parentElement?.closest(INTERACTIVE);
  if (interactive) {
    const address = found[0]!.address;
    const next = interactive.nextElementSibling;
    if (next?.hasAttribute(EMSG_HOST_ATTRIBUTE) && (next as HTMLElement).dataset.address === address) return 0;
    interactive.after(make(address));
    return 1;
  }
  for (let i = found.length - 1; i >= 0; i--) {
    const rest = node.splitText(found[i]!.end);
    node.parentNode!.insertBefore(make(found[i]!.address), rest);
  }
  return found.length;
}
