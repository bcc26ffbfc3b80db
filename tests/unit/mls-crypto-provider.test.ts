import { describe, expect, it } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import { createApplicationMessage, emptyPskIndex, getCiphersuiteFromName, getCiphersuiteImpl, processPrivateMessage } from "ts-mls";
import { toB64u } from "../../shared/base64url.js";
import { asAddress } from "../../shared/address.js";
import { certifyDevice, generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { emsgCryptoProvider, operationSuite } from "../../shared/mls/crypto-provider.js";
import { signEd25519, verifyEd25519 } from "../../shared/mls/ed25519.js";
import { asClient, asGroupState } from "../../shared/mls/group-state.js";
import { addMembers, CIPHERSUITE_NAME, createGroup, type DeviceIdentity, encrypt, joinFromWelcome, makeKeyPackages, processMessage } from "../../shared/mls/index.js";
import { fromWire, toWire } from "../../shared/mls/wire.js";

const suite = getCiphersuiteFromName(CIPHERSUITE_NAME);
const ours = () => emsgCryptoProvider.getCiphersuiteImpl(suite);
// ts-mls's own provider (WebCrypto HMAC/HKDF, Ed25519 imported per call): what every device ran before.
const theirs = () => getCiphersuiteImpl(suite);
const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
const utf8 = new TextEncoder();

describe("EMSG's MLS crypto provider", () => {
  it("derives, hashes and MACs byte for byte as ts-mls's default provider", async () => {
    const [a, b] = [await ours(), await theirs()];
    for (const length of [0, 1, 32, 64, 65, 128, 200]) {
      const prk = random(64);
      const info = random(length % 50);
      expect(toB64u(await a.kdf.expand(prk, info, length))).toBe(toB64u(await b.kdf.expand(prk, info, length)));
      const [salt, ikm] = [random(length % 2 === 0 ? 64 : 0), random(length)];
      expect(toB64u(await a.kdf.extract(salt, ikm))).toBe(toB64u(await b.kdf.extract(salt, ikm)));
      expect(toB64u(await a.hash.digest(ikm))).toBe(toB64u(await b.hash.digest(ikm)));
      const key = random(1 + (length % 130));
      expect(toB64u(await a.hash.mac(key, ikm))).toBe(toB64u(await b.hash.mac(key, ikm)));
    }
    const [key, data] = [random(64), random(40)];
    await expect(a.kdf.extract(random(32), data)).rejects.toThrow();
    await expect(b.kdf.extract(random(32), data)).rejects.toThrow();
    const mac = await a.hash.mac(key, data);
    expect(await a.hash.verifyMac(key, mac, data)).toBe(true);
    mac[5]! ^= 1;
    expect(await a.hash.verifyMac(key, mac, data)).toBe(false);
    expect(await a.hash.verifyMac(key, mac.subarray(1), data)).toBe(false);
  });

  it("gives the same bytes within one operation, where MAC keys are kept", async () => {
    const [base, plain] = [await ours(), await theirs()];
    const { cs, end } = operationSuite(base);
    const prk = random(64);
    const info = random(30);
    for (let i = 0; i < 3; i++) {
      expect(toB64u(await cs.kdf.expand(prk, info, 64))).toBe(toB64u(await plain.kdf.expand(prk, info, 64)));
      expect(toB64u(await cs.kdf.expand(prk, info, 150))).toBe(toB64u(await plain.kdf.expand(prk, info, 150)));
    }
    // The same array holding another key (ts-mls reuses arrays) gives that key's MAC, not the kept one's.
    prk.set(random(64));
    expect(toB64u(await cs.kdf.expand(prk, info, 64))).toBe(toB64u(await plain.kdf.expand(prk, info, 64)));
    const data = random(1500);
    expect(toB64u(await cs.hash.digest(data))).toBe(toB64u(await plain.hash.digest(data)));
    const mac = await cs.hash.mac(prk, data);
    expect(toB64u(mac)).toBe(toB64u(await plain.hash.mac(prk, data)));
    expect(await cs.hash.verifyMac(prk, mac, data)).toBe(true);
    mac[0]! ^= 1;
    expect(await cs.hash.verifyMac(prk, mac, data)).toBe(false);
    end();
  });

  it("signs as the pure-JS curve does and verifies with its strict answer, even where a host's own check is laxer", async () => {
    const seed = random(32);
    const publicKey = ed25519.getPublicKey(seed);
    const message = random(300);
    const sig = await signEd25519(seed, message);
    expect(toB64u(sig)).toBe(toB64u(ed25519.sign(message, seed)));
    expect(await verifyEd25519(publicKey, message, sig)).toBe(true);
    expect(await verifyEd25519(publicKey, random(300), sig)).toBe(false);
    expect(await verifyEd25519(ed25519.getPublicKey(random(32)), message, sig)).toBe(false);

    // S + L: the same point equation holds, but S is not reduced (RFC 8032 refuses it).
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
    s += L;
    const unreduced = sig.slice();
    for (let i = 32; i < 64; i++, s >>= 8n) unreduced[i] = Number(s & 0xffn);
    expect(await verifyEd25519(publicKey, message, unreduced)).toBe(false);

    // The identity as key, R = identity and S = 0 satisfy [S]B = R + [k]A for every message; a
    // cofactorless host check (OpenSSL's) accepts it, the strict check refuses a small-order key.
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const forged = new Uint8Array(64);
    forged[0] = 1;
    expect(ed25519.verify(forged, message, identity, { zip215: false })).toBe(false);
    expect(await verifyEd25519(identity, message, forged)).toBe(false);
    expect(await verifyEd25519(publicKey.subarray(1), message, sig)).toBe(false);
  });

  it("talks with devices still on ts-mls's default provider, both ways", async () => {
    const device = async (address: string): Promise<DeviceIdentity> => {
      const account = generateKeyPair();
      const key = generateKeyPair();
      return { deviceCert: certifyDevice(account, asAddress(address), key.publicKey, "test", Date.now()), devicePrivateKey: key.privateKey, devicePublicKey: key.publicKey };
    };
    const [alice, bob] = [await device("alice#im.alice.test"), await device("bob#im.bob.test")];
    const bundles = await makeKeyPackages(bob, 1);
    const added = await addMembers(await createGroup(alice, `im.alice.test/${randomId16()}`), [bundles[0]!.keyPackage]);
    let aliceState = added.state;
    let bobState = (await joinFromWelcome(bob, added.welcome, bundles)).state;
    const old = await theirs();

    // Alice's device is an old one: ts-mls with its default provider seals, ours opens.
    const sealed = await createApplicationMessage(asClient(aliceState), utf8.encode("from the old code"), old);
    aliceState = asGroupState(sealed.newState);
    const read = await processMessage(bobState, toWire({ wireformat: "mls_private_message", privateMessage: sealed.privateMessage }));
    if (read.kind !== "application") throw new Error("expected an application message");
    expect(new TextDecoder().decode(read.plaintext)).toBe("from the old code");
    expect(read.sender.address).toBe("alice#im.alice.test");
    bobState = read.state;

    // And back: ours seals, the old code opens.
    const reply = await encrypt(bobState, utf8.encode("from the new code"));
    const opened = await processPrivateMessage(asClient(aliceState), fromWire(reply.mls, "mls_private_message").privateMessage, emptyPskIndex, old);
    if (opened.kind !== "applicationMessage") throw new Error("expected an application message");
    expect(new TextDecoder().decode(opened.message)).toBe("from the new code");
  });
});
