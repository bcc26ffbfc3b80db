import { describe, expect, it } from "vitest";
import { defaultCapabilities, defaultLifetime, encodeMlsMessage, generateKeyPackageWithKey } from "ts-mls";
import { fromB64u, toB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import { generateKeyPair } from "../../shared/identity.js";
import {
  addMembers,
  createGroup,
  encrypt,
  epochOf,
  type GroupState,
  joinFromWelcome,
  processMessage,
  verifyMembers,
} from "../../shared/mls/index.js";
import { credentialOf } from "../../shared/mls/credential.js";
import { cipherSuite } from "../../shared/mls/suite.js";
import { type Device, makeDevice, makePerson, text, utf8 } from "./mls-people.js";

/** Alice and Bob in a fresh 1:1 group, both at epoch 1. */
async function pair(conversation = `im.alice.test/${randomId16()}`) {
  const alice = await makePerson("alice#im.alice.test");
  const bob = await makePerson("bob#im.bob.test");
  const [a] = alice.devices as [Device];
  const [b] = bob.devices as [Device];
  const added = await addMembers(await createGroup(a.me, conversation), [b.bundles[0]!.keyPackage]);
  const joined = await joinFromWelcome(b.me, added.welcome, b.bundles);
  return { alice, bob, a, b, aState: added.state, bState: joined.state, conversation };
}

/** Proves a state still works: a fresh message from alice reads as sent. */
async function stillReads(aState: GroupState, bState: GroupState, words = "still fine") {
  const sent = await encrypt(aState, utf8.encode(words));
  const got = await processMessage(bState, sent.mls);
  expect(got.kind === "application" && text(got.plaintext)).toBe(words);
}

function flipByte(b64u: string, fromEnd: number): string {
  const bytes = fromB64u(b64u);
  bytes[bytes.length - fromEnd]! ^= 0x01;
  return toB64u(bytes);
}

describe("hostile or stale MLS messages give typed errors and leave the state usable", () => {
  it("a tampered ciphertext is unauthorized", async () => {
    const { aState, bState } = await pair();
    const sent = await encrypt(aState, utf8.encode("original"));
    await expect(processMessage(bState, flipByte(sent.mls, 5))).rejects.toMatchObject({ code: "unauthorized" });
    const got = await processMessage(bState, sent.mls);
    expect(got.kind === "application" && text(got.plaintext)).toBe("original");
    await stillReads(sent.state, got.state);
  });

  it("a message from someone outside the group is unauthorized", async () => {
    const { aState, bState, conversation } = await pair();
    const mallory = await makePerson("mallory#im.evil.test", 2);
    // Same conversation id and epoch, her own group: the closest a non-member gets to writing into it.
    const hers = await addMembers(await createGroup(mallory.devices[0]!.me, conversation), [mallory.devices[1]!.bundles[0]!.keyPackage]);
    expect(epochOf(hers.state)).toBe(epochOf(bState));
    const forged = await encrypt(hers.state, utf8.encode("trust me"));
    await expect(processMessage(bState, forged.mls)).rejects.toMatchObject({ code: "unauthorized" });
    await stillReads(aState, bState);
  });

  it("a replayed commit and a commit from an old epoch are stale_epoch", async () => {
    const { aState, bState } = await pair();
    const carol = await makeDevice("carol#im.carol.test", generateKeyPair(), "phone");
    const dave = await makeDevice("dave#im.dave.test", generateKeyPair(), "phone");
    const aliceAdds = await addMembers(aState, [carol.bundles[0]!.keyPackage]);
    // Bob commits at the same epoch; the hub took Alice's first, so Bob's is from a past epoch.
    const bobAdds = await addMembers(bState, [dave.bundles[0]!.keyPackage]);
    const applied = await processMessage(bState, aliceAdds.commit);
    expect(applied.kind === "commit" && applied.epoch).toBe(2);
    await expect(processMessage(applied.state, aliceAdds.commit)).rejects.toMatchObject({ code: "stale_epoch" });
    await expect(processMessage(applied.state, bobAdds.commit)).rejects.toMatchObject({ code: "stale_epoch" });
    expect(epochOf(applied.state)).toBe(2);
    await stillReads(aliceAdds.state, applied.state);
  });

  it("a message from an epoch this device has not reached is stale_epoch", async () => {
    const { aState, bState } = await pair();
    const carol = await makeDevice("carol#im.carol.test", generateKeyPair(), "phone");
    const next = await addMembers(aState, [carol.bundles[0]!.keyPackage]);
    const ahead = await encrypt(next.state, utf8.encode("from epoch 2"));
    await expect(processMessage(bState, ahead.mls)).rejects.toMatchObject({ code: "stale_epoch" });
    const caughtUp = await processMessage(bState, next.commit);
    const got = await processMessage(caughtUp.state, ahead.mls);
    expect(got.kind === "application" && text(got.plaintext)).toBe("from epoch 2");
  });

  it("a replayed application message is a conflict (already read)", async () => {
    const { aState, bState } = await pair();
    const sent = await encrypt(aState, utf8.encode("once"));
    const first = await processMessage(bState, sent.mls);
    await expect(processMessage(first.state, sent.mls)).rejects.toMatchObject({ code: "conflict" });
    await stillReads(sent.state, first.state);
  });

  it("garbage is bad_request", async () => {
    const { a, bState } = await pair();
    for (const junk of ["", "not base64!", toB64u(crypto.getRandomValues(new Uint8Array(300))), a.bundles[1]!.keyPackage]) {
      await expect(processMessage(bState, junk)).rejects.toMatchObject({ code: "bad_request" });
    }
  });
});

describe("credentials", () => {
  it("a member whose certificate another account key signed fails the pinned-key check", async () => {
    const { alice, bob, aState } = await pair();
    const pins = new Map([
      ["alice#im.alice.test", toB64u(alice.account.publicKey)],
      ["bob#im.bob.test", toB64u(bob.account.publicKey)],
    ]);
    expect(() => verifyMembers(aState, (address) => pins.get(address))).not.toThrow();
    // Mallory certifies a device of her own as bob's and gets it into the group.
    const mallory = generateKeyPair();
    const fakeBob = await makeDevice("bob#im.bob.test", mallory, "not bob");
    const withFake = await addMembers(aState, [fakeBob.bundles[0]!.keyPackage]);
    expect(() => verifyMembers(withFake.state, (address) => pins.get(address))).toThrow(
      expect.objectContaining({ code: "unauthorized" }),
    );
    // With no key pinned for bob yet, the check has nothing to compare against and passes.
    expect(() => verifyMembers(withFake.state, () => undefined)).not.toThrow();
  });

  it("a KeyPackage whose certificate signature is broken is refused at add", async () => {
    const { aState } = await pair();
    const carol = await makeDevice("carol#im.carol.test", generateKeyPair(), "phone");
    const cert = { ...carol.me.deviceCert, body: { ...carol.me.deviceCert.body, label: "edited after signing" } };
    const kp = await rawKeyPackage(credentialOf(cert), carol.me.devicePrivateKey, carol.me.devicePublicKey);
    await expect(addMembers(aState, [kp])).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("a KeyPackage whose leaf key is not the certified device key is refused at add", async () => {
    const { aState } = await pair();
    const carol = await makeDevice("carol#im.carol.test", generateKeyPair(), "phone");
    const other = generateKeyPair();
    const kp = await rawKeyPackage(credentialOf(carol.me.deviceCert), other.privateKey, other.publicKey);
    await expect(addMembers(aState, [kp])).rejects.toMatchObject({ code: "unauthorized" });
  });
});

async function rawKeyPackage(credential: ReturnType<typeof credentialOf>, signKey: Uint8Array, publicKey: Uint8Array): Promise<string> {
  const cs = await cipherSuite();
  const { publicPackage } = await generateKeyPackageWithKey(credential, defaultCapabilities(), defaultLifetime, [], { signKey, publicKey }, cs);
  return toB64u(encodeMlsMessage({ version: "mls10", wireformat: "mls_key_package", keyPackage: publicPackage }));
}
