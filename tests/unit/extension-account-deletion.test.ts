import { describe, expect, it } from "vitest";
import type { Address } from "../../shared/address.js";
import type { HttpResponse, Transport } from "../../shared/client/transport.js";
import { ClientService } from "../../extension/background/client-service.js";
import { handleRequest, type RequestContext } from "../../extension/background/requests.js";
import { GroupWorld } from "./group-world.js";
import { PAGE, PANEL, SELF } from "./extension-senders.js";

const alice = "alice#im.alice.test" as Address;
const bob = "bob#im.bob.test" as Address;

/**
 * The background of Alice's extension over a test server that takes `DELETE /account` (and
 * counts it) when `accepts`, and fails it as a server in trouble does otherwise.
 */
async function aliceInExtension(accepts: boolean) {
  const world = new GroupWorld();
  const aliceCore = await world.person(alice);
  await world.befriend(aliceCore, await world.person(bob));
  const deletions: unknown[] = [];
  const transport: Transport = {
    fetch: async (url, request): Promise<HttpResponse> => {
      if (request.method !== "DELETE" || !url.endsWith("/emsg/v1/account")) return world.transport.fetch(url, request);
      if (!accepts) return { status: 503, text: async () => JSON.stringify({ error: "unavailable", message: "The server is busy." }) };
      deletions.push(JSON.parse(request.body!));
      return { status: 204, text: async () => "" };
    },
    openSocket: world.transport.openSocket,
  };
  const store = world.storeOf(aliceCore);
  const clearable = Object.assign(store, { clear: async () => void (await Promise.all((await store.list("")).map(([key]) => store.delete(key)))) });
  const service = new ClientService(clearable, transport);
  const ctx: RequestContext = { service, openPanel: async () => "side-panel" };
  const ask = (request: unknown, sender = PANEL) => handleRequest(request, sender, SELF, ctx);
  return { store, deletions, ask };
}

describe("deleting the account from the extension's settings", () => {
  it("deletes it on its server when the extension's own page asks, then holds nothing of it", async () => {
    const { store, deletions, ask } = await aliceInExtension(true);
    expect(await ask({ type: "status" })).toMatchObject({ ok: true, account: alice });

    // A web page's content script may never ask it.
    expect(await ask({ type: "delete-account" }, PAGE)).toMatchObject({ ok: false, error: "forbidden" });
    expect(deletions).toEqual([]);

    expect(await ask({ type: "delete-account" })).toEqual({ ok: true, done: true });
    // Signed by the account key, with the notice friends are sent (PROTOCOL §11).
    expect(deletions).toEqual([{ deletion: expect.objectContaining({ body: expect.objectContaining({ address: alice }) }), notice: expect.anything() }]);
    expect(await ask({ type: "status" })).toMatchObject({ ok: true, account: null, connection: "none" });
    expect(await store.list("")).toEqual([]);
    // Setup comes next: a new account can be made in the same browser.
    expect(await ask({ type: "settings" })).toMatchObject({ ok: false, error: "not_found" });
  });

  it("keeps the account, and says why, when its server does not delete it", async () => {
    const { store, ask } = await aliceInExtension(false);
    const reply = await ask({ type: "delete-account" });
    expect(reply).toMatchObject({ ok: false });
    expect(await ask({ type: "status" })).toMatchObject({ ok: true, account: alice });
    expect((await store.list("")).length).toBeGreaterThan(0);
    expect(await ask({ type: "friend-records" })).toMatchObject({ ok: true, friends: [{ address: bob, state: "friend" }] });
  });
});
