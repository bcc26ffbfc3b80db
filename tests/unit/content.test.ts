import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { fromB64u, toB64u } from "../../shared/base64url.js";
import {
  type Content,
  decodeContent,
  encodeContent,
  newDelete,
  newEdit,
  newGroupTitle,
  newLeave,
  newReaction,
  newTyping,
  newReceipt,
  newText,
  RECEIPT_MAX_IDS,
  TEXT_MAX_CHARS,
} from "../../shared/content.js";
import { EmsgError } from "../../shared/errors.js";
import { randomId16 } from "../../shared/ids.js";

const utf8 = new TextEncoder();
const id16 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map(toB64u);
const ms = fc.integer({ min: 0, max: 4_102_444_800_000 });
const words = fc
  .string({ unit: "grapheme", minLength: 1, maxLength: 200 })
  .map((s) => s.normalize("NFC"))
  .filter((s) => s.length > 0);

const textContent = fc.record(
  { v: fc.constant(1 as const), id: id16, sentAt: ms, type: fc.constant("text" as const), text: words, replyTo: id16, expiresAt: ms },
  { requiredKeys: ["v", "id", "sentAt", "type", "text"] },
).filter((c) => c.expiresAt === undefined || c.expiresAt > c.sentAt);

const receiptContent = fc.record({
  v: fc.constant(1 as const),
  id: id16,
  sentAt: ms,
  type: fc.constant("receipt" as const),
  of: fc.array(id16, { minLength: 1, maxLength: RECEIPT_MAX_IDS }),
  state: fc.constantFrom("delivered" as const, "read" as const),
});

const content: fc.Arbitrary<Content> = fc.oneof(textContent, receiptContent);

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (!(e instanceof EmsgError)) throw e;
    return e.code;
  }
}

const base = { v: 1, id: randomId16(), sentAt: 1_764_000_000_000, type: "text", text: "hi" };
const decodeObject = (o: unknown) => decodeContent(utf8.encode(JSON.stringify(o)));

describe("message content", () => {
  it("round-trips every valid text and receipt exactly", () => {
    fc.assert(fc.property(content, (c) => {
      expect(decodeContent(encodeContent(c))).toEqual(c);
    }));
  });

  it("has one byte form: encoding what was decoded gives the same bytes", () => {
    fc.assert(fc.property(content, (c) => {
      const bytes = encodeContent(c);
      expect(encodeContent(decodeContent(bytes))).toEqual(bytes);
    }));
  });

  it("answers any bytes with content or a typed error, never a crash", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      codeOf(() => decodeContent(bytes));
    }));
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      expect(codeOf(() => decodeObject(value))).toMatch(/bad_request|unsupported_version|too_large/);
    }));
  });

  it("accepts a text of exactly the maximum length and refuses one character more", () => {
    expect(decodeObject({ ...base, text: "a".repeat(TEXT_MAX_CHARS) }).type).toBe("text");
    expect(codeOf(() => decodeObject({ ...base, text: "a".repeat(TEXT_MAX_CHARS + 1) }))).toBe("bad_request");
    expect(codeOf(() => decodeObject({ ...base, text: "" }))).toBe("bad_request");
  });

  it("counts characters, not UTF-16 units, and refuses text too large to send", () => {
    const emoji = decodeObject({ ...base, text: "😀".repeat(10_000) });
    expect(emoji.type === "text" && [...emoji.text].length).toBe(10_000);
    // 16384 four-byte characters are within the character limit but over CONTENT_MAX_BYTES.
    expect(codeOf(() => encodeContent(newText("😀".repeat(TEXT_MAX_CHARS), base.sentAt)))).toBe("too_large");
  });

  it("refuses text not in NFC, but newText normalizes what the user typed", () => {
    expect(codeOf(() => decodeObject({ ...base, text: "e\u0301" }))).toBe("bad_request");
    expect(newText("e\u0301", base.sentAt).text).toBe("é");
    expect(codeOf(() => decodeObject({ ...base, text: "broken \ud800" }))).toBe("bad_request");
  });

  it("refuses bad ids, times, expiry and receipts", () => {
    expect(codeOf(() => decodeObject({ ...base, id: "short" }))).toBe("bad_request");
    expect(codeOf(() => decodeObject({ ...base, replyTo: "x" }))).toBe("bad_request");
    expect(codeOf(() => decodeObject({ ...base, sentAt: 1.5 }))).toBe("bad_request");
    expect(codeOf(() => decodeObject({ ...base, expiresAt: base.sentAt }))).toBe("bad_request");
    const receipt = { v: 1, id: randomId16(), sentAt: 1, type: "receipt", state: "read" };
    expect(codeOf(() => decodeObject({ ...receipt, of: [] }))).toBe("bad_request");
    expect(codeOf(() => decodeObject({ ...receipt, of: Array.from({ length: RECEIPT_MAX_IDS + 1 }, randomId16) }))).toBe("bad_request");
    expect(codeOf(() => decodeObject({ ...receipt, of: [randomId16()], state: "seen" }))).toBe("bad_request");
    expect(codeOf(() => decodeObject({ ...base, type: "sticker" }))).toBe("bad_request");
  });

  it("says unsupported_version for a later content version and drops unknown members", () => {
    expect(codeOf(() => decodeObject({ ...base, v: 2 }))).toBe("unsupported_version");
    expect(decodeObject({ ...base, "x-acme-mood": "happy" })).toEqual(base);
  });

  it("makes receipts for up to 100 messages", () => {
    const of = Array.from({ length: RECEIPT_MAX_IDS }, randomId16);
    const receipt = newReceipt(of, "delivered", base.sentAt);
    expect(decodeContent(encodeContent(receipt))).toEqual(receipt);
  });

  it("names a group with 1 to 100 characters, trimmed and in NFC, and says leave", () => {
    const named = newGroupTitle("  Cafe\u0301 trip ", base.sentAt);
    expect(named.title).toBe("Caf\u00e9 trip");
    expect(decodeContent(encodeContent(named))).toEqual(named);
    expect(codeOf(() => newGroupTitle(" ", base.sentAt))).toBe("bad_request");
    expect(codeOf(() => newGroupTitle("x".repeat(101), base.sentAt))).toBe("bad_request");
    const leave = newLeave(base.sentAt);
    expect(decodeContent(encodeContent(leave))).toEqual(leave);
  });

  it("makes reactions of one emoji, edits under the rules of a text, deletes and typing", () => {
    const of = randomId16();
    for (const c of [newReaction(of, "👍🏽", "add", 5), newEdit(of, "Cafe\u0301", 5), newDelete(of, 5), newTyping("stopped", 5)]) {
      expect(decodeContent(encodeContent(c))).toEqual(c);
    }
    expect(newEdit(of, "Cafe\u0301", 5).text).toBe("Caf\u00e9");
    expect(codeOf(() => newReaction(of, "ok", "add", 5))).toBe("bad_request");
    expect(codeOf(() => newEdit(of, "", 5))).toBe("bad_request");
    expect(codeOf(() => newEdit(of, "a".repeat(TEXT_MAX_CHARS + 1), 5))).toBe("bad_request");
  });

  it("decodes the content vectors as tests/vectors/content.json says", () => {
    const doc = JSON.parse(readFileSync(new URL("../vectors/content.json", import.meta.url), "utf8")) as {
      cases: { description: string; plaintext: string; content: unknown; error: string | null }[];
    };
    expect(doc.cases.length).toBeGreaterThan(0);
    for (const c of doc.cases) {
      const bytes = fromB64u(c.plaintext);
      if (c.error) expect(codeOf(() => decodeContent(bytes)), c.description).toBe(c.error);
      else expect(decodeContent(bytes), c.description).toEqual(c.content);
    }
  });
});
