import { describe, expect, it } from "vitest";
import { defaultCapabilities, encodeMlsMessage, generateKeyPackageWithKey } from "ts-mls";
import { toB64u } from "../../shared/base64url.js";
import { generateKeyPair } from "../../shared/identity.js";
import { credentialOf } from "../../shared/mls/credential.js";
import { cipherSuite } from "../../shared/mls/suite.js";
import { KEY_PACKAGE_LIFETIME_MS } from "../../shared/mls/index.js";
import { anotherDevice, call, errorOf, registered, type Device } from "./harness.js";
import { identityOf, keyPackagesOf } from "./mls.js";

type Claimed = { devices: { keyPackage: string | null; deviceCert: unknown }[] };

async function claimOne(claimer: Device, owner: Device): Promise<string | null> {
  const claim = (await (await call(claimer, "POST", "/directory/claim", { address: owner.address })).json()) as Claimed;
  return claim.devices[0]!.keyPackage;
}

function publish(d: Device, keyPackages: string[]): Promise<Response> {
  return call(d, "POST", "/account/keypackages", { keyPackages });
}

/** A refusal's code and message. */
async function refusal(res: Response): Promise<{ status: number; error: string; message: string }> {
  const body = (await res.json()) as { error: string; message: string };
  return { status: res.status, ...body };
}

describe("KeyPackages", () => {
  it("stores a device's KeyPackages and hands each out once", async () => {
    const owner = await registered("kp");
    const claimer = await registered("claimer");
    const published = await keyPackagesOf(owner, 3);
    const res = await publish(owner, published);
    expect(await res.json()).toEqual({ stored: 3 });
    const got: (string | null)[] = [];
    for (let i = 0; i < 4; i++) {
      const claim = (await (await call(claimer, "POST", "/directory/claim", { address: owner.address })).json()) as Claimed;
      expect(claim.devices).toHaveLength(1);
      expect(claim.devices[0]!.deviceCert).toEqual(owner.cert);
      got.push(claim.devices[0]!.keyPackage);
    }
    expect(got).toEqual([...published, null]);
  });

  it("never gives two concurrent claims the same package", async () => {
    const owner = await registered("kprace");
    const claimers = await Promise.all([registered("c"), registered("c"), registered("c"), registered("c")]);
    await publish(owner, await keyPackagesOf(owner, 10));
    const claims = await Promise.all(
      claimers.flatMap((c) => [1, 2, 3].map(() => call(c, "POST", "/directory/claim", { address: owner.address }).then((r) => r.json()))),
    );
    const kps = claims.map((c) => (c as { devices: { keyPackage: string | null }[] }).devices[0]!.keyPackage);
    const handed = kps.filter((k) => k !== null);
    expect(handed).toHaveLength(10);
    expect(new Set(handed).size).toBe(10);
  });

  it("gives one package per device of the account", async () => {
    const owner = await registered("kpmulti");
    const second = anotherDevice(owner);
    await call(owner, "POST", "/account/devices", { deviceCert: second.cert });
    const [first, other] = [await keyPackagesOf(owner, 1), await keyPackagesOf(second, 1)];
    await publish(owner, first);
    await publish(second, other);
    const claim = (await (await call(owner, "POST", "/directory/claim", { address: owner.address })).json()) as { devices: { keyPackage: string }[] };
    expect(claim.devices.map((d) => d.keyPackage).sort()).toEqual([...first, ...other].sort());
  });

  it("refuses more than 100 packages per device and claims for unknown accounts", async () => {
    const owner = await registered("kpfull");
    for (let i = 0; i < 2; i++) expect((await publish(owner, await keyPackagesOf(owner, 50))).status).toBe(200);
    const over = await publish(owner, await keyPackagesOf(owner, 1));
    expect(over.status).toBe(413);
    const missing = await call(owner, "POST", "/directory/claim", { address: "nobody#im.alice.test" });
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toBe("not_found");
  });
});

describe("KeyPackages are checked before they are stored (PROTOCOL §8)", () => {
  it("refuses bytes that are no KeyPackage, naming the entry, and stores nothing of the request", async () => {
    const owner = await registered("kpjunk");
    const claimer = await registered("kpjunkc");
    const [good] = await keyPackagesOf(owner, 1);
    const junk = toB64u(new TextEncoder().encode("kp-0"));
    expect(await refusal(await publish(owner, [good!, junk]))).toMatchObject({ status: 400, error: "bad_request", message: expect.stringContaining("KeyPackage 1") });
    // Nor is a cut-off one.
    const truncated = good!.slice(0, 2000);
    expect(await refusal(await publish(owner, [truncated]))).toMatchObject({ status: 400, error: "bad_request", message: expect.stringContaining("KeyPackage 0") });
    expect(await claimOne(claimer, owner)).toBeNull();
  });

  it("refuses another user's KeyPackage, even one just claimed from the directory", async () => {
    const owner = await registered("kpown");
    const victim = await registered("kpvictim");
    const [victims] = await keyPackagesOf(victim, 1);
    expect((await publish(victim, [victims!])).status).toBe(200);
    const stolen = await claimOne(owner, victim);
    expect(stolen).toBe(victims);
    expect(await refusal(await publish(owner, [stolen!]))).toMatchObject({ status: 401, error: "unauthorized", message: expect.stringContaining("KeyPackage 0") });
    expect(await claimOne(victim, owner)).toBeNull();
  });

  it("refuses a KeyPackage of another device of the same account", async () => {
    const owner = await registered("kpsib");
    const laptop = anotherDevice(owner);
    expect((await call(owner, "POST", "/account/devices", { deviceCert: laptop.cert })).status).toBe(201);
    const laptops = await keyPackagesOf(laptop, 1);
    expect(await refusal(await publish(owner, laptops))).toMatchObject({ status: 401, error: "unauthorized" });
    expect((await publish(laptop, laptops)).status).toBe(200);
  });

  it("refuses a KeyPackage whose signature is not the device key's, though its credential is the device's", async () => {
    const owner = await registered("kpforge");
    const thief = generateKeyPair();
    const { publicPackage } = await generateKeyPackageWithKey(
      credentialOf(identityOf(owner).deviceCert), defaultCapabilities(), { notBefore: BigInt(Math.floor(Date.now() / 1000) - 60), notAfter: BigInt(Math.floor(Date.now() / 1000) + 86400) }, [],
      { signKey: thief.privateKey, publicKey: thief.publicKey }, await cipherSuite(),
    );
    const forged = toB64u(encodeMlsMessage({ version: "mls10", wireformat: "mls_key_package", keyPackage: publicPackage }));
    expect(await refusal(await publish(owner, [forged]))).toMatchObject({ status: 401, error: "unauthorized" });
  });

  it("refuses an expired KeyPackage, one not valid yet, and one with a longer lifetime than KeyPackages are made for", async () => {
    const owner = await registered("kplife");
    const day = 86400_000;
    const expired = await keyPackagesOf(owner, 1, Date.now() - KEY_PACKAGE_LIFETIME_MS - day);
    const future = await keyPackagesOf(owner, 1, Date.now() + 2 * 3600_000);
    for (const kps of [expired, future]) expect(await refusal(await publish(owner, kps))).toMatchObject({ status: 400, error: "bad_request", message: expect.stringContaining("lifetime") });
    const { publicPackage } = await generateKeyPackageWithKey(
      credentialOf(owner.cert), defaultCapabilities(), { notBefore: 0n, notAfter: 2n ** 63n - 1n }, [],
      { signKey: owner.device.privateKey, publicKey: owner.device.publicKey }, await cipherSuite(),
    );
    const forever = toB64u(encodeMlsMessage({ version: "mls10", wireformat: "mls_key_package", keyPackage: publicPackage }));
    expect(await refusal(await publish(owner, [forever]))).toMatchObject({ status: 400, error: "bad_request", message: expect.stringContaining("longer") });
  });

  it("stores a KeyPackage once: not twice in a request, not again while held, not again once handed out", async () => {
    const owner = await registered("kponce");
    const claimer = await registered("kponcec");
    const [a, b] = await keyPackagesOf(owner, 2);
    expect(await refusal(await publish(owner, [a!, a!]))).toMatchObject({ status: 409, error: "conflict", message: expect.stringContaining("KeyPackage 1") });
    expect(await (await publish(owner, [a!])).json()).toEqual({ stored: 1 });
    expect(await refusal(await publish(owner, [b!, a!]))).toMatchObject({ status: 409, error: "conflict", message: expect.stringContaining("KeyPackage 1") });
    expect(await claimOne(claimer, owner)).toBe(a);
    expect(await refusal(await publish(owner, [a!]))).toMatchObject({ status: 409, error: "conflict" });
    // Nothing of a refused request was stored: b is still new.
    expect(await (await publish(owner, [b!])).json()).toEqual({ stored: 1 });
    expect(await claimOne(claimer, owner)).toBe(b);
    expect(await claimOne(claimer, owner)).toBeNull();
  });

  it("checks the KeyPackages a new device brings, and adds no device whose KeyPackages are refused", async () => {
    const owner = await registered("kpadd");
    const stranger = await registered("kpaddx");
    const laptop = anotherDevice(owner);
    const refused = await call(owner, "POST", "/account/devices", { deviceCert: laptop.cert, keyPackages: await keyPackagesOf(stranger, 1) });
    expect(await refusal(refused)).toMatchObject({ status: 401, error: "unauthorized", message: expect.stringContaining("KeyPackage 0") });
    // The adding device's own KeyPackages are not the new device's either.
    expect((await call(owner, "POST", "/account/devices", { deviceCert: laptop.cert, keyPackages: await keyPackagesOf(owner, 1) })).status).toBe(401);
    const view = (await (await call(owner, "GET", "/account")).json()) as { devices: unknown[] };
    expect(view.devices).toEqual([owner.cert]);
    const its = await keyPackagesOf(laptop, 2);
    expect((await call(owner, "POST", "/account/devices", { deviceCert: laptop.cert, keyPackages: its })).status).toBe(201);
  });
});
