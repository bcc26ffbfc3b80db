import { describe, expect, it } from "vitest";
import { BodyBuffer } from "../../worker/body-buffer.js";

const utf8 = (text: string) => new TextEncoder().encode(text);

// The Outbox writes each batch's body into memory it keeps: a body must be byte for byte the UTF-8
// of its text, whatever the one before it held, and however the text crosses the memory's end.
describe("a request body written in place", () => {
  it("is the UTF-8 of what was appended, across growth, for characters of one to four bytes", () => {
    const body = new BodyBuffer();
    const pieces = ['{"items":[', "a".repeat(65_530), "é", "中文", "🙂", "x".repeat(200_000), "🙂".repeat(40_000), "]}"];
    for (const piece of pieces) body.append(piece);
    expect(body.view()).toEqual(utf8(pieces.join("")));
  });

  it("a shorter body after a longer one carries nothing of the first", () => {
    const body = new BodyBuffer();
    body.append("🙂".repeat(100_000));
    body.clear();
    body.append('{"items":[]}');
    expect(new TextDecoder().decode(body.view())).toBe('{"items":[]}');
    body.clear();
    expect(body.view().byteLength).toBe(0);
  });
});
