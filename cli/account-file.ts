// `export FILE` and `import FILE --as ADDRESS`: the account's sealed archive (PROTOCOL §11).
import { readFile, writeFile } from "node:fs/promises";
import { createInterface } from "node:readline/promises";
import { EmsgError } from "../shared/errors.js";
import type { EmsgClient } from "../shared/client/client.js";

/** The passphrase from EMSG_PASSPHRASE (for scripts), else asked for on the terminal without echo. */
export async function passphrase(prompt: string): Promise<string> {
  const fromEnv = process.env.EMSG_PASSPHRASE;
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) throw new Error("Set EMSG_PASSPHRASE, or run this in a terminal to type the passphrase.");
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  const output = rl as unknown as { _writeToOutput: (text: string) => void };
  process.stdout.write(prompt);
  output._writeToOutput = () => undefined;
  try {
    return await rl.question("");
  } finally {
    rl.close();
    process.stdout.write("\n");
  }
}

export async function exportCommand(client: EmsgClient, file: string): Promise<void> {
  const secret = await passphrase("Passphrase to protect the export: ");
  if (secret.length < 8) throw new Error("Choose a passphrase of at least 8 characters.");
  const archive = await client.exportAccount(secret);
  await writeFile(file, JSON.stringify(archive), { mode: 0o600 });
  console.log(`Exported ${client.address} to ${file}. Keep the file and its passphrase safe: together they are the account.`);
}

/** Imports with sentences a person can act on: the passphrase, or the file, is what is wrong. */
export async function importCommand(client: EmsgClient, file: string, as: string | undefined, label: string): Promise<void> {
  const text = await readFile(file, "utf8").catch((error: unknown) => {
    throw new Error(`Cannot read ${file}: ${(error as Error).message}`);
  });
  const secret = await passphrase(`Passphrase of ${file}: `);
  try {
    const result = await client.importAccount(text, secret, as, { label });
    const told = result.told === null ? "its old server could not be reached yet; run read later to retry" : `its old server told ${result.told} contact(s)`;
    console.log(`Moved ${result.from} to ${result.address}: ${result.friends} friend(s) restored and told of the move; ${told}.`);
    if (result.announceError) {
      console.log(`The old server did not announce the move (${result.announceError}): the export was made by a device no longer on the old account, or by an older version. Friends get a friend request from the new address and must accept it themselves.`);
    }
    if (result.groups.length > 0) console.log(`${result.groups.length} group(s) were not carried over: ask a member to add ${result.address}.`);
  } catch (error) {
    if (error instanceof EmsgError && error.code === "unauthorized" && !client.account) throw new Error("Wrong passphrase, or the file was changed.");
    throw error;
  }
}
