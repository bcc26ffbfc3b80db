import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import * as v from "valibot";
import { SubmitSchema } from "../../shared/wire/conversation.js";
import { type Address, type Domain, asAddress, parseAddress } from "../../shared/address.js";
import { fromB64u } from "../../shared/base64url.js";
import { EmsgError } from "../../shared/errors.js";
import { parseDiscoveryDoc, parseResolverMap } from "../../shared/discovery.js";
import { openArchive, sealArchive } from "../../shared/export-archive.js";
import {
  type HttpMessage,
  parseSignature,
  signMessage,
  signatureBaseText,
  verifyMessage,
} from "../../shared/http-signature.js";
import { keyPairFromSeed, verifyDeviceCert } from "../../shared/identity.js";
import { fingerprintDigits, parseVerifyQr, safetyNumber, safetyNumberGroups, verifyQrPayload } from "../../shared/safety-number.js";
import { type SignContext, signObject, signingInput, verifyObject } from "../../shared/signed.js";
import { loadGenerators, vectorText } from "../../scripts/make-vectors.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { chunkNonce, openAttachment, sealAttachment, SEALED_CHUNK_BYTES } from "../../shared/attachment-crypto.js";
import { decodeContent } from "../../shared/content.js";
import { answerFrame, BATCH_NUMBER_BYTES, readAnswerFrame, readBatchFrame, STREAM_CLOSE, writeBatchNumber } from "../../shared/wire/fed-stream.js";

/* The JSON vectors another implementation runs, checked here against this one. */

const MINE = ["addresses", "signed-objects", "device-certs", "http-signatures", "discovery", "safety-numbers", "export-archive", "attachments", "submits", "federation-streams"];

/** Vector cases are plain JSON read from disk; each test reads the members its file defines. */
type Case = any;

function load(name: string): { description: string; cases: Case[] } {
  const doc = JSON.parse(readFileSync(new URL(`../vectors/${name}.json`, import.meta.url), "utf8"));
  expect(typeof doc.description).toBe("string");
  expect(doc.cases.length).toBeGreaterThan(0);
  return doc;
}

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    expect(e).toBeInstanceOf(EmsgError);
    return (e as EmsgError).code;
  }
}

async function asyncCodeOf(p: Promise<unknown>): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (e) {
    expect(e).toBeInstanceOf(EmsgError);
    return (e as EmsgError).code;
  }
}

const utf8 = new TextEncoder();

describe("test vectors", () => {
  it("are what the generators make today (deterministic, not stale)", async () => {
    const generators = (await loadGenerators()).filter((g) => MINE.includes(g.name));
    expect(generators.map((g) => g.name).sort()).toEqual([...MINE].sort());
    for (const g of generators) {
      const committed = readFileSync(new URL(`../vectors/${g.name}.json`, import.meta.url), "utf8");
      expect(vectorText(await g.make()), `${g.name}.json is stale: npm run vectors -- ${g.name}`).toBe(committed);
    }
  }, 30_000);

  it("addresses: normal forms and refusals", () => {
    for (const c of load("addresses").cases) {
      if (c.error) {
        expect(codeOf(() => parseAddress(c.input)), c.input).toBe(c.error);
      } else {
        expect(parseAddress(c.input).address).toBe(c.address);
        expect(codeOf(() => asAddress(c.input))).toBe(c.isNormal ? null : "bad_request");
      }
    }
  });

  it("submits: maxMessageBytes bounds an application message or proposal, maxBodyBytes a commit and a Welcome", () => {
    const { cases } = load("submits");
    expect(cases.some((c) => c.error === null) && cases.some((c) => c.error !== null)).toBe(true);
    for (const c of cases) {
      const submit = { id: "AAECAwQFBgcICQoLDA0ODw", epoch: 3, kind: c.kind, mls: "A".repeat(c.mlsChars), ...(c.welcomeChars ? { welcome: "A".repeat(c.welcomeChars) } : {}) };
      const parsed = v.safeParse(SubmitSchema, submit);
      expect(parsed.success ? null : "bad_request", c.description).toBe(c.error);
      if (!parsed.success) expect(v.getDotPath(parsed.issues[0])).toBe(c.member);
    }
  });

  it("federation streams: batch frames byte for byte, answers read or refused", () => {
    const { cases } = load("federation-streams");
    for (const c of cases.filter((x) => x.kind === "batch")) {
      const body = utf8.encode(c.body);
      const frame = new Uint8Array(BATCH_NUMBER_BYTES + body.byteLength);
      frame.set(body, BATCH_NUMBER_BYTES);
      writeBatchNumber(frame, c.n);
      expect(Buffer.from(frame).toString("hex"), c.description).toBe(c.frameHex);
      expect(Buffer.from(c.frameHex, "hex").readUInt32BE(0)).toBe(c.n);
      const read = readBatchFrame(new Uint8Array(Buffer.from(c.frameHex, "hex")).buffer);
      expect(read?.n).toBe(c.n);
      expect(new TextDecoder().decode(read!.body)).toBe(c.body);
    }
    const answers = cases.filter((x) => x.kind === "answer");
    expect(answers.filter((c) => c.expected === null).length).toBeGreaterThanOrEqual(5);
    for (const c of answers) {
      expect(readAnswerFrame(c.frame), c.description).toEqual(c.expected);
      if (c.expected) expect(answerFrame(c.expected.n, c.expected.status, c.expected.json)).toBe(c.frame);
    }
    for (const c of cases.filter((x) => x.kind === "refusal")) {
      if (c.frame.hex) expect(readBatchFrame(new Uint8Array(Buffer.from(c.frame.hex, "hex")).buffer), c.description).toBeNull();
      expect(c.closeCode).toBe(STREAM_CLOSE.unsupported);
    }
  });

  it("signed objects: sign gives the sig, tampering fails", () => {
    const { cases } = load("signed-objects");
    expect(cases.some((c) => !c.valid)).toBe(true);
    for (const c of cases) {
      const pub = fromB64u(c.key.publicKey);
      expect(verifyObject(pub, c.context as SignContext, { body: c.body, sig: c.sig }), c.description).toBe(c.valid);
      if (c.valid) {
        expect(new TextDecoder().decode(signingInput(c.context, c.body))).toBe(c.signingInput);
        const kp = keyPairFromSeed(fromB64u(c.key.seed));
        expect(kp.publicKey).toEqual(pub);
        expect(signObject(kp.privateKey, c.context, c.body).sig).toBe(c.sig);
      }
    }
  });

  it("device certificates: accepted bodies and refusal codes", () => {
    for (const c of load("device-certs").cases) {
      if (c.valid) expect(verifyDeviceCert(c.cert, c.expect), c.description).toEqual(c.cert.body);
      else expect(codeOf(() => verifyDeviceCert(c.cert, c.expect)), c.description).toBe(c.error);
    }
  });

  const toMsg = (r: Case): HttpMessage => ({
    method: r.method,
    url: r.url,
    headers: r.headers,
    ...(r.body === null ? {} : { body: utf8.encode(r.body) }),
  });

  it("HTTP signatures: exact headers and base, and every refusal", () => {
    const { cases } = load("http-signatures");
    for (const c of cases.filter((x) => x.kind === "sign")) {
      const kp = keyPairFromSeed(fromB64u(c.key.seed));
      const headers = signMessage(toMsg(c.request), { keyId: c.keyId, privateKey: kp.privateKey, created: c.created, nonce: c.nonce, components: c.components });
      expect(headers, c.description).toEqual(c.expected.headers);
      const signed = toMsg(c.signedRequest);
      const parsed = parseSignature(signed);
      expect(signatureBaseText(signed, parsed)).toBe(c.expected.signatureBase);
      verifyMessage(signed, parsed, kp.publicKey, { now: c.created, requiredComponents: c.components });
    }
    const verifies = cases.filter((x) => x.kind === "verify");
    expect(verifies.filter((c) => c.error).length).toBeGreaterThanOrEqual(10);
    for (const c of verifies) {
      const msg = toMsg(c.request);
      const seen = new Set(c.seen.map((s: Case) => `${s.keyId} ${s.nonce}`));
      const code = codeOf(() =>
        verifyMessage(msg, parseSignature(msg), fromB64u(c.publicKey), {
          now: c.now,
          requiredComponents: c.requiredComponents,
          expectHeaders: c.expectHeaders,
          seen: (k, n) => seen.has(`${k} ${n}`),
        }),
      );
      expect(code, c.description).toBe(c.error);
    }
  });

  it("discovery documents and resolver maps", () => {
    for (const c of load("discovery").cases) {
      if (c.kind === "document") {
        if (c.error) expect(codeOf(() => parseDiscoveryDoc(c.json, c.domain as Domain)), c.description).toBe(c.error);
        else expect(parseDiscoveryDoc(c.json, c.domain as Domain), c.description).toEqual(c.parsed);
      } else {
        if (c.error) expect(codeOf(() => parseResolverMap(c.text)), c.description).toBe(c.error);
        else expect(Object.fromEntries(parseResolverMap(c.text)), c.description).toEqual(c.origins);
      }
    }
  });

  it("safety numbers and QR codes", () => {
    for (const c of load("safety-numbers").cases) {
      if (c.kind === "number") {
        const a = { address: c.a.address as Address, accountKey: fromB64u(c.a.accountKey) };
        const b = { address: c.b.address as Address, accountKey: fromB64u(c.b.accountKey) };
        expect(fingerprintDigits(a)).toBe(c.a.digits);
        expect(fingerprintDigits(b)).toBe(c.b.digits);
        expect(safetyNumber(a, b)).toBe(c.safetyNumber);
        expect(safetyNumber(b, a)).toBe(c.safetyNumber);
        expect(safetyNumberGroups(c.safetyNumber)).toEqual(c.groups);
        expect(verifyQrPayload(a.address, a.accountKey)).toBe(c.a.qr);
      } else if (c.error) {
        expect(codeOf(() => parseVerifyQr(c.text)), c.description).toBe(c.error);
      } else {
        const p = parseVerifyQr(c.text);
        expect({ address: p.address, accountKey: p.accountKey }).toEqual({ address: c.address, accountKey: fromB64u(c.accountKey) });
      }
    }
  });

  it("export archives open with their passphrase and refuse the rest", async () => {
    for (const c of load("export-archive").cases) {
      if (c.error) {
        expect(await asyncCodeOf(openArchive(c.file, c.passphrase)), c.description).toBe(c.error);
        continue;
      }
      expect(await openArchive(c.file, c.passphrase), c.description).toEqual(c.contents);
      // Resealing with the file's own salt and nonce reproduces it byte for byte.
      const fixed = [fromB64u(c.file.kdf.salt), fromB64u(c.file.nonce)];
      const again = await sealArchive(c.contents, c.passphrase, { N: c.file.kdf.N, randomBytes: () => fixed.shift()! });
      expect(again).toEqual(c.file);
    }
  });
  it("attachments: sealed chunk by chunk under the fixed key, and pointers decoded or refused", async () => {
    const doc = JSON.parse(readFileSync(new URL("../vectors/attachments.json", import.meta.url), "utf8"));
    const key = fromB64u(doc.key);
    for (const f of doc.files) {
      const plain = Uint8Array.from({ length: f.size }, (_, i) => i % 251);
      expect(sha256(plain), f.description).toEqual(fromB64u(f.plaintextSha256));
      const { sealed, hash } = await sealAttachment(key, plain);
      expect(sealed.length, f.description).toBe(f.sealedLength);
      expect(hash, f.description).toEqual(fromB64u(f.hash));
      if (f.sealed) expect(sealed).toEqual(fromB64u(f.sealed));
      f.chunks.forEach((c: Case, i: number) => {
        const end = Math.min((i + 1) * SEALED_CHUNK_BYTES, sealed.length);
        expect(sealed.subarray(end - 16, end), `${f.description}, chunk ${i}`).toEqual(fromB64u(c.tag));
        expect(chunkNonce(i, i === f.chunks.length - 1)).toEqual(fromB64u(c.nonce));
      });
      expect(await openAttachment(key, f.size, fromB64u(f.hash), sealed)).toEqual(plain);
    }
    for (const c of load("attachments").cases) {
      const bytes = fromB64u(c.plaintext);
      if (c.error) expect(codeOf(() => decodeContent(bytes)), c.description).toBe(c.error);
      else expect(decodeContent(bytes), c.description).toEqual(c.content);
    }
  }, 30_000);
});
