import { describe, expect, it } from "vitest";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { randomId16 } from "../../shared/ids.js";
import { toB64u } from "../../shared/base64url.js";
import { generateKeyPair } from "../../shared/identity.js";
import { signObject } from "../../shared/signed.js";
import { ACCOUNT_TABLES } from "../../worker/account.js";
import type { MailItem } from "../../shared/wire/index.js";
import { accountStub, befriend, call, errorOf, friendRequest, register, registered, type Device } from "./harness.js";
import { keyPackagesOf } from "./mls.js";

function deletionBody(d: Device, key = d.account.privateKey) {
  const at = Date.now();
  return {
    deletion: signObject(key, "account-delete", { address: d.address, at }),
    notice: signObject(key, "deleted", { address: d.address, at }),
  };
}

describe("account deletion", () => {
  it("removes every row, tells friends, leaves conversations and reserves the name", async () => {
    const alice = await registered("del");
    const bob = await registered("delfriend");
    await befriend(alice, bob);
    expect((await call(alice, "POST", "/account/keypackages", { keyPackages: await keyPackagesOf(alice, 2) })).status).toBe(200);
    // One is handed out: the account remembers it (key_packages_used) until deleted.
    expect((await call(bob, "POST", "/directory/claim", { address: alice.address })).status).toBe(200);
    const created = await call(alice, "POST", "/conversations", { id: randomId16(), members: [bob.address] });
    const { conversation } = (await created.json()) as { conversation: string };
    await call(alice, "POST", "/ws-ticket");

    const res = await call(alice, "DELETE", "/account", deletionBody(alice));
    expect(res.status).toBe(204);

    const counts = await runInDurableObject(accountStub(alice.address), (_i, state) =>
      ACCOUNT_TABLES.map((t) => state.storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`).one().n),
    );
    expect(counts).toEqual(ACCOUNT_TABLES.map(() => 0));

    expect((await call(alice, "GET", "/account")).status).toBe(401);
    const again = await register(alice);
    expect(again.status).toBe(409);
    expect(await errorOf(again)).toBe("conflict");

    const bobMail = ((await (await call(bob, "GET", "/mailbox?after=0")).json()) as { items: MailItem[] }).items;
    expect(bobMail.filter((i) => i.kind === "deleted")).toMatchObject([{ kind: "deleted", signed: { body: { address: alice.address } } }]);
    expect(((await (await call(bob, "GET", "/friends")).json()) as { friends: unknown[] }).friends).toEqual([]);
    const view = (await (await call(bob, "GET", `/conversations/${conversation}`)).json()) as { members: string[] };
    expect(view.members).toEqual([bob.address]);

    const late = await call(bob, "POST", "/friends/requests", { request: friendRequest(bob, alice.address) });
    expect(late.status).toBe(410);
    expect(await errorOf(late)).toBe("gone");
  });

  it("frees the name once the grace period is over", async () => {
    const alice = await registered("grace");
    expect((await call(alice, "DELETE", "/account", deletionBody(alice))).status).toBe(204);
    await runInDurableObject(accountStub(alice.address), async (_i, state) => {
      state.storage.sql.exec("UPDATE tombstone SET deleted_at = ?", Date.now() - 31 * 86400_000);
      await state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(accountStub(alice.address));
    expect((await register(alice)).status).toBe(201);
  });

  it("refuses a deletion not signed by the account key", async () => {
    const alice = await registered("nodel");
    const res = await call(alice, "DELETE", "/account", deletionBody(alice, alice.device.privateKey));
    expect(res.status).toBe(401);
    expect((await call(alice, "GET", "/account")).status).toBe(200);
  });
});

describe("moving to another address", () => {
  it("tells every friend, with the notice signed by the old account key", async () => {
    const alice = await registered("mover");
    const bob = await registered("movefriend");
    await befriend(alice, bob);
    const newKey = generateKeyPair();
    const body = { from: alice.address, to: "alice#im.elsewhere.test", accountKey: toB64u(newKey.publicKey), at: Date.now() };
    const forged = await call(alice, "POST", "/account/moved", { notice: signObject(alice.device.privateKey, "moved", body) });
    expect(forged.status).toBe(401);
    const res = await call(alice, "POST", "/account/moved", { notice: signObject(alice.account.privateKey, "moved", body) });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ told: 1 });
    const bobMail = ((await (await call(bob, "GET", "/mailbox?after=0")).json()) as { items: MailItem[] }).items;
    expect(bobMail.filter((i) => i.kind === "moved")).toMatchObject([{ kind: "moved", signed: { body } }]);
  });
});
