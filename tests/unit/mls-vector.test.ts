import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fromB64u, toB64u } from "../../shared/base64url.js";
import { decodeContent } from "../../shared/content.js";
import { type DeviceCert, verifyDeviceCert } from "../../shared/identity.js";
import {
  CIPHERSUITE_ID,
  CIPHERSUITE_NAME,
  type DeviceIdentity,
  epochOf,
  groupIdOf,
  inspectKeyPackage,
  joinFromWelcome,
  type KeyPackageBundle,
  membersOf,
  processMessage,
  verifyMembers,
} from "../../shared/mls/index.js";
import { make } from "../../scripts/vectors/mls.js";
import { capabilities } from "../../shared/mls/suite.js";
import { encodeCapabilities } from "ts-mls/capabilities.js";

interface MlsVector {
  ciphersuite: { name: string; id: number };
  conversation: string;
  alice: { accountKey: string; deviceCert: DeviceCert };
  bob: { accountKey: string; deviceCert: DeviceCert; devicePrivateKey: string; bundle: KeyPackageBundle };
  leafCapabilities: string;
  welcome: string;
  expect: { epoch: number; members: string[] };
  messages: { mls: string; plaintext: string; content: unknown; sender: string }[];
}

const committed = readFileSync(new URL("../vectors/mls.json", import.meta.url), "utf8");
const vector = JSON.parse(committed) as MlsVector;

describe("the committed MLS vector (tests/vectors/mls.json)", () => {
  it("Bob's leaf declares exactly the capabilities of §8: mls10, suite 84, no extensions or proposals, basic credentials", () => {
    // versions <2: 0x0001>, cipher_suites <2: 0x0054>, extensions <0>, proposals <0>, credentials <2: 0x0001>
    expect(Buffer.from(fromB64u(vector.leafCapabilities)).toString("hex")).toBe("0200010200540000020001");
    expect(vector.leafCapabilities).toBe(toB64u(encodeCapabilities(capabilities())));
  });

  it("names the EMSG ciphersuite and a KeyPackage whose ref and credential check out", async () => {
    expect(vector.ciphersuite).toEqual({ name: CIPHERSUITE_NAME, id: CIPHERSUITE_ID });
    const inspected = await inspectKeyPackage(vector.bob.bundle.keyPackage);
    expect(inspected.ref).toBe(vector.bob.bundle.ref);
    expect(inspected.device).toEqual(verifyDeviceCert(vector.bob.deviceCert, { accountKey: vector.bob.accountKey }));
  });

  it("is what the maker produces today, byte for byte (seeded randomness, frozen clock)", async () => {
    expect(JSON.stringify(await make(), null, 2) + "\n").toBe(committed);
    // The maker put the real randomness and clock back.
    expect(Date.now()).toBeGreaterThan(1_764_000_000_000 + 86_400_000);
    expect(Object.hasOwn(crypto, "getRandomValues")).toBe(false);
  });

  it("lets Bob join from the Welcome and read Alice's messages exactly", async () => {
    const bob: DeviceIdentity = {
      deviceCert: vector.bob.deviceCert,
      devicePrivateKey: fromB64u(vector.bob.devicePrivateKey),
      devicePublicKey: fromB64u(vector.bob.deviceCert.body.deviceKey),
    };
    const joined = await joinFromWelcome(bob, vector.welcome, [vector.bob.bundle]);
    expect(joined.usedRef).toBe(vector.bob.bundle.ref);
    let state = joined.state;
    expect(groupIdOf(state)).toBe(vector.conversation);
    expect(epochOf(state)).toBe(vector.expect.epoch);
    expect(membersOf(state).map((m) => m.deviceId)).toEqual(vector.expect.members);
    const pins = new Map([
      ["alice#im.alice.test", vector.alice.accountKey],
      ["bob#im.bob.test", vector.bob.accountKey],
    ]);
    expect(() => verifyMembers(state, (a) => pins.get(a))).not.toThrow();

    for (const message of vector.messages) {
      const got = await processMessage(state, message.mls);
      if (got.kind !== "application") throw new Error(`expected an application message, got ${got.kind}`);
      state = got.state;
      expect(toB64u(got.plaintext)).toBe(message.plaintext);
      expect(decodeContent(got.plaintext)).toEqual(message.content);
      expect(got.sender.deviceId).toBe(message.sender);
    }
  });
});
