import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fromB64u, toB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import {
  addMembers,
  createGroup,
  decodeGroupState,
  encodeGroupState,
  encrypt,
  epochOf,
  type GroupState,
  groupIdOf,
  joinFromWelcome,
  membersOf,
  processMessage,
} from "../../shared/mls/index.js";
import { forgetGroupStates } from "../../shared/mls/state-codec.js";
import { type Device, makeDevice, makePerson, text, utf8 } from "./mls-people.js";

/** What a device does between two app launches: store the state as text, read it back. */
async function restart(state: GroupState): Promise<GroupState> {
  const stored = encodeGroupState(state);
  forgetGroupStates();
  return decodeGroupState(stored);
}

async function read(state: GroupState, mls: string) {
  const got = await processMessage(state, mls);
  if (got.kind !== "application") throw new Error(`expected an application message, got ${got.kind}`);
  return { state: got.state, words: text(got.plaintext) };
}

describe("a stored conversation state keeps the conversation going", () => {
  it("survives encode/decode mid-conversation, across a commit and past-epoch messages", async () => {
    const alice = await makePerson("alice#im.alice.test");
    const bob = await makePerson("bob#im.bob.test");
    const [a] = alice.devices as [Device];
    const [b] = bob.devices as [Device];
    const conversation = `im.alice.test/${randomId16()}`;
    const added = await addMembers(await createGroup(a.me, conversation), [b.bundles[0]!.keyPackage]);
    let aState = await restart(added.state);
    let bState = await restart((await joinFromWelcome(b.me, added.welcome, b.bundles)).state);

    for (const words of ["one", "two", "three"]) {
      const sent = await encrypt(aState, utf8.encode(words));
      aState = await restart(sent.state);
      const got = await read(bState, sent.mls);
      expect(got.words).toBe(words);
      bState = await restart(got.state);
    }
    // A message Bob sent before Alice's next commit arrives after it: the stored past epoch still reads it.
    const late = await encrypt(bState, utf8.encode("sent at epoch 1"));
    bState = await restart(late.state);
    const carol = await makeDevice("carol#im.carol.test", alice.account, "tablet");
    const commit = await addMembers(aState, [carol.bundles[0]!.keyPackage]);
    aState = await restart(commit.state);
    const applied = await processMessage(bState, commit.commit);
    bState = await restart(applied.state);
    expect(epochOf(bState)).toBe(2);
    const old = await read(aState, late.mls);
    expect(old.words).toBe("sent at epoch 1");
    aState = await restart(old.state);

    const reply = await encrypt(bState, utf8.encode("after the restart"));
    expect((await read(aState, reply.mls)).words).toBe("after the restart");
    expect(groupIdOf(aState)).toBe(conversation);
    expect(membersOf(aState)).toHaveLength(3);
  });

  it("a damaged stored state is bad_request, not a crash", async () => {
    const alice = await makePerson("alice#im.alice.test");
    const stored = encodeGroupState(await createGroup(alice.devices[0]!.me, `im.alice.test/${randomId16()}`));
    await expect(decodeGroupState(stored.slice(0, stored.length - 8))).rejects.toMatchObject({ code: "bad_request" });
    const otherFormat = fromB64u(stored);
    otherFormat[0] = 9;
    await expect(decodeGroupState(toB64u(otherFormat))).rejects.toMatchObject({ code: "bad_request" });
    await expect(decodeGroupState("%%")).rejects.toMatchObject({ code: "bad_request" });
  });

  it("gives two readers of one stored text at once states of their own, so both send what the friend reads", async () => {
    const alice = await makePerson("alice#im.alice.test");
    const bob = await makePerson("bob#im.bob.test");
    const [a] = alice.devices as [Device];
    const [b] = bob.devices as [Device];
    const added = await addMembers(await createGroup(a.me, `im.alice.test/${randomId16()}`), [b.bundles[0]!.keyPackage]);
    const hello = await encrypt(added.state, utf8.encode("hello"));
    const aliceText = encodeGroupState(hello.state);
    const bobText = encodeGroupState((await read((await joinFromWelcome(b.me, added.welcome, b.bundles)).state, hello.mls)).state);

    // Two clients on one store in one process (a page reloaded while its old client still sends)
    // read the same stored state before either has stored its step.
    const [first, second] = [await decodeGroupState(aliceText), await decodeGroupState(aliceText)];
    const one = await encrypt(first, utf8.encode("from the old client"));
    const two = await encrypt(second, utf8.encode("from the reloaded one"));
    expect((await read(await decodeGroupState(bobText), one.mls)).words).toBe("from the old client");
    expect((await read(await decodeGroupState(bobText), two.mls)).words).toBe("from the reloaded one");
    // The state the second one stored goes on.
    const next = await encrypt(await decodeGroupState(encodeGroupState(two.state)), utf8.encode("and after"));
    const bobRead = await read(await decodeGroupState(bobText), two.mls);
    expect((await read(bobRead.state, next.mls)).words).toBe("and after");
  });

  it("reads a stored text back to the secrets it holds after a step from it was not kept", async () => {
    const alice = await makePerson("alice#im.alice.test");
    const bob = await makePerson("bob#im.bob.test");
    const [a] = alice.devices as [Device];
    const [b] = bob.devices as [Device];
    const added = await addMembers(await createGroup(a.me, `im.alice.test/${randomId16()}`), [b.bundles[0]!.keyPackage]);
    const aliceText = encodeGroupState(added.state);
    const bobText = encodeGroupState((await joinFromWelcome(b.me, added.welcome, b.bundles)).state);

    // A send whose new state was never stored (the device stopped, the store refused): the stored
    // text is read again and sends anew, and Bob reads it; the step not kept zeroed its own secrets.
    await encrypt(await decodeGroupState(aliceText), utf8.encode("lost"));
    const again = await encrypt(await decodeGroupState(aliceText), utf8.encode("sent"));
    // Bob reads it once, does not keep that, and reads it again from his stored text.
    expect((await read(await decodeGroupState(bobText), again.mls)).words).toBe("sent");
    expect((await read(await decodeGroupState(bobText), again.mls)).words).toBe("sent");
    // And the states that were kept go on as usual.
    const next = await read(await decodeGroupState(bobText), again.mls);
    const reply = await encrypt(await decodeGroupState(encodeGroupState(next.state)), utf8.encode("reply"));
    expect((await read(await decodeGroupState(encodeGroupState(again.state)), reply.mls)).words).toBe("reply");
  });

  it("reads states stored before the lazy secret tree (format 1) and goes on from them", async () => {
    const old = JSON.parse(readFileSync(new URL("../fixtures/mls-state-v1.json", import.meta.url), "utf8"));
    expect([old.alice, old.bob, old.carol].map((t: string) => fromB64u(t)[0])).toEqual([1, 1, 1]);
    forgetGroupStates();
    let [a, b, c] = [await decodeGroupState(old.alice), await decodeGroupState(old.bob), await decodeGroupState(old.carol)];
    // Messages the old code sent, read by states the old code stored.
    let got = await read(c, old.one);
    expect(got.words).toBe("one, from Alice");
    c = got.state;
    got = await read(a, old.two);
    expect(got.words).toBe("two, from Bob");
    a = got.state;
    got = await read(c, old.two);
    expect(got.words).toBe("two, from Bob");
    c = await restart(got.state);
    // Stored again, in the new format, and the conversation goes on through a commit and a joiner.
    expect(fromB64u(encodeGroupState(c))[0]).toBe(2);
    [a, b] = [await restart(a), await restart(b)];
    const dave = await makePerson("dave#im.dave.test");
    const commit = await addMembers(a, [dave.devices[0]!.bundles[0]!.keyPackage]);
    a = await restart(commit.state);
    b = await restart((await processMessage(b, commit.commit)).state);
    c = await restart((await processMessage(c, commit.commit)).state);
    const d = (await joinFromWelcome(dave.devices[0]!.me, commit.welcome, dave.devices[0]!.bundles)).state;
    const sent = await encrypt(c, utf8.encode("three, from Carol"));
    for (const reader of [a, b, d]) expect((await read(reader, sent.mls)).words).toBe("three, from Carol");
    expect(membersOf(d)).toHaveLength(4);
  });
});
