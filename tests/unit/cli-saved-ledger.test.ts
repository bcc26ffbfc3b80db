import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readLedger } from "../../cli/file-commands.js";

const dirs: string[] = [];
const newDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), "emsg-ledger-"));
  dirs.push(dir);
  return dir;
};

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("the CLI's ledger of saved files", () => {
  it("is empty in a folder that has none yet", async () => {
    const dir = await newDir();
    expect([...(await readLedger(join(dir, ".saved.json")))]).toEqual([]);
  });

  it("lists the ids saved before", async () => {
    const dir = await newDir();
    await writeFile(join(dir, ".saved.json"), JSON.stringify(["m1", "m2"]));
    expect([...(await readLedger(join(dir, ".saved.json")))]).toEqual(["m1", "m2"]);
  });

  it("refuses a ledger it cannot read instead of starting over and saving every file again", async () => {
    const dir = await newDir();
    await mkdir(join(dir, ".saved.json"));
    await expect(readLedger(join(dir, ".saved.json"))).rejects.toMatchObject({ code: "EISDIR" });
  });

  it("refuses a damaged ledger with a message naming it", async () => {
    const dir = await newDir();
    await writeFile(join(dir, ".saved.json"), "{not json");
    await expect(readLedger(join(dir, ".saved.json"))).rejects.toThrow(/\.saved\.json is not a list of saved message ids/);
  });
});
