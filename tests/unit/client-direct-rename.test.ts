import { describe, expect, it } from "vitest";
import { accountRecord } from "../../shared/client/account.js";
import { asAddress } from "../../shared/address.js";
import { encodeContent, newGroupTitle } from "../../shared/content.js";
import { generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { addMembers, createGroup, encrypt } from "../../shared/mls/group.js";
import { makeKeyPackages } from "../../shared/mls/keypackage.js";
import type { MailItem } from "../../shared/wire/mail.js";
import { deviceIdentityOf } from "../../shared/client/account-record.js";
import type { ClientEvents, CoreContext } from "../../shared/client/context.js";
import type { ConversationSummary } from "../../shared/client/conversation-record.js";
import { applyDirectCopy } from "../../shared/client/direct-receive.js";
import { Emitter } from "../../shared/client/events.js";
import { applyItems } from "../../shared/client/mailbox-sync.js";
import { ServerApi } from "../../shared/client/server-api.js";
import { MemoryStore } from "../../shared/client/store.js";

// KeyPackages are checked against the real clock; nothing here reaches a server.
const NOW = Date.now();
const offline = { fetch: () => Promise.reject(new Error("offline")), openSocket: () => { throw new Error("offline"); } };

function person(address: string): CoreContext {
  const account = accountRecord(asAddress(address), generateKeyPair(), generateKeyPair(), { label: "test", origin: "http://127.0.0.1:9", now: NOW });
  const clock = { now: () => NOW };
  return { store: new MemoryStore(), api: new ServerApi(offline, clock, account.origin, account.domain), clock, account, events: new Emitter<ClientEvents>() };
}

describe("a group's name read from a direct channel", () => {
  it("changes the chat's header and list at once, not only after a reload", async () => {
    const alice = person("alice#im.alice.test");
    const bob = person("bob#im.bob.test");
    const carol = person("carol#im.bob.test");
    const bundles = [];
    for (const p of [bob, carol]) {
      const [bundle] = await makeKeyPackages(deviceIdentityOf(p.account), 1, NOW);
      await p.store.put(`kp/${bundle!.ref}`, bundle);
      bundles.push(bundle!.keyPackage);
    }
    const conversation = `im.alice.test/${randomId16()}`;
    const added = await addMembers(await createGroup(deviceIdentityOf(alice.account), conversation), bundles);
    const named = await encrypt(added.state, encodeContent(newGroupTitle("Trip", NOW)));
    const from = { from: alice.account.address, deviceId: alice.account.deviceId };
    await applyItems(bob, [
      { seq: 1, at: NOW, kind: "conv", conversation, id: randomId16(), hubSeq: 1, ...from, epoch: 1, type: "welcome", mls: added.welcome },
      { seq: 2, at: NOW, kind: "conv", conversation, id: randomId16(), hubSeq: 2, ...from, epoch: 1, type: "application", mls: named.mls },
    ] as MailItem[], async () => undefined);
    const seen: ConversationSummary[] = [];
    bob.events.on("conversation", (s) => void seen.push(s));

    const renamed = await encrypt(named.state, encodeContent(newGroupTitle("Lisbon trip", NOW + 1000)));
    await applyDirectCopy(bob, { t: "conv", conversation, id: randomId16(), epoch: 1, mls: renamed.mls } as never, `${alice.account.address}/${alice.account.deviceId}`);
    expect(seen.map((s) => s.title)).toEqual(["Lisbon trip"]);
  });
});
