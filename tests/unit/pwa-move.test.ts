import { describe, expect, it } from "vitest";
import type { Address } from "../../shared/address.js";
import { readAccountArchive } from "../../shared/account-archive.js";
import { EmsgError } from "../../shared/errors.js";
import { sealArchive } from "../../shared/export-archive.js";
import { MemoryStore } from "../../shared/client/store.js";
import type { ImportResult } from "../../shared/client/account-move.js";
import { translator } from "../../ui/i18n/translate.js";
import { ImportViewModel, importFailure, importSummary, restoreFavorites } from "../../ui/view-models/account-import.js";
import { friendRow } from "../../ui/view-models/friends-model.js";
import { LocalRecords } from "../../ui/view-models/local-records.js";

const t = translator("en");
const zh = translator("zh-CN");
const OLD = "alice#im.alice.test" as Address;
const NEW = "alice#im.carol.test" as Address;

function result(over: Partial<ImportResult> = {}): ImportResult {
  return {
    from: OLD, address: NEW, friends: 2, announced: true, told: 2, announceError: null, waiting: 0, done: true,
    favorites: [], groups: [], ...over,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return importFailure(error, t);
  }
  throw new Error("expected a failure");
}

describe("moving an account in the PWA", () => {
  it("says plainly whether the passphrase or the file is wrong, and passes the server's sentence on", async () => {
    const file = await sealArchive({ address: OLD }, "right passphrase", { N: 1024 });
    expect(await failureOf(readAccountArchive(JSON.stringify(file), "wrong passphrase"))).toBe("That passphrase does not open this file.");
    expect(await failureOf(readAccountArchive("{ not json", "x"))).toBe("This file is damaged, or it is not an EMSG export.");
    expect(await failureOf(readAccountArchive(JSON.stringify({ ...file, nonce: "AAAA" }), "right passphrase"))).toBe("This file is damaged, or it is not an EMSG export.");
    expect(await failureOf(readAccountArchive(JSON.stringify(file), "right passphrase"))).toBe("This file is damaged, or it is not an EMSG export.");
    expect(importFailure(new EmsgError("conflict", "That name is taken."), t)).toBe("That name is taken.");
    expect(importFailure(new EmsgError("bad_request", "That name is not allowed."), t, false)).toBe("That name is not allowed.");
    expect(importFailure(new EmsgError("unauthorized"), zh)).toBe("这个密码短语打不开这个文件。");
  });

  it("sums a finished move up in sentences, including what could not come along", () => {
    expect(importSummary(result(), t)).toEqual([`${OLD} now lives here as ${NEW}; 2 friends were told.`]);
    expect(importSummary(result({ announced: false, told: null, groups: [{ conversation: "im.alice.test/x", members: [] } as never] }), t)).toEqual([
      `${OLD} now lives here as ${NEW}; 2 friends were told.`,
      "im.alice.test could not be reached; it will be told later.",
      "1 group could not come along: ask a member to add you.",
    ]);
    expect(importSummary(result({ friends: 1, groups: [{ conversation: "im.alice.test/x", members: [] }, { conversation: "im.alice.test/y", members: [] }] as never }), t)).toEqual([
      `${OLD} now lives here as ${NEW}; 1 friend was told.`,
      "2 groups could not come along: ask a member to add you.",
    ]);
    // An export of a device the old account no longer has, or an older file: the old server would not take the notice.
    expect(importSummary(result({ told: null, announceError: "unauthorized" }), t)).toEqual([
      `${OLD} now lives here as ${NEW}; 2 friends were told.`,
      "im.alice.test did not announce the move: this export was made by a device that is no longer part of the old account, or by an older version. Your friends get a friend request from your new address and must accept it themselves.",
    ]);
  });

  it("shows the progress of opening the file, and the error when it fails", async () => {
    const seen: string[] = [];
    const model = new ImportViewModel(() => t, async (_archive, _pass, name, onProgress) => {
      onProgress({ step: "unlock", fraction: 0.5 });
      onProgress({ step: "register", fraction: 0 });
      expect(name).toBe("alice");
      throw new EmsgError("unauthorized");
    });
    model.subscribe(() => model.progress && seen.push(model.progress));
    expect(await model.start("pass", "alice")).toBeNull();
    await model.chooseFile("old.emsg", async () => "{}");
    expect(await model.start("pass", "alice")).toBeNull();
    expect(seen).toEqual(["Opening the file… 50%", "Creating your new address…"]);
    // It failed after the file was open: the server's sentence, not a passphrase problem.
    expect(model.error).toBe("This device could not prove who it is.");
    expect(model.running).toBe(false);
  });

  it("keeps the archive's favorites as favorites again, and marks friends who moved", async () => {
    const records = new LocalRecords(new MemoryStore());
    await restoreFavorites(records, result({ favorites: [
      { id: "a", peer: "bob#im.bob.test", from: "bob#im.bob.test", text: "see you", at: 5 },
      { id: "b", peer: "bob#im.bob.test", from: OLD, text: "me too", at: 6 },
    ] as never }), 99);
    expect((await records.favorites()).map((f) => [f.id, f.mine, f.text, f.starredAt])).toEqual([["b", true, "me too", 99], ["a", false, "see you", 99]]);
    const row = friendRow({ address: OLD, accountKey: "k", state: "friend", since: 1, movedTo: NEW }, { verified: false, keyChanged: false }, translator("en"));
    expect(row).toMatchObject({ isFriend: true, movedTo: NEW, movedFrom: null });
  });
});
