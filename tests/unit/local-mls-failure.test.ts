import { afterEach, describe, expect, it, vi } from "vitest";
import { defaultCryptoProvider } from "ts-mls";
import { DependencyError } from "ts-mls/mlsError.js";
import type { EmsgClient } from "../../shared/client/client.js";
import { EmsgError } from "../../shared/errors.js";
import { mlsFailure } from "../../shared/mls/failure.js";
import { cipherSuite } from "../../shared/mls/suite.js";
import { record, syncAll, tripGroup } from "./group-world.js";

// A device that cannot read a commit for a reason of its own (the suite's module did not load: a
// page whose app was updated under it) must not take it for the sender's garbage. Taken so, the
// commit was vetoed or skipped as unreadable and the device stayed at the epoch before for good,
// unable to read anything the others said after it (seen in an exploratory run).

const texts = async (client: EmsgClient, conversation: string) =>
  (await client.history(conversation, { limit: 100 })).filter((m) => !m.notice).map((m) => `${m.from.split("#")[0]}: ${m.text}`);

let restore: (() => void) | undefined;
afterEach(() => restore?.());

/** Until `restore`, every AEAD step of the suite fails as ts-mls does when its ChaCha20 module is missing. */
async function chachaMissing(): Promise<void> {
  const hpke = (await cipherSuite()).hpke;
  const { decryptAead, open } = hpke;
  const missing = async (): Promise<never> => {
    throw new DependencyError("Optional dependency '@hpke/chacha20poly1305' is not installed. Please install it to use this feature.");
  };
  hpke.decryptAead = missing;
  hpke.open = missing;
  restore = () => {
    hpke.decryptAead = decryptAead;
    hpke.open = open;
    restore = undefined;
  };
}

describe("a failure of the reading device's own", { timeout: 60_000 }, () => {
  it("is not put in the words of a bad message: ts-mls's missing module is thrown as it is", () => {
    const missing = new DependencyError("Optional dependency '@hpke/chacha20poly1305' is not installed.");
    expect(mlsFailure(missing, "The message cannot be read")).toBe(missing);
    expect(mlsFailure(new TypeError("x is undefined"), "The message cannot be read")).toBeInstanceOf(EmsgError);
  });

  it("keeps no failed build of the suite: the next operation loads it again", async () => {
    vi.resetModules();
    const fresh = (await import("../../shared/mls/suite.js")) as typeof import("../../shared/mls/suite.js");
    const build = defaultCryptoProvider.getCiphersuiteImpl;
    defaultCryptoProvider.getCiphersuiteImpl = async () => {
      throw new DependencyError("Optional dependency '@hpke/chacha20poly1305' is not installed.");
    };
    try {
      await expect(fresh.cipherSuite()).rejects.toBeInstanceOf(DependencyError);
    } finally {
      defaultCryptoProvider.getCiphersuiteImpl = build;
    }
    expect((await fresh.cipherSuite()).name).toBe(fresh.CIPHERSUITE_NAME);
  });

  it("leaves a commit unread, neither vetoed nor skipped, and reads it and what followed once the module loads", async () => {
    const { world, alice, bob, carol, conversation } = await tripGroup();
    const epoch = world.hubs.get(conversation)!.epoch;
    await alice.removeFromGroup(conversation, [carol.address]);
    await alice.flush();
    await alice.sendText(conversation, "just us now");
    await alice.flush();

    await chachaMissing();
    await expect(bob.sync()).rejects.toThrow(/not installed/);
    expect(world.vetoes).toEqual([]);
    expect((await record(world, bob, conversation))!.epoch).toBe(epoch);
    expect(await texts(bob, conversation)).toEqual([]);

    restore!();
    await syncAll(bob);
    expect((await record(world, bob, conversation))!.epoch).toBe(epoch + 1);
    expect(await texts(bob, conversation)).toEqual(["alice: just us now"]);
    await bob.sendText(conversation, "yes");
    await bob.flush();
    await syncAll(alice);
    expect(await texts(alice, conversation)).toEqual(["alice: just us now", "bob: yes"]);
  });
});
