import { describe, expect, it } from "vitest";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { toB64u } from "../../shared/base64url.js";
import { asAddress } from "../../shared/address.js";
import { certifyDevice, generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { signEd25519, useHostEd25519, verifyEd25519 } from "../../shared/mls/ed25519.js";
import { addMembers, createGroup, type DeviceIdentity, encrypt, joinFromWelcome, makeKeyPackages, processMessage } from "../../shared/mls/index.js";
import { nodeChaCha20Poly1305, nodeEd25519, nodeHmacSha512, nodeSha512, nodeX25519, useNodeCrypto } from "../../cli/node-ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { hmac } from "@noble/hashes/hmac.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { getCiphersuiteFromName, getCiphersuiteImpl } from "ts-mls";
import { CryptoError } from "ts-mls/mlsError.js";
import { emsgCryptoProvider, useHostChaCha20Poly1305, useHostHmacSha512, useHostSha512 } from "../../shared/mls/crypto-provider.js";
import { CIPHERSUITE_NAME } from "../../shared/mls/suite.js";
import { useHostX25519 } from "../../shared/mls/x-wing.js";

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

  it("after a host's accept, still refuses every encoding RFC 8032 refuses", async () => {
    // A host that accepts anything: what verifies is then exactly what the encoding checks let through.
    expect(useHostEd25519({ sign: nodeEd25519.sign, verify: () => true })).toBe(true);
    const le = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
    const withSign = (b: Uint8Array) => Uint8Array.of(...b.subarray(0, 31), b[31]! | 0x80);
    const P = 2n ** 255n - 19n;
    const key = ed25519.getPublicKey(random(32));
    const R = ed25519.getPublicKey(random(32));
    const sig = (r: Uint8Array, s: bigint) => Uint8Array.of(...r, ...le(s));
    const message = random(40);
    try {
      expect(await verifyEd25519(key, message, sig(R, L - 1n))).toBe(true);
      expect(await verifyEd25519(le(P - 2n), message, sig(le(P - 2n), 5n))).toBe(true);
      expect(await verifyEd25519(key, message, sig(R, L))).toBe(false);
      expect(await verifyEd25519(key, message, sig(R, 2n ** 256n - 1n))).toBe(false);
      for (const y of [P, P + 1n, 2n ** 255n - 1n]) {
        expect(await verifyEd25519(le(y), message, sig(R, 5n))).toBe(false);
        expect(await verifyEd25519(key, message, sig(le(y), 5n))).toBe(false);
      }
      for (const y of [1n, P - 1n]) expect(await verifyEd25519(key, message, sig(withSign(le(y)), 5n))).toBe(false);
      const smallOrder = [0n, 1n, P - 1n, 0x05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826n, 0x7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7n];
      for (const y of smallOrder) {
        expect(await verifyEd25519(le(y), message, sig(R, 5n))).toBe(false);
        expect(await verifyEd25519(withSign(le(y)), message, sig(R, 5n))).toBe(false);
      }
    } finally {
      expect(useHostEd25519(nodeEd25519)).toBe(true);
    }
  });

  it("hashes with Node's SHA-512 only if it gives the pure-JS bytes", () => {
    expect(useHostSha512((data) => sha512(Uint8Array.of(...data, 1)))).toBe(false);
    expect(useHostSha512(nodeSha512)).toBe(true);
    for (const length of [0, 1, 111, 112, 128, 5000]) {
      const data = random(length);
      expect(toB64u(nodeSha512(data))).toBe(toB64u(sha512(data)));
    }
  });

  it("MACs and seals with Node's HMAC-SHA512 and ChaCha20-Poly1305 only if they give the pure-JS bytes", async () => {
    expect(useHostHmacSha512((key, data) => hmac(sha512, key, Uint8Array.of(...data, 1)))).toBe(false);
    expect(useHostChaCha20Poly1305({ seal: nodeChaCha20Poly1305.seal, open: () => new Uint8Array(100).fill(4) })).toBe(false);
    expect(useHostHmacSha512(nodeHmacSha512)).toBe(true);
    expect(useHostChaCha20Poly1305(nodeChaCha20Poly1305)).toBe(true);
    const cs = await emsgCryptoProvider.getCiphersuiteImpl(getCiphersuiteFromName(CIPHERSUITE_NAME));
    for (const length of [0, 1, 64, 127, 128, 129, 5000]) {
      const [key, data] = [random(length % 200), random(length)];
      expect(toB64u(await cs.hash.mac(key, data))).toBe(toB64u(hmac(sha512, key, data)));
      const [aeadKey, nonce, aad] = [random(32), random(12), random(length % 40)];
      const sealed = await cs.hpke.encryptAead(aeadKey, nonce, aad, data);
      expect(toB64u(sealed)).toBe(toB64u(chacha20poly1305(aeadKey, nonce, aad).encrypt(data)));
      expect(toB64u(await cs.hpke.decryptAead(aeadKey, nonce, aad, sealed))).toBe(toB64u(data));
      // Whatever the host refuses is opened again by ts-mls's own AEAD, which throws as it always did.
      sealed[sealed.length - 1]! ^= 1;
      await expect(cs.hpke.decryptAead(aeadKey, nonce, aad, sealed)).rejects.toThrow(CryptoError);
    }
    await expect(cs.hpke.decryptAead(random(32), random(12), undefined, random(10))).rejects.toThrow(CryptoError);
  });

  it("takes Node's X25519 for X-Wing only if it agrees with the pure-JS curve, and seals and opens with ts-mls's own HPKE both ways", async () => {
    expect(useHostX25519((sk, pk) => x25519.getSharedSecret(pk, sk))).toBe(false);
    expect(useHostX25519(nodeX25519)).toBe(true);
    for (let i = 0; i < 20; i++) {
      const [sk, pk] = [random(32), random(32)];
      expect(toB64u(nodeX25519(sk, pk))).toBe(toB64u(x25519.getSharedSecret(sk, pk)));
    }
    // A small-order point: OpenSSL refuses the all-zero result, X-Wing then takes the pure-JS answer as before.
    expect(() => nodeX25519(random(32), new Uint8Array(32))).toThrow();

    const suite = getCiphersuiteFromName(CIPHERSUITE_NAME);
    const [ours, theirs] = [await emsgCryptoProvider.getCiphersuiteImpl(suite), await getCiphersuiteImpl(suite)];
    const info = random(30);
    for (const [sender, receiver] of [[theirs, ours], [ours, theirs]] as const) {
      const { privateKey, publicKey } = await receiver.hpke.generateKeyPair();
      const keyBytes = await receiver.hpke.exportPrivateKey(privateKey);
      const plaintext = random(500);
      const { ct, enc } = await sender.hpke.seal(await sender.hpke.importPublicKey(await receiver.hpke.exportPublicKey(publicKey)), plaintext, info);
      expect(toB64u(await receiver.hpke.open(await receiver.hpke.importPrivateKey(keyBytes), enc, ct, info))).toBe(toB64u(plaintext));
      enc[enc.length - 1]! ^= 1;
      await expect(receiver.hpke.open(await receiver.hpke.importPrivateKey(keyBytes), enc, ct, info)).rejects.toThrow(CryptoError);
    }
    // The same seed gives the same X-Wing key pair as ts-mls's default (a path secret's node key).
    const seed = random(32);
    const [a, b] = [await ours.hpke.deriveKeyPair(seed), await theirs.hpke.deriveKeyPair(seed)];
    expect(toB64u(await ours.hpke.exportPublicKey(a.publicKey))).toBe(toB64u(await theirs.hpke.exportPublicKey(b.publicKey)));
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
