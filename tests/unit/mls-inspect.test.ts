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

describe("the header's enum decoders", () => {
  it("decode numbers at every offset as ts-mls's own decoders do", async () => {
    const { enumDecoder } = await import("../../shared/mls/inspect.js");
    const { decodeUint16, decodeUint8 } = await import("ts-mls/codec/number.js");
    const { contentTypes, decodeContentType } = await import("ts-mls/contentType.js");
    const { protocolVersions, decodeProtocolVersion } = await import("ts-mls/protocolVersion.js");
    const { wireformats, decodeWireformat } = await import("ts-mls/wireformat.js");
    type Decode = (b: Uint8Array, at: number) => [string, number] | undefined;
    const pairs: [Decode, Decode][] = [
      [enumDecoder(protocolVersions, decodeUint16), decodeProtocolVersion],
      [enumDecoder(wireformats, decodeUint16), decodeWireformat],
      [enumDecoder(contentTypes, decodeUint8), decodeContentType],
    ];
    const differ: string[] = [];
    const known = pairs.map(() => 0);
    // Every table's numbers are small: all of the first 1024, then every 97th.
    for (let n = 0; n < 65536; n += n < 1024 ? 1 : 97) {
      const bytes = Uint8Array.of(n >> 8, n & 0xff);
      pairs.forEach(([ours, theirs], p) => {
        for (const at of [0, 1, 2]) {
          const [a, b] = [ours(bytes, at), theirs(bytes, at)];
          if (a?.[0] !== b?.[0] || a?.[1] !== b?.[1]) differ.push(`${p}: ${n} at ${at}`);
          if (b !== undefined) known[p]!++;
        }
      });
    }
    expect(differ).toEqual([]);
    // Every table's numbers were met, not only refusals.
    expect(known.every((k) => k > 0)).toBe(true);
  });
});
