import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createApplicationMessage, createCommit, defaultCapabilities, defaultLifetime, encodeMlsMessage, generateKeyPackageWithKey } from "ts-mls";
import { toB64u } from "../../shared/base64url.js";
import { generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { addMembers, createGroup, encrypt, inspectKeyPackage, inspectMessage } from "../../shared/mls/index.js";
import { credentialOf } from "../../shared/mls/credential.js";
import { asClient } from "../../shared/mls/group-state.js";
import { cipherSuite } from "../../shared/mls/suite.js";
import { toWire } from "../../shared/mls/wire.js";
import { makeDevice, utf8 } from "./mls-people.js";

describe("what a server can check without being in the group", () => {
  it("reads conversation, epoch and type from a member's message header", async () => {
    const a = await makeDevice("alice#im.alice.test", generateKeyPair(), "laptop");
    const b = await makeDevice("bob#im.bob.test", generateKeyPair(), "phone");
    const conversation = `im.alice.test/${randomId16()}`;
    const added = await addMembers(await createGroup(a.me, conversation), [b.bundles[0]!.keyPackage]);
    expect(inspectMessage(added.commit)).toEqual({ conversation, epoch: 0, type: "commit" });
    const sent = await encrypt(added.state, utf8.encode("hi"));
    expect(inspectMessage(sent.mls)).toEqual({ conversation, epoch: 1, type: "application" });
    expect(() => inspectMessage(added.welcome)).toThrow(expect.objectContaining({ code: "bad_request" }));
  });

  it("refuses what no member's client sends: a PublicMessage, authenticated data, a message cut off or with bytes after it", async () => {
    const a = await makeDevice("alice#im.alice.test", generateKeyPair(), "laptop");
    const state = await createGroup(a.me, `im.alice.test/${randomId16()}`);
    const cs = await cipherSuite();
    const publicCommit = await createCommit({ state: asClient(state), cipherSuite: cs }, { wireAsPublicMessage: true });
    const withData = await createApplicationMessage(asClient(state), utf8.encode("hi"), cs, utf8.encode("extra"));
    const { mls } = await encrypt(state, utf8.encode("hi"));
    for (const bad of [
      toB64u(encodeMlsMessage(publicCommit.commit)),
      toWire({ wireformat: "mls_private_message", privateMessage: withData.privateMessage }),
      mls.slice(0, -8),
      `${mls}AAAA`,
      "AAEC",
    ]) {
      expect(() => inspectMessage(bad)).toThrow(expect.objectContaining({ code: "bad_request" }));
    }
    expect(inspectMessage(mls).type).toBe("application");
  });

  it("ties an uploaded KeyPackage to its device, and refuses one signed by another key", async () => {
    const account = generateKeyPair();
    const d = await makeDevice("alice#im.alice.test", account, "laptop");
    const checked = await inspectKeyPackage(d.bundles[0]!.keyPackage);
    expect(checked.device.deviceId).toBe(d.me.deviceCert.body.deviceId);
    expect(checked.ref).toBe(d.bundles[0]!.ref);
    expect(checked.notAfter).toBeGreaterThan(Date.now() + 80 * 24 * 3600 * 1000);

    const thief = generateKeyPair();
    const cs = await cipherSuite();
    const { publicPackage } = await generateKeyPackageWithKey(
      credentialOf(d.me.deviceCert), defaultCapabilities(), defaultLifetime, [], { signKey: thief.privateKey, publicKey: thief.publicKey }, cs,
    );
    const stolen = toB64u(encodeMlsMessage({ version: "mls10", wireformat: "mls_key_package", keyPackage: publicPackage }));
    await expect(inspectKeyPackage(stolen)).rejects.toMatchObject({ code: "unauthorized" });
    await expect(inspectKeyPackage("AAAA")).rejects.toMatchObject({ code: "bad_request" });
  });
});

describe("the header's reader", () => {
  /** inspectMessage as it was before its header was read byte by byte: ts-mls's decoders on the same decoded prefix. */
  async function reference(): Promise<(mls: string) => unknown> {
    const { decodeUint64 } = await import("ts-mls/codec/number.js");
    const { decodeVarLenData, determineLength } = await import("ts-mls/codec/variableLength.js");
    const { decodeContentType } = await import("ts-mls/contentType.js");
    const { decodeProtocolVersion } = await import("ts-mls/protocolVersion.js");
    const { decodeWireformat } = await import("ts-mls/wireformat.js");
    const { EmsgError } = await import("../../shared/errors.js");
    const { fromB64u, b64uByteLength } = await import("../../shared/base64url.js");
    type Decoder = (b: Uint8Array, at: number) => [unknown, number] | undefined;
    const decodeLength: Decoder = (b, at) => {
      const { length, lengthFieldSize } = determineLength(b, at);
      return [length, lengthFieldSize];
    };
    const readHeader = (head: Uint8Array) => {
      let at = 0;
      const read = <T>(decode: Decoder): T => {
        const decoded = decode(head, at);
        if (decoded === undefined) throw new RangeError("no header");
        at += decoded[1];
        return decoded[0] as T;
      };
      try {
        read(decodeProtocolVersion as Decoder);
        const wireformat = read<string>(decodeWireformat as Decoder);
        if (wireformat !== "mls_private_message") return { wireformat, groupId: undefined };
        const groupId = read<Uint8Array>(decodeVarLenData as Decoder);
        const epoch = read<bigint>(decodeUint64 as Decoder);
        const type = read<"application" | "proposal" | "commit">(decodeContentType as Decoder);
        const authenticatedData = read<Uint8Array>(decodeVarLenData as Decoder);
        const senderData = read<Uint8Array>(decodeVarLenData as Decoder);
        const ciphertext = read<number>(decodeLength);
        return { wireformat, groupId, epoch, type, authenticatedData, senderData, ciphertextAt: at, ciphertext };
      } catch {
        return undefined;
      }
    };
    const min = { application: 82, proposal: 84, commit: 148 };
    return (mls) => {
      if (mls.length % 4 === 1) throw new EmsgError("bad_request", "An MLS message is unpadded base64url.");
      let header: ReturnType<typeof readHeader>;
      for (const chars of [128, 1368]) {
        header = readHeader(fromB64u(mls.length <= chars ? mls : mls.slice(0, chars)));
        if (header !== undefined || mls.length <= chars) break;
      }
      if (header === undefined) throw new EmsgError("bad_request", "Not an MLS private message.");
      if (header.groupId === undefined) throw new EmsgError("bad_request", `Members send PrivateMessages, not ${header.wireformat ?? "this"}.`);
      const { groupId, type, authenticatedData, senderData, ciphertextAt, ciphertext } = header;
      if (authenticatedData.length > 0) throw new EmsgError("bad_request", "EMSG messages carry no authenticated data.");
      if (senderData.length !== 28) throw new EmsgError("bad_request", "The message's sender data is not of the suite's size.");
      if (ciphertextAt + ciphertext !== b64uByteLength(mls.length)) throw new EmsgError("bad_request", "The message's ciphertext does not fill it exactly.");
      if (ciphertext < min[type]) throw new EmsgError("bad_request", `The message is too short to be a ${type}.`);
      const epoch = Number(header.epoch);
      if (!Number.isSafeInteger(epoch)) throw new EmsgError("bad_request", "The message's epoch is out of range.");
      return { conversation: new TextDecoder().decode(groupId), epoch, type };
    };
  }

  const outcome = (inspect: (mls: string) => unknown, mls: string) => {
    try {
      return { ok: inspect(mls) };
    } catch (error) {
      return { error: `${(error as { code?: string }).code} ${(error as Error).message}` };
    }
  };

  /** A variable-length integer in 1, 2 or 4 bytes (a longer form than needed is valid too), or an 8-byte prefix. */
  const varint = (n: number, size: 1 | 2 | 4 | 8): number[] =>
    size === 1 ? [n & 0x3f] : size === 2 ? [0x40 | ((n >> 8) & 0x3f), n & 0xff] : size === 4 ? [0x80 | ((n >> 24) & 0x3f), (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff] : [0xc0, 0, 0, 0, 0, 0, 0, n & 0xff];
  const size = fc.constantFrom<1 | 2 | 4 | 8>(1, 1, 1, 2, 2, 4, 8);
  const bytes = (max: number) => fc.uint8Array({ maxLength: max });
  const header = fc.record({
    version: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 0xffff })),
    wireformat: fc.oneof(fc.constant(2), fc.integer({ min: 0, max: 6 })),
    group: fc.oneof(fc.string({ maxLength: 60 }).map((t) => [...new TextEncoder().encode(t)]), bytes(1100).map((b) => [...b])),
    groupSize: size,
    epoch: fc.oneof(fc.integer({ min: 0, max: 1000 }).map((n) => [0, 0, 0, 0, 0, 0, n >> 8, n & 0xff]), bytes(8).map((b) => [...b, 0, 0, 0, 0, 0, 0, 0, 0].slice(0, 8))),
    type: fc.integer({ min: 0, max: 4 }),
    ad: fc.oneof(fc.constant<number[]>([]), bytes(5).map((b) => [...b])),
    adSize: size,
    senderData: fc.oneof(fc.constant(28), fc.integer({ min: 0, max: 40 })),
    senderDataSize: size,
    ciphertext: fc.integer({ min: 0, max: 400 }),
    ciphertextSize: size,
    lengthOff: fc.oneof(fc.constant(0), fc.integer({ min: -3, max: 3 })),
    cut: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 200 })),
    extra: fc.oneof(fc.constant(""), fc.constantFrom("A", "AA", "AAA", "AAAA", "B", "_-")),
    bad: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 1500 })),
    badChar: fc.constantFrom("=", "+", "/", " ", "é", "B"),
  });
  const messageOf = (h: typeof header extends fc.Arbitrary<infer H> ? H : never): string => {
    const body = [
      h.version >> 8, h.version & 0xff, h.wireformat >> 8, h.wireformat & 0xff,
      ...varint(h.group.length, h.groupSize), ...h.group, ...h.epoch, h.type,
      ...varint(h.ad.length, h.adSize), ...h.ad,
      ...varint(h.senderData, h.senderDataSize), ...new Array(h.senderData).fill(7),
      ...varint(h.ciphertext + h.lengthOff, h.ciphertextSize), ...new Array(h.ciphertext).fill(9),
    ];
    let text = toB64u(Uint8Array.from(body)) + h.extra;
    if (h.cut > 0) text = text.slice(0, Math.max(0, text.length - h.cut));
    if (h.bad >= 0 && h.bad < text.length) text = text.slice(0, h.bad) + h.badChar + text.slice(h.bad + 1);
    return text;
  };

  it("gives what ts-mls's decoders gave, and refuses what they refused with the same error", async () => {
    const old = await reference();
    const messages = fc.oneof(header.map(messageOf), fc.string({ maxLength: 200 }), fc.base64String({ maxLength: 400 }).map((t) => t.replace(/=+$/, "")));
    const kinds = new Set<string>();
    fc.assert(
      fc.property(messages, (mls) => {
        const [ours, theirs] = [outcome(inspectMessage, mls), outcome(old, mls)];
        kinds.add("ok" in theirs ? "ok" : theirs.error);
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 20_000 },
    );
    // Every answer was met: a header read, and each refusal.
    expect(kinds.size).toBeGreaterThanOrEqual(14);
  });
});
