import { describe, expect, it } from "vitest";
import { sha256 } from "@noble/hashes/sha2.js";
import { asAddress } from "../../shared/address.js";
import { fromB64u, toB64u } from "../../shared/base64url.js";
import { EmsgError } from "../../shared/errors.js";
import {
  certifyDevice,
  deviceIdOf,
  generateKeyPair,
  keyIdOf,
  keyPairFromSeed,
  verifyDeviceCert,
} from "../../shared/identity.js";
import { randomId16, Id16Schema } from "../../shared/ids.js";
import { signObject } from "../../shared/signed.js";
import * as v from "valibot";

const alice = asAddress("alice#im.alice.test");
const account = keyPairFromSeed(new Uint8Array(32).fill(7));
const device = keyPairFromSeed(new Uint8Array(32).fill(8));

function refusal(fn: () => unknown): EmsgError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EmsgError);
    return e as EmsgError;
  }
  throw new Error("expected a refusal");
}

describe("ids and keys", () => {
  it("makes distinct 22-character ids that pass the id schema", () => {
    const ids = new Set(Array.from({ length: 100 }, randomId16));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(v.safeParse(Id16Schema, id).success).toBe(true);
    expect(v.safeParse(Id16Schema, "AAAAAAAAAAAAAAAAAAAAAB").success).toBe(false); // stray low bits
    expect(v.safeParse(Id16Schema, "AAAAAAAAAAAAAAAAAAAAA").success).toBe(false);
  });

  it("refuses a private key that is not 32 bytes", () => {
    expect(refusal(() => keyPairFromSeed(new Uint8Array(31))).code).toBe("bad_request");
  });

  it("derives deviceId and kid from SHA-256 of the public key", () => {
    const kp = generateKeyPair();
    expect(kp.publicKey.length).toBe(32);
    expect(fromB64u(deviceIdOf(kp.publicKey))).toEqual(sha256(kp.publicKey).subarray(0, 16));
    expect(fromB64u(keyIdOf(kp.publicKey))).toEqual(sha256(kp.publicKey).subarray(0, 8));
    expect(keyIdOf(kp.publicKey)).toHaveLength(11);
  });
});

describe("device certificates", () => {
  const cert = certifyDevice(account, alice, device.publicKey, "Laptop", 1_760_000_000_000);

  it("verifies and returns the body", () => {
    const body = verifyDeviceCert(JSON.parse(JSON.stringify(cert)), { address: alice, accountKey: toB64u(account.publicKey) });
    expect(body).toMatchObject({ address: alice, deviceId: deviceIdOf(device.publicKey), label: "Laptop" });
  });

  it("refuses a certificate for another address or account key as unauthorized", () => {
    expect(refusal(() => verifyDeviceCert(cert, { address: asAddress("bob#im.alice.test") })).code).toBe("unauthorized");
    const other = toB64u(generateKeyPair().publicKey);
    expect(refusal(() => verifyDeviceCert(cert, { accountKey: other })).code).toBe("unauthorized");
  });

  it("refuses a certificate signed by someone other than the account key it names", () => {
    const forged = signObject(generateKeyPair().privateKey, "device-cert", cert.body);
    expect(refusal(() => verifyDeviceCert(forged)).message).toMatch(/signature/);
  });

  it("refuses a changed label or a changed date", () => {
    expect(refusal(() => verifyDeviceCert({ ...cert, body: { ...cert.body, label: "Phone" } })).code).toBe("unauthorized");
    expect(refusal(() => verifyDeviceCert({ ...cert, body: { ...cert.body, created: 1 } })).code).toBe("unauthorized");
  });

  it("refuses malformed certificates as bad_request", () => {
    const cases: unknown[] = [
      null,
      "cert",
      { body: cert.body },
      { ...cert, body: { ...cert.body, address: "Alice#im.alice.test" } },
      { ...cert, body: { ...cert.body, deviceKey: "short" } },
      { ...cert, body: { ...cert.body, created: -1 } },
      { ...cert, body: { ...cert.body, label: "x".repeat(65) } },
      { ...cert, body: { ...cert.body, deviceId: deviceIdOf(account.publicKey) } },
    ];
    for (const c of cases) expect(refusal(() => verifyDeviceCert(c)).code).toBe("bad_request");
  });

  it("counts the label in characters, not UTF-16 units", () => {
    expect(() => certifyDevice(account, alice, device.publicKey, "😀".repeat(64), 0)).not.toThrow();
  });

  it("keeps members it does not know, since they are signed", () => {
    const extended = signObject(account.privateKey, "device-cert", { ...cert.body, "x-acme-color": "blue" });
    expect(verifyDeviceCert(extended)).toMatchObject({ "x-acme-color": "blue" });
  });
});
