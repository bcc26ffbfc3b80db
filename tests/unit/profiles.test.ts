import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fromB64u } from "../../shared/base64url.js";
import { EmsgError } from "../../shared/errors.js";
import { loadGenerators, vectorText } from "../../scripts/make-vectors.js";
import { asAddress } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { decodeContent, encodeContent, newProfile } from "../../shared/content.js";
import { nameLine, nameSkeleton, personNames } from "../../shared/client/display-names.js";
import { displayNameProblem, tidyDisplayName } from "../../shared/profile.js";
import { PeopleNames } from "../../ui/view-models/people-names.js";
import { arrivalNotification } from "../../ui/view-models/notification-policy.js";
import { translator } from "../../ui/i18n/translate.js";
import { syncAll, threeFriends, tripGroup } from "./group-world.js";

const utf8 = new TextEncoder();
const PNG = toB64u(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]));
const JPEG = toB64u(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1]));

describe("a display name", () => {
  it("is 1 to 64 characters in NFC, trimmed, with no control, direction or invisible characters", () => {
    expect(displayNameProblem("Alice Liddell")).toBeUndefined();
    expect(displayNameProblem("张伟 🌍")).toBeUndefined();
    expect(displayNameProblem("x".repeat(64))).toBeUndefined();
    expect(displayNameProblem("\u{1F30D}".repeat(64))).toBeUndefined();
    expect(displayNameProblem("")).toMatch(/1 to 64/);
    expect(displayNameProblem("x".repeat(65))).toMatch(/1 to 64/);
    expect(displayNameProblem("Cafe\u0301")).toMatch(/NFC/);
    expect(displayNameProblem(" Alice")).toMatch(/space/);
    expect(displayNameProblem("Alice\n")).toMatch(/space/);
    expect(displayNameProblem("Al\u0007ice")).toMatch(/control/);
    expect(displayNameProblem("Alice\u202Egnp.exe")).toMatch(/control/);
    expect(displayNameProblem("Al\u2066ice")).toMatch(/control/);
    expect(displayNameProblem("Ali\u200Bce")).toMatch(/control/);
    expect(displayNameProblem("Alice\uD800")).toMatch(/surrogate/);
  });

  it("as typed is made NFC, trimmed and its spaces single", () => {
    expect(tidyDisplayName("  Cafe\u0301   Owner \t")).toBe("Café Owner");
  });
});

describe("profile content", () => {
  const content = (extra: Record<string, unknown>) => utf8.encode(JSON.stringify({ v: 1, id: "AAAAAAAAAAAAAAAAAAAAAA", sentAt: 2000, type: "profile", name: "Alice", setAt: 1000, ...extra }));

  it("encodes and decodes a name with an avatar", () => {
    const sent = newProfile({ name: "Alice", setAt: 1000, avatar: { mediaType: "image/png", data: PNG } }, 2000);
    expect(decodeContent(encodeContent(sent))).toEqual(sent);
  });

  it("refuses a bad name, an avatar not of its type, one too big, and a profile set after it was sent", () => {
    expect(() => decodeContent(content({ name: "Al\u202Eice" }))).toThrow(/control/);
    expect(() => decodeContent(content({ avatar: { mediaType: "image/png", data: JPEG } }))).toThrow(/not of its media type/);
    expect(() => decodeContent(content({ avatar: { mediaType: "image/svg+xml", data: PNG } }))).toThrow(/JPEG, PNG or WebP/);
    const big = new Uint8Array(24577);
    big.set([0xff, 0xd8, 0xff]);
    expect(() => decodeContent(content({ avatar: { mediaType: "image/jpeg", data: toB64u(big) } }))).toThrow(/24576/);
    expect(() => decodeContent(content({ setAt: 3000 }))).toThrow(/set before it is sent/);
    expect(decodeContent(content({ "x-acme-pronouns": "she" }))).not.toHaveProperty("x-acme-pronouns");
  });
});

describe("profiles between people", { timeout: 60_000 }, () => {
  it("a group's members and a friend see the name and avatar a person sets, and a change replaces it", async () => {
    const { alice, bob, carol, conversation } = await tripGroup();
    expect(conversation).toBeTruthy();
    await alice.setProfile("  Alice L. ", { mediaType: "image/jpeg", data: JPEG });
    await alice.idle();
    await alice.flush();
    await syncAll(bob, carol);
    expect((await bob.profiles()).get(alice.address)).toMatchObject({ name: "Alice L.", avatar: { mediaType: "image/jpeg", data: JPEG } });
    expect((await carol.profiles()).get(alice.address)?.name).toBe("Alice L.");
    await alice.setProfile("Alice", null);
    await alice.idle();
    await alice.flush();
    await syncAll(bob);
    const now = (await bob.profiles()).get(alice.address);
    expect(now?.name).toBe("Alice");
    expect(now?.avatar).toBeUndefined();
  });

  it("a profile set earlier on another device of the account, arriving later, does not undo a later one", async () => {
    const { world, alice, bob, carol } = await threeFriends();
    const phone = await world.anotherDevice(alice);
    const { conversation } = await alice.createGroup("Trip", [bob.address, carol.address]);
    await alice.flush();
    await syncAll(bob, carol, phone);
    await phone.setProfile("Old name");
    await new Promise((r) => setTimeout(r, 5));
    await alice.setProfile("New name");
    await alice.idle();
    await alice.flush();
    await syncAll(bob);
    await phone.idle();
    await phone.flush();
    await syncAll(bob, alice);
    expect((await bob.profiles()).get(alice.address)?.name).toBe("New name");
    // Alice's laptop takes the phone's older profile for nothing, and the phone takes the laptop's.
    expect((await alice.profile())?.name).toBe("New name");
    expect(conversation).toBeTruthy();
    await syncAll(phone);
    expect((await phone.profile())?.name).toBe("New name");
  });

  it("a device whose clock is behind the one that set the profile still passes it on", async () => {
    const { world, alice, bob, carol } = await threeFriends();
    const phone = await world.anotherDevice(alice);
    const { conversation } = await alice.createGroup("Trip", [bob.address, carol.address]);
    await alice.flush();
    await syncAll(bob, carol, phone);
    // The laptop's clock is an hour ahead: the profile it sets is "set" an hour from now.
    const ahead = Date.now() + 3_600_000;
    await world.storeOf(alice).put("profile/own", { name: "From the future", setAt: ahead });
    await alice.setProfile("From the future");
    await alice.idle();
    await alice.flush();
    await syncAll(phone);
    expect((await phone.profile())?.setAt).toBeGreaterThan(ahead);
    // A friend added later gets it from the phone, whose clock is right.
    const dave = await world.person("dave#im.alice.test");
    await world.befriend(phone, dave);
    await phone.addToGroup(conversation, [dave.address]);
    await phone.idle();
    await phone.flush();
    await syncAll(dave);
    expect((await dave.profiles()).get(alice.address)?.name).toBe("From the future");
  });

  it("a member's profile names only that member: nobody else's devices can set another account's name", async () => {
    const { alice, bob, carol } = await tripGroup();
    await alice.setProfile("Alice");
    await alice.idle();
    await alice.flush();
    await carol.setProfile("Alice");
    await carol.idle();
    await carol.flush();
    await syncAll(bob);
    const seen = await bob.profiles();
    expect(seen.get(alice.address)?.name).toBe("Alice");
    expect(seen.get(carol.address)?.name).toBe("Alice");
    // Bob sees both, each with the address beside the name, since the two read the same.
    const nameOf = personNames({ people: [alice.address, bob.address, carol.address], names: new Map([...seen].map(([a, p]) => [a, p.name])) });
    expect(nameLine(nameOf(carol.address))).toBe("Alice (carol#im.bob.test)");
    expect(nameLine(nameOf(alice.address))).toBe("Alice (alice#im.alice.test)");
  });

  it("a friend with no chat yet gets the profile in a 1:1 made for it by one side only", async () => {
    const { alice, bob } = await threeFriends();
    await alice.setProfile("Alice");
    await bob.setProfile("Bob");
    await alice.idle();
    await bob.idle();
    await syncAll(alice, bob);
    await syncAll(alice, bob);
    expect((await bob.profiles()).get(alice.address)?.name).toBe("Alice");
    expect((await alice.profiles()).get(bob.address)?.name).toBe("Bob");
    expect((await alice.conversations()).filter((c) => c.peer === bob.address)).toHaveLength(1);
    expect((await bob.conversations()).filter((c) => c.peer === alice.address)).toHaveLength(1);
  });
});

describe("names as the apps show them", { timeout: 60_000 }, () => {
  it("follow a changed profile without reloading, and a nickname given on this device wins over it", async () => {
    const { alice, bob, carol } = await tripGroup();
    const people = new PeopleNames(bob);
    await people.load();
    expect(people.person(alice.address)).toMatchObject({ name: "alice", avatar: null });
    let changes = 0;
    people.subscribe(() => changes++);
    await alice.setProfile("Alice", { mediaType: "image/png", data: PNG });
    await alice.idle();
    await alice.flush();
    await syncAll(bob);
    expect(changes).toBeGreaterThan(0);
    expect(people.person(alice.address)).toMatchObject({ name: "Alice", withAddress: false, avatar: expect.stringMatching(/^data:image\/png;base64,iVBORw0KGgo/) });
    await expect(bob.setNickname(alice.address, "Mum\u202E")).rejects.toThrow(/control/);
    await bob.setNickname(alice.address, "  Mum ");
    expect(people.person(alice.address)).toMatchObject({ name: "Mum", line: "Mum" });
    // Kept on Bob's device only: nobody else learns it.
    await bob.flush();
    await syncAll(alice, carol);
    expect((await carol.profiles()).get(alice.address)?.name).toBe("Alice");
    expect(await carol.nicknames()).toEqual(new Map());
    // A notification names the sender as the chats do.
    const [summary] = (await bob.conversations()).filter((c) => c.kind === "group");
    const text = { id: "x", conversation: summary!.conversation, from: carol.address, direction: "in" as const, text: "hi", at: 1, status: "received" as const };
    await carol.setProfile("Mum");
    await carol.idle();
    await carol.flush();
    await syncAll(bob);
    expect(arrivalNotification(text, summary, bob.address, translator("en"), people)?.title).toBe(`Mum (${carol.address}) in Trip`);
    const reopened = new PeopleNames(bob);
    await reopened.load();
    expect(reopened.person(alice.address).name).toBe("Mum");
    await bob.setNickname(alice.address, "");
    expect(people.person(alice.address).name).toBe("Alice");
  });
});

describe("names on screen", () => {
  const alice = asAddress("alice#im.alice.test");
  const bob = asAddress("bob#im.bob.test");
  const mallory = asAddress("mallory#im.evil.test");
  const people = [alice, bob, mallory];

  it("shows a display name alone when nobody else reads the same", () => {
    const nameOf = personNames({ people, names: new Map([[bob, "Bob Builder"]]) });
    expect(nameOf(bob)).toMatchObject({ name: "Bob Builder", source: "profile", withAddress: false });
    expect(nameOf(alice)).toMatchObject({ name: "alice", source: "address" });
  });

  it("shows the address beside a name that imitates another person's name or address", () => {
    for (const fake of ["Bob Builder", "bob builder", "Вob Вuilder", "B0b Bui1der", "Bob  Builder.", "Bo\u0301b Builder"]) {
      const nameOf = personNames({ people, names: new Map([[bob, "Bob Builder"], [mallory, fake.normalize("NFC")]]) });
      expect(nameOf(mallory).withAddress, fake).toBe(true);
      expect(nameOf(bob).withAddress, fake).toBe(true);
    }
    // Imitating an address's local part, or an address itself.
    expect(personNames({ people, names: new Map([[mallory, "alice"]]) })(mallory).withAddress).toBe(true);
    expect(personNames({ people, names: new Map([[mallory, "bob#im.bob.test"]]) })(mallory).withAddress).toBe(true);
    expect(personNames({ people, names: new Map([[mallory, "support@bank.example"]]) })(mallory).withAddress).toBe(true);
    expect(personNames({ people, names: new Map([[mallory, "Mallory"]]) })(mallory).withAddress).toBe(false);
  });

  it("shows the address beside a name of which nothing reads (a Hangul filler, a soft hyphen, marks alone)", () => {
    for (const blank of ["\u3164", "\u00ad", "\u3164\u3164 \u3164", "\u115f"]) {
      expect(displayNameProblem(blank), JSON.stringify(blank)).toBeUndefined();
      expect(personNames({ people, names: new Map([[mallory, blank]]) })(mallory), JSON.stringify(blank)).toMatchObject({ name: blank, withAddress: true });
    }
  });

  it("a nickname given on this device wins over the display name", () => {
    const nameOf = personNames({ people, names: new Map([[bob, "Robert"]]), nicknames: new Map([[bob, "Bobby (work)"]]) });
    expect(nameOf(bob)).toMatchObject({ name: "Bobby (work)", source: "nickname" });
  });

  it("folds lookalike spellings to one skeleton", () => {
    expect(nameSkeleton("Рaypal")).toBe(nameSkeleton("paypal"));
    expect(nameSkeleton("ｍａｌｌｏｒｙ")).toBe(nameSkeleton("mallory"));
    expect(nameSkeleton("modern")).toBe(nameSkeleton("rnodern"));
    expect(nameSkeleton("Alice")).not.toBe(nameSkeleton("Alicia"));
  });
});

describe("profile vectors (tests/vectors/profiles.json)", () => {
  const committed = readFileSync(new URL("../vectors/profiles.json", import.meta.url), "utf8");
  const doc = JSON.parse(committed) as {
    cases: { description: string; plaintext: string; content: unknown; error: string | null }[];
    alike: { a: string; b: string; skeleton: string; same: boolean }[];
  };

  it("decode as they say, refusals and all", () => {
    expect(doc.cases.some((c) => c.error === null) && doc.cases.some((c) => c.error !== null)).toBe(true);
    for (const c of doc.cases) {
      let got: unknown = null;
      let error: string | null = null;
      try {
        got = decodeContent(fromB64u(c.plaintext));
      } catch (e) {
        expect(e, c.description).toBeInstanceOf(EmsgError);
        error = (e as EmsgError).code;
      }
      expect(error, c.description).toBe(c.error);
      expect(got, c.description).toEqual(c.content);
    }
    for (const pair of doc.alike) expect(nameSkeleton(pair.b), pair.b).toBe(pair.skeleton);
  });

  it("are what the generator makes today", async () => {
    const generator = (await loadGenerators()).find((g) => g.name === "profiles")!;
    expect(vectorText(await generator.make())).toBe(committed);
  });
});
