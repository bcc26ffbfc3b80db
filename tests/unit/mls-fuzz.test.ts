import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { fromB64u, toB64u } from "../../shared/base64url.js";
import { EmsgError } from "../../shared/errors.js";
import { randomId16 } from "../../shared/ids.js";
import { addMembers, createGroup, encrypt, joinFromWelcome, processMessage } from "../../shared/mls/index.js";
import { type Device, makePerson, text, utf8 } from "./mls-people.js";

const [a] = (await makePerson("alice#im.alice.test")).devices as [Device];
const [b] = (await makePerson("bob#im.bob.test")).devices as [Device];
const [c] = (await makePerson("carol#im.carol.test")).devices as [Device];
const added = await addMembers(await createGroup(a.me, `im.alice.test/${randomId16()}`), [b.bundles[0]!.keyPackage]);
const bob = (await joinFromWelcome(b.me, added.welcome, b.bundles)).state;
const sent = await encrypt(added.state, utf8.encode("the real one"));

/** One byte changed somewhere in b64u-encoded MLS data. */
const mutation = (wire: string) =>
  fc.record({ at: fc.nat({ max: fromB64u(wire).length - 1 }), xor: fc.integer({ min: 1, max: 255 }) }).map(({ at, xor }) => {
    const bytes = fromB64u(wire);
    bytes[at]! ^= xor;
    return toB64u(bytes);
  });

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "accepted";
  } catch (e) {
    if (!(e instanceof EmsgError)) throw e;
    return e.code;
  }
}

const TYPED = /^(bad_request|unauthorized|stale_epoch|conflict|unsupported_version)$/;

describe("one flipped byte anywhere in MLS data is a typed error and changes nothing", () => {
  it("in an application message", { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(mutation(sent.mls), async (bad) => {
        expect(await failure(processMessage(bob, bad))).toMatch(TYPED);
      }),
      { numRuns: 150 },
    );
    const got = await processMessage(bob, sent.mls);
    expect(got.kind === "application" && text(got.plaintext)).toBe("the real one");
  });

  it("in a Welcome", { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(mutation(added.welcome), async (bad) => {
        expect(await failure(joinFromWelcome(b.me, bad, b.bundles))).toMatch(/^(bad_request|unauthorized|not_found|unsupported_version)$/);
      }),
      { numRuns: 60 },
    );
  });

  it("in a KeyPackage being added", { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(mutation(c.bundles[0]!.keyPackage), async (bad) => {
        expect(await failure(addMembers(added.state, [bad]))).toMatch(/^(bad_request|unauthorized|unsupported_version)$/);
      }),
      { numRuns: 60 },
    );
  });
});
