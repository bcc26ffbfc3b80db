import { describe, expect, it } from "vitest";
import { asAddress } from "../../shared/address.js";
import { HOLD_MS, StoredCopies } from "../../worker/stored-copies.js";

// The hub's record of what devices said over their sessions they stored (PROTOCOL §10, `got`).
// Sockets are only identities here: each session is a distinct object.
const BOB = asAddress("bob#im.bob.test");
const CAROL = asAddress("carol#im.carol.test");
const session = () => ({}) as WebSocket;

describe("stored copies (got)", () => {
  it("counts a got only from the session the entry was pushed to, and only for that session's device", () => {
    const copies = new StoredCopies();
    const [bobs, bobsOther, carols] = [session(), session(), session()];
    copies.pushed(7, Date.now(), new Map([[bobs, BOB]]));
    // Another session of the same device, or another account's, cannot speak for it.
    copies.got(bobsOther, `${BOB}/phone`, [7]);
    copies.got(carols, `${CAROL}/laptop`, [7]);
    expect(copies.isStored(7, `${BOB}/phone`)).toBe(false);
    expect(copies.isStored(7, `${CAROL}/laptop`)).toBe(false);
    // Nor an entry never pushed to it.
    copies.got(bobs, `${BOB}/phone`, [8]);
    expect(copies.isStored(8, `${BOB}/phone`)).toBe(false);
    copies.got(bobs, `${BOB}/phone`, [7]);
    expect(copies.isStored(7, `${BOB}/phone`)).toBe(true);
    expect(copies.isStored(7, `${BOB}/tablet`)).toBe(false);
    copies.forget(7);
    expect(copies.isStored(7, `${BOB}/phone`)).toBe(false);
  });

  it("holds a lane's share until the got, the session's close or the hold's end, whichever comes first", async () => {
    const copies = new StoredCopies();
    const [bobs, carols] = [session(), session()];
    const now = Date.now();
    copies.pushed(1, now, new Map([[bobs, BOB]]));
    copies.pushed(2, now, new Map([[carols, CAROL]]));
    const done: string[] = [];
    const bobsLane = copies.settle([1], (a) => a === BOB).then(() => done.push("bob"));
    const carolsLane = copies.settle([2], (a) => a === CAROL).then(() => done.push("carol"));
    // A lane whose accounts nobody waits for goes at once.
    await copies.settle([1, 2], () => false);
    copies.got(bobs, `${BOB}/phone`, [1]);
    await bobsLane;
    expect(done).toEqual(["bob"]);
    copies.closed(carols);
    await carolsLane;
    expect(done).toEqual(["bob", "carol"]);
    expect(copies.isStored(2, `${CAROL}/laptop`)).toBe(false);

    // Unsaid and still open: the share waits for the hold's end, and not much longer.
    const pushedAt = Date.now();
    copies.pushed(3, pushedAt, new Map([[session(), BOB]]));
    copies.pushed(4, pushedAt + 50, new Map([[session(), BOB]]));
    await Promise.all([copies.settle([3], () => true), copies.settle([4], () => true)]);
    const waited = Date.now() - pushedAt;
    expect(waited).toBeGreaterThanOrEqual(HOLD_MS + 50 - 5);
    expect(waited).toBeLessThan(HOLD_MS + 1000);
  });
});
