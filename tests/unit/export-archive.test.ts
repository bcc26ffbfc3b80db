import { describe, expect, it } from "vitest";
import { fromB64u, toB64u } from "../../shared/base64url.js";
import { EmsgError } from "../../shared/errors.js";
import { openArchive, sealArchive } from "../../shared/export-archive.js";
import { readFileSync } from "node:fs";
import { HISTORY_MAX_MESSAGES, parseArchiveContents } from "../../shared/account-archive.js";

const N = 1024;
const contents = {
  address: "alice#im.alice.test",
  accountKey: { pub: "pub", priv: "priv" },
  friends: [{ address: "bob#im.bob.test", accountKey: "k" }],
  settings: { strangers: "review", retentionDays: null },
  exportedAt: 1_760_000_000_000,
};

async function refusal(p: Promise<unknown>): Promise<EmsgError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EmsgError);
    return e as EmsgError;
  }
  throw new Error("expected a refusal");
}

describe("export archives", () => {
  it("opens with the passphrase it was sealed with, after a trip through JSON", async () => {
    const file = await sealArchive(contents, "correct horse battery", { N });
    expect(file).toMatchObject({ emsgExport: 1, kdf: { alg: "scrypt", N, r: 8, p: 1 } });
    expect(fromB64u(file.nonce)).toHaveLength(24);
    expect(JSON.stringify(file)).not.toContain("priv");
    expect(await openArchive(JSON.parse(JSON.stringify(file)), "correct horse battery")).toEqual(contents);
  });

  it("uses fresh salt and nonce every time", async () => {
    const a = await sealArchive(contents, "pw", { N });
    const b = await sealArchive(contents, "pw", { N });
    expect(a.kdf.salt).not.toBe(b.kdf.salt);
    expect(a.nonce).not.toBe(b.nonce);
  });

  it("says 'Wrong passphrase' for a wrong passphrase", async () => {
    const file = await sealArchive(contents, "correct horse battery", { N });
    const e = await refusal(openArchive(file, "correct horse batterY"));
    expect(e.code).toBe("unauthorized");
    expect(e.message).toMatch(/^Wrong passphrase/);
  });

  it("treats the passphrase the same however Unicode composes it", async () => {
    const file = await sealArchive(contents, "Caf\u00e9", { N });
    expect(await openArchive(file, "Cafe\u0301")).toEqual(contents);
  });

  it("refuses a changed ciphertext, salt or nonce as unauthorized", async () => {
    const file = await sealArchive(contents, "pw", { N });
    const flip = (b64u: string) => {
      const bytes = fromB64u(b64u);
      bytes[0]! ^= 1;
      return toB64u(bytes);
    };
    for (const changed of [
      { ...file, ciphertext: flip(file.ciphertext) },
      { ...file, nonce: flip(file.nonce) },
      { ...file, kdf: { ...file.kdf, salt: flip(file.kdf.salt) } },
      { ...file, kdf: { ...file.kdf, N: 2048 } },
    ]) {
      expect((await refusal(openArchive(changed, "pw"))).code).toBe("unauthorized");
    }
  });

  it("reports scrypt progress up to 1", async () => {
    const seen: number[] = [];
    const file = await sealArchive(contents, "pw", { N: 2 ** 14, onProgress: (f) => seen.push(f) });
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toBe(1);
    const opened: number[] = [];
    await openArchive(file, "pw", { onProgress: (f) => opened.push(f) });
    expect(opened.at(-1)).toBe(1);
  });

  it("refuses malformed files as bad_request, without running scrypt on absurd parameters", async () => {
    const file = await sealArchive(contents, "pw", { N });
    const cases: unknown[] = [
      null,
      "file",
      { ...file, emsgExport: 2 },
      { ...file, kdf: { ...file.kdf, alg: "argon2id" } },
      { ...file, kdf: { ...file.kdf, N: 2 ** 19 } },
      { ...file, kdf: { ...file.kdf, N: 1000 } },
      { ...file, kdf: { ...file.kdf, r: 1 } },
      { ...file, nonce: toB64u(new Uint8Array(12)) },
      { ...file, ciphertext: "" },
      { ...file, ciphertext: "not base64url!" },
    ];
    for (const c of cases) expect((await refusal(openArchive(c, "pw"))).code).toBe("bad_request");
  });

  it("refuses to seal with no passphrase, a bad N, or contents JSON cannot hold", async () => {
    expect((await refusal(sealArchive(contents, "", { N }))).code).toBe("bad_request");
    expect((await refusal(sealArchive(contents, "pw", { N: 1000 }))).code).toBe("bad_request");
    expect((await refusal(sealArchive({ n: NaN }, "pw", { N }))).code).toBe("bad_request");
  });
});

describe("the chat history an export carries", () => {
  const vector = () => JSON.parse(readFileSync(new URL("../vectors/export-archive.json", import.meta.url), "utf8")).cases[0].contents as Record<string, unknown>;
  const chat = (messages: number) => ({
    chat: "bob#im.bob.test",
    messages: Array.from({ length: messages }, (_, i) => ({ id: `m${i}`, from: "bob#im.bob.test", text: "hi", at: 1_760_000_000_000 + i })),
  });

  it("takes up to 20,000 messages and refuses more as a damaged file", () => {
    expect(parseArchiveContents({ ...vector(), history: [chat(HISTORY_MAX_MESSAGES)] }).history?.[0]?.messages).toHaveLength(HISTORY_MAX_MESSAGES);
    for (const history of [[chat(HISTORY_MAX_MESSAGES + 1)], [chat(HISTORY_MAX_MESSAGES), chat(1)]]) {
      expect(() => parseArchiveContents({ ...vector(), history })).toThrow(expect.objectContaining({ code: "bad_request" }));
    }
  });

  it("refuses a message with a changed attachment pointer or a chat that names nothing", () => {
    const badPointer = { ...chat(1), messages: [{ ...chat(1).messages[0], attachment: { v: 1, type: "attachment", blob: "x" } }] };
    expect(() => parseArchiveContents({ ...vector(), history: [badPointer] })).toThrow(expect.objectContaining({ code: "bad_request" }));
    expect(() => parseArchiveContents({ ...vector(), history: [{ ...chat(1), chat: "not an address" }] })).toThrow(expect.objectContaining({ code: "bad_request" }));
  });
});
