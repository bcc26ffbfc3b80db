import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fromB64u } from "../../shared/base64url.js";
import { parseArchiveContents } from "../../shared/account-archive.js";
import { EmsgError } from "../../shared/errors.js";
import { openArchive } from "../../shared/export-archive.js";
import { carriedMove, movedVerifies, signMoved } from "../../shared/move.js";
import { signingInput, verifyObject } from "../../shared/signed.js";
import { SignedFriendRequestSchema } from "../../shared/wire/friends.js";
import { loadGenerators, vectorText } from "../../scripts/make-vectors.js";
import * as v from "valibot";

/* tests/vectors/account-move.json, checked against this implementation. */

// Vector documents are plain JSON; each test reads the members the file defines.
type Doc = any;

const read = (name: string): Doc => JSON.parse(readFileSync(new URL(`../vectors/${name}.json`, import.meta.url), "utf8"));
const utf8 = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    expect(e).toBeInstanceOf(EmsgError);
    return (e as EmsgError).code;
  }
}

describe("account move vectors", () => {
  const doc = read("account-move");

  it("are what the generator makes today", async () => {
    const generator = (await loadGenerators()).find((g) => g.name === "account-move")!;
    expect(vectorText(await generator.make())).toBe(readFileSync(new URL("../vectors/account-move.json", import.meta.url), "utf8"));
  });

  it("moved: the old key's signature over the notice", () => {
    const signed = signMoved(doc.oldKey.seed, doc.moved.body);
    expect(utf8(signingInput("moved", doc.moved.body))).toBe(doc.moved.signingInput);
    expect(signed.sig).toBe(doc.moved.sig);
    expect(movedVerifies(signed, doc.oldKey.publicKey)).toBe(true);
    expect(movedVerifies(signed, doc.newKey.publicKey)).toBe(false);
  });

  it("introductions: only a request naming itself in a move signed by the pinned key passes the policy (as a request)", () => {
    expect(doc.introductions.filter((c: Doc) => c.introduces)).toHaveLength(1);
    for (const c of doc.introductions) {
      const request = v.parse(SignedFriendRequestSchema, c.request);
      expect(utf8(signingInput("friend-request", request.body)), c.description).toBe(c.signingInput);
      expect(verifyObject(fromB64u(request.body.accountKey), "friend-request", request), c.description).toBe(true);
      const moved = carriedMove(request);
      expect(moved !== null && movedVerifies(moved, doc.oldKey.publicKey), c.description).toBe(c.introduces);
    }
  });

  it("archive contents: accepted or refused with the code given", () => {
    for (const c of doc.archiveContents) expect(codeOf(() => parseArchiveContents(c.contents)), c.description).toBe(c.error);
  });

  it("the export-archive vector opens to contents an import accepts", async () => {
    const [first] = read("export-archive").cases;
    const contents = parseArchiveContents(await openArchive(first.file, first.passphrase));
    expect(contents.friends.map((f) => f.address)).toEqual(["bob#im.bob.test"]);
    expect(contents.device?.cert.body).toMatchObject({ address: "alice#im.alice.test", accountKey: contents.accountKey.pub, label: "old laptop" });
  });
});
