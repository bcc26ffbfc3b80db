import { describe, expect, it } from "vitest";
import { toB64u } from "../../shared/base64url.js";
import { anotherDevice, call, errorOf, registered } from "./harness.js";

function packages(n: number, tag: number): string[] {
  return Array.from({ length: n }, (_, i) => toB64u(new TextEncoder().encode(`kp-${tag}-${i}`)));
}

describe("KeyPackages", () => {
  it("stores a device's KeyPackages and hands each out once", async () => {
    const owner = await registered("kp");
    const claimer = await registered("claimer");
    const published = packages(3, 1);
    const res = await call(owner, "POST", "/account/keypackages", { keyPackages: published });
    expect(await res.json()).toEqual({ stored: 3 });
    const got: (string | null)[] = [];
    for (let i = 0; i < 4; i++) {
      const claim = (await (await call(claimer, "POST", "/directory/claim", { address: owner.address })).json()) as {
        devices: { keyPackage: string | null; deviceCert: unknown }[];
      };
      expect(claim.devices).toHaveLength(1);
      expect(claim.devices[0]!.deviceCert).toEqual(owner.cert);
      got.push(claim.devices[0]!.keyPackage);
    }
    expect(got).toEqual([...published, null]);
  });

  it("never gives two concurrent claims the same package", async () => {
    const owner = await registered("kprace");
    const claimers = await Promise.all([registered("c"), registered("c"), registered("c"), registered("c")]);
    await call(owner, "POST", "/account/keypackages", { keyPackages: packages(10, 2) });
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
    await call(owner, "POST", "/account/keypackages", { keyPackages: packages(1, 3) });
    await call(second, "POST", "/account/keypackages", { keyPackages: packages(1, 4) });
    const claim = (await (await call(owner, "POST", "/directory/claim", { address: owner.address })).json()) as { devices: { keyPackage: string }[] };
    expect(claim.devices.map((d) => d.keyPackage).sort()).toEqual([...packages(1, 3), ...packages(1, 4)].sort());
  });

  it("refuses more than 100 packages per device and claims for unknown accounts", async () => {
    const owner = await registered("kpfull");
    expect((await call(owner, "POST", "/account/keypackages", { keyPackages: packages(100, 5) })).status).toBe(200);
    const over = await call(owner, "POST", "/account/keypackages", { keyPackages: packages(1, 6) });
    expect(over.status).toBe(413);
    const missing = await call(owner, "POST", "/directory/claim", { address: "nobody#im.alice.test" });
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toBe("not_found");
  });
});
