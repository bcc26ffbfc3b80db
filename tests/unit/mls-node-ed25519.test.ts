import { describe, expect, it } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import { toB64u } from "../../shared/base64url.js";
import { asAddress } from "../../shared/address.js";
import { certifyDevice, generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { signEd25519, useHostEd25519, verifyEd25519 } from "../../shared/mls/ed25519.js";
import { addMembers, createGroup, type DeviceIdentity, encrypt, joinFromWelcome, makeKeyPackages, processMessage } from "../../shared/mls/index.js";
import { nodeEd25519, nodeSha512, useNodeCrypto } from "../../cli/node-ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { useHostSha512 } from "../../shared/mls/crypto-provider.js";

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

describe("Node's own Ed25519 and SHA-512 under the MLS code (the CLI's and the benches')", () => {
  it("is refused when it does not sign as the pure-JS curve does", () => {
    expect(useHostEd25519({ sign: (seed, message) => ed25519.sign(Uint8Array.of(...message, 0), seed), verify: () => true })).toBe(false);
    expect(useHostEd25519({ sign: () => { throw new Error("no Ed25519 here"); }, verify: () => true })).toBe(false);
  });

  it("signs the same bytes and keeps the strict RFC 8032 answer where OpenSSL is laxer", async () => {
    expect(useHostEd25519(nodeEd25519)).toBe(true);
    const seed = random(32);
    const publicKey = ed25519.getPublicKey(seed);
    const message = random(300);
    const sig = await signEd25519(seed, message);
    expect(toB64u(sig)).toBe(toB64u(ed25519.sign(message, seed)));
    expect(await verifyEd25519(publicKey, message, sig)).toBe(true);
    expect(await verifyEd25519(publicKey, random(300), sig)).toBe(false);
    expect(await verifyEd25519(ed25519.getPublicKey(random(32)), message, sig)).toBe(false);

    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
    s += L;
    const unreduced = sig.slice();
    for (let i = 32; i < 64; i++, s >>= 8n) unreduced[i] = Number(s & 0xffn);
    expect(await verifyEd25519(publicKey, message, unreduced)).toBe(false);

    // A small-order key with R = identity and S = 0 passes OpenSSL's cofactorless equation for any message.
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const forged = new Uint8Array(64);
    forged[0] = 1;
    expect(nodeEd25519.verify(identity, message, forged)).toBe(true);
    expect(await verifyEd25519(identity, message, forged)).toBe(false);
    // Bytes that are no point at all: the host throws or refuses, the answer is still a plain false.
    expect(await verifyEd25519(new Uint8Array(32).fill(0xff), message, sig)).toBe(false);
  });

  it("hashes with Node's SHA-512 only if it gives the pure-JS bytes", () => {
    expect(useHostSha512((data) => sha512(Uint8Array.of(...data, 1)))).toBe(false);
    expect(useHostSha512(nodeSha512)).toBe(true);
    for (const length of [0, 1, 111, 112, 128, 5000]) {
      const data = random(length);
      expect(toB64u(nodeSha512(data))).toBe(toB64u(sha512(data)));
    }
  });

  it("runs a conversation with it: join, messages both ways", async () => {
    expect(useNodeCrypto()).toBe(true);
    const device = (address: string): DeviceIdentity => {
      const account = generateKeyPair();
      const key = generateKeyPair();
      return { deviceCert: certifyDevice(account, asAddress(address), key.publicKey, "test", Date.now()), devicePrivateKey: key.privateKey, devicePublicKey: key.publicKey };
    };
    const [alice, bob] = [device("alice#im.alice.test"), device("bob#im.bob.test")];
    const bundles = await makeKeyPackages(bob, 1);
    const added = await addMembers(await createGroup(alice, `im.alice.test/${randomId16()}`), [bundles[0]!.keyPackage]);
    const bobState = (await joinFromWelcome(bob, added.welcome, bundles)).state;
    const sent = await encrypt(added.state, new TextEncoder().encode("hello"));
    const read = await processMessage(bobState, sent.mls);
    if (read.kind !== "application") throw new Error("expected an application message");
    expect(new TextDecoder().decode(read.plaintext)).toBe("hello");
    expect(read.sender.address).toBe("alice#im.alice.test");
    const back = await processMessage(sent.state, (await encrypt(read.state, new TextEncoder().encode("hi"))).mls);
    expect(back.kind === "application" && new TextDecoder().decode(back.plaintext)).toBe("hi");
  });
});
