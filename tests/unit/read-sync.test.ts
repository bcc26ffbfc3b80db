import { describe, expect, it } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import { syncAll, threeFriends } from "./group-world.js";

// Alice reads her chat with Bob on her laptop: her phone shows it read too, as Signal's devices do.
// Her devices learn it from the `read` receipt the laptop sends to the conversation (PROTOCOL §8.1).

const unreadOf = async (device: EmsgClient, conversation: string) => (await device.conversations()).find((c) => c.conversation === conversation)?.unread;

describe("read on one device, read on the account's others", { timeout: 60_000 }, () => {
  it("clears the phone's unread count when the laptop reads, keeps later messages unread, and sends no receipt twice", async () => {
    const { world, alice, bob } = await threeFriends();
    const phone = await world.anotherDevice(alice);
    for (const text of ["One", "Two", "Three"]) await bob.sendText(alice.address, text);
    await bob.flush();
    await syncAll(alice, phone);
    const chat = (await alice.conversations()).find((c) => c.peer === bob.address)!.conversation;
    expect(await unreadOf(alice, chat)).toBe(3);
    expect(await unreadOf(phone, chat)).toBe(3);

    await alice.markRead(chat);
    await alice.flush();
    await bob.sendText(alice.address, "Four");
    await bob.flush();
    await syncAll(phone, bob);
    // The laptop's receipt named One to Three: Four, which came after, is still unread on the phone.
    expect(await unreadOf(phone, chat)).toBe(1);
    const receiptsBefore = world.log.filter((l) => l.from === alice.address).length;
    await phone.markRead(chat);
    await phone.flush();
    expect(await unreadOf(phone, chat)).toBe(0);
    // The phone's receipt names Four alone: One to Three were read already.
    const sent = world.log.filter((l) => l.from === alice.address).slice(receiptsBefore);
    expect(sent).toHaveLength(1);
    await syncAll(alice, bob);
    expect(await unreadOf(alice, chat)).toBe(0);
    const ticks = (await bob.history(chat)).filter((m) => m.direction === "out").map((m) => `${m.text} ${m.read ? "read" : m.status}`);
    expect(ticks).toEqual(["One read", "Two read", "Three read", "Four read"]);
  });

  it("reads back page by page through a long unread run: another device's receipt and a deletion far back count right", async () => {
    const { world, alice, bob } = await threeFriends();
    const phone = await world.anotherDevice(alice);
    // More than one page (200) of a conversation's messages unread, as after a long trip.
    const sent = [];
    for (let n = 0; n < 260; n++) sent.push(await bob.sendText(alice.address, `Note ${n}`));
    await bob.flush();
    await syncAll(alice, phone);
    const chat = (await alice.conversations()).find((c) => c.peer === bob.address)!.conversation;
    expect(await unreadOf(phone, chat)).toBe(260);
    // Bob deletes his sixth note: it is among the phone's unread, 254 messages back from the newest.
    await bob.deleteForEveryone(sent[5]!.id);
    await bob.flush();
    await syncAll(alice, phone);
    expect(await unreadOf(phone, chat)).toBe(259);
    // The laptop reads the chat (its receipt names the newest 100): the phone's count goes to zero.
    await alice.markRead(chat);
    await alice.flush();
    await syncAll(phone, bob);
    expect(await unreadOf(phone, chat)).toBe(0);
  });
});
