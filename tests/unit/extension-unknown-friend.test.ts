import { describe, expect, it } from "vitest";
import { ClientService } from "../../extension/background/client-service.js";
import { handleRequest, type Self } from "../../extension/background/requests.js";
import { GroupWorld } from "./group-world.js";

const SELF: Self = { id: "emsg-extension-id", origin: "chrome-extension://emsg-extension-id/" };
// The "+ EMSG" button a content script puts beside an address on a web page.
const PAGE = { id: SELF.id, url: "https://example.com/contact", tab: { id: 7 } };

describe("the extension's + EMSG on an address", () => {
  it("says there is no such account for an address nobody registered, and sends no request", { timeout: 30_000 }, async () => {
    const world = new GroupWorld();
    const alice = await world.person("alice#im.alice.test");
    await world.person("bob#im.bob.test");
    const service = new ClientService(world.storeOf(alice), world.transport);
    const context = { service, openPanel: async () => "side-panel" as const };

    const unknown = await handleRequest({ type: "add-friend", address: "nobody#im.bob.test" }, PAGE, SELF, context);
    expect(unknown).toMatchObject({ ok: false, error: "not_found", message: "There is no EMSG account nobody#im.bob.test." });
    expect((await service.friends()).map((f) => f.address)).toEqual([]);

    const known = await handleRequest({ type: "add-friend", address: "bob#im.bob.test" }, PAGE, SELF, context);
    expect(known).toMatchObject({ ok: true, state: "outgoing" });
  });

  it("sends to an address whose server cannot be reached now, telling EMSG's own panel so but not a web page", { timeout: 30_000 }, async () => {
    const world = new GroupWorld();
    const alice = await world.person("alice#im.alice.test");
    const service = new ClientService(world.storeOf(alice), world.transport);
    const context = { service, openPanel: async () => "side-panel" as const };
    world.deviceListsRefused = "peer_unreachable";
    const PANEL = { id: SELF.id, url: `${SELF.origin}panel.html` };
    expect(await handleRequest({ type: "add-friend", address: "x#im.down.test" }, PANEL, SELF, context)).toEqual({ ok: true, address: "x#im.down.test", state: "outgoing", unreachable: true });
    expect(await handleRequest({ type: "add-friend", address: "y#im.down.test" }, PAGE, SELF, context)).toEqual({ ok: true, address: "y#im.down.test", state: "outgoing" });
    expect((await service.friends()).map((f) => [f.address, f.state])).toEqual([
      ["x#im.down.test", "outgoing"],
      ["y#im.down.test", "outgoing"],
    ]);
  });
});
