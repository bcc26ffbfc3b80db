import { afterEach, describe, expect, it, vi } from "vitest";
import { shortId } from "../../cli/format.js";
import { failedCommand, messageCommand, MessageUsageError } from "../../cli/message-commands.js";
import type { EmsgClient } from "../../shared/client/client.js";
import { EmsgError } from "../../shared/errors.js";
import { friendsWhoChatted, type GroupWorld, tripGroup } from "./group-world.js";

// The command line lists the messages of yours that failed to send (`failed`), sends one again
// (`retry`, only when asked) or deletes it from this device (`delete`), as Retry and Delete do in the apps.

/** Every submission to a hub refused for good (`forbidden`) until the returned function is called. */
function hubRefuses(world: GroupWorld): () => void {
  const spy = vi.spyOn(world, "submit").mockImplementation(() => {
    throw new EmsgError("forbidden", "Not a member.");
  });
  return () => spy.mockRestore();
}

/** What `run` printed with console.log, as one text. */
async function printed(run: () => Promise<void>): Promise<string> {
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...words: unknown[]) => void lines.push(words.join(" ")));
  try {
    await run();
  } finally {
    log.mockRestore();
  }
  return lines.join("\n");
}

async function failedText(world: GroupWorld, alice: EmsgClient, to: string, text: string) {
  const allow = hubRefuses(world);
  const sent = await alice.sendText(to, text);
  await alice.flush();
  allow();
  return sent;
}

afterEach(() => vi.restoreAllMocks());

describe("failed messages on the command line", { timeout: 60_000 }, () => {
  it("lists a failed text with why and how to send it again, and retry sends it: Bob gets it once", async () => {
    const { world, alice, bob } = await friendsWhoChatted();
    const sent = await failedText(world, alice, bob.address, "are you there?");

    const listed = await printed(() => failedCommand(alice, undefined));
    expect(listed).toContain(`${bob.address}\n`);
    expect(listed).toMatch(new RegExp(`  \\S+ \\S+  ${shortId(sent.id)}  me: are you there\\?  \\[failed: forbidden\\]\\n    That is not allowed\\. retry ${bob.address} ${shortId(sent.id)} sends it again\\.`));
    expect(await printed(() => failedCommand(alice, bob.address))).toBe(listed);

    const retried = await printed(() => messageCommand(alice, "retry", [bob.address, "last"], new Map()));
    expect(retried).toMatch(new RegExp(`${shortId(sent.id)}  me: are you there\\?  \\[sent\\]`));
    await bob.sync();
    expect((await bob.history(alice.address)).filter((m) => m.text === "are you there?")).toHaveLength(1);
    expect(await printed(() => failedCommand(alice, undefined))).toBe("No message of yours failed to send.");
    await expect(messageCommand(alice, "retry", [bob.address, "last"], new Map())).rejects.toThrow(
      new MessageUsageError(`There is no message of yours that failed to send in ${bob.address}.`),
    );
  });

  it("retries only a failed message by its id, and delete takes a failed one off this device alone", async () => {
    const { world, alice, bob } = await friendsWhoChatted();
    const hello = (await alice.history(bob.address))[0]!;
    await expect(messageCommand(alice, "retry", [bob.address, shortId(hello.id)], new Map())).rejects.toThrow(MessageUsageError);
    const sent = await failedText(world, alice, bob.address, "wrong chat, sorry");

    const deleted = await printed(() => messageCommand(alice, "delete", [bob.address, shortId(sent.id)], new Map()));
    expect(deleted).toBe(`Deleted ${shortId(sent.id)} from this device; it never reached anyone.`);
    expect((await alice.history(bob.address)).map((m) => m.text)).toEqual(["hello"]);
    await bob.sync();
    expect((await bob.history(alice.address)).map((m) => m.text)).toEqual(["hello"]);
    expect(await printed(() => failedCommand(alice, bob.address))).toBe(`No message of yours failed to send in ${bob.address}.`);
  });

  it("says when a failed message cannot be sent again, and retry refuses it with the reason", async () => {
    const { world, alice, conversation } = await tripGroup();
    const sent = await failedText(world, alice, conversation, "who brings the tent?");
    await alice.leaveGroup(conversation);
    const listed = await printed(() => failedCommand(alice, conversation));
    expect(listed).toContain(`That is not allowed. It cannot be sent again; delete ${conversation} ${shortId(sent.id)} takes it away.`);
    await expect(messageCommand(alice, "retry", [conversation, "last"], new Map())).rejects.toMatchObject({ code: "forbidden" });
  });
});
