import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as v from "valibot";
import { MemoryStore } from "../../shared/client/store.js";
import { ClientService } from "../../extension/background/client-service.js";
import { addressInSelection } from "../../extension/background/context-menu.js";
import { handleRequest, type RequestContext } from "../../extension/background/requests.js";
import { fetchTransport } from "../../extension/platform/fetch-transport.js";
import { RequestSchema } from "../../extension/messaging/messages.js";
import { flushPendingFriends, pendingFriends } from "../../extension/background/pending-friends.js";
import { OWN, SELF, PANEL, PAGE } from "./extension-senders.js";

function context(store = new MemoryStore()): RequestContext & { panels: Array<number | undefined> } {
  const panels: Array<number | undefined> = [];
  return {
    // No account on this device yet, so nothing reaches a server.
    service: new ClientService(store, fetchTransport),
    panels,
    openPanel: async (tabId) => {
      panels.push(tabId);
      return "side-panel";
    },
  };
}

describe("the background answering pages, popup and panel", () => {
  it("refuses messages from anything but the extension itself", async () => {
    const reply = await handleRequest({ type: "status" }, { id: "another-extension" }, SELF, context());
    expect(reply).toEqual({ ok: false, error: "forbidden", message: "Only EMSG itself may ask this." });
  });

  it("refuses malformed requests with bad_request, never a crash", async () => {
    const NOT_UNDERSTOOD = { ok: false, error: "bad_request", message: "That request was not understood." };
    await fc.assert(
      fc.asyncProperty(fc.anything().filter((junk) => !v.is(RequestSchema, junk)), async (junk) => {
        expect(await handleRequest(junk, PANEL, SELF, context())).toEqual(NOT_UNDERSTOOD);
      }),
    );
    // Near misses: a known type with a field missing, of the wrong kind or too long, or an unknown type.
    const nearMisses: unknown[] = [
      { type: "add-friend" },
      { type: "add-friend", address: 5 },
      { type: "add-friend", address: "a".repeat(401) },
      { type: "messages" },
      { type: "send-text", chat: "bob#im.b.org" },
      { type: "react", id: "m1", emoji: "👍", op: "toggle" },
      { type: "messages", chat: "bob#im.b.org", limit: 0 },
      { type: "respond", address: "bob#im.b.org", verdict: "maybe" },
      { type: "set-settings", retentionDays: 0 },
      { type: "set-settings", retentionDays: 1.5 },
      { type: "create-group", title: "Weekend", members: "bob#im.b.org" },
      { type: "Status" },
      { type: "remove-device" },
      null,
      "status",
      ["status"],
    ];
    for (const request of nearMisses) expect(await handleRequest(request, PANEL, SELF, context())).toEqual(NOT_UNDERSTOOD);
  });

  it("queues a friend added before EMSG is set up, normalized, once, and lists it as waiting", async () => {
    const store = new MemoryStore();
    const ctx = context(store);
    for (const spelling of ["Alice#IM.Example.com", "alice＃im.example.com"]) {
      const reply = await handleRequest({ type: "add-friend", address: spelling }, PANEL, SELF, ctx);
      expect(reply).toEqual({ ok: true, address: "alice#im.example.com", state: "queued" });
    }
    const status = await handleRequest({ type: "status" }, PANEL, SELF, ctx);
    expect(status).toEqual({ ok: true, account: null, connection: "none", friends: [{ address: "alice#im.example.com", state: "queued", since: 0 }] });
  });

  it("explains a bad address in words a person understands", async () => {
    const reply = await handleRequest({ type: "add-friend", address: "alice@example.com" }, PANEL, SELF, context());
    expect(reply).toMatchObject({ ok: false, error: "bad_request", message: expect.stringContaining("name#server") });
  });

  it("lets a web page's content script only add friends and open the panel, never read the account", async () => {
    const ctx = context();
    for (const type of ["status", "summaries", "friend-records", "settings"] as const) {
      expect(await handleRequest({ type }, PAGE, SELF, ctx)).toEqual({ ok: false, error: "forbidden", message: "A web page may not ask EMSG for that." });
    }
    expect(await handleRequest({ type: "messages", chat: "bob#im.b.org" }, PAGE, SELF, ctx)).toMatchObject({ ok: false, error: "forbidden" });
    expect(await handleRequest({ type: "search", query: "bank" }, PAGE, SELF, ctx)).toMatchObject({ ok: false, error: "forbidden" });
    expect(await handleRequest({ type: "add-friend", address: "bob#im.b.org" }, PAGE, SELF, ctx)).toEqual({ ok: true, address: "bob#im.b.org", state: "queued" });
  });

  it("never lets a web page send a failed message again, ask whether it can, or delete it: only EMSG's own pages", async () => {
    const ctx = context();
    for (const type of ["can-retry", "retry-message", "delete-failed"] as const) {
      expect(await handleRequest({ type, id: "AAAAAAAAAAAAAAAAAAAAAA" }, PAGE, SELF, ctx)).toEqual({ ok: false, error: "forbidden", message: "A web page may not ask EMSG for that." });
      // The panel is asked through to the core (which has no account here yet).
      expect(await handleRequest({ type, id: "AAAAAAAAAAAAAAAAAAAAAA" }, PANEL, SELF, ctx)).toMatchObject({ ok: false, error: "not_found" });
    }
  });

  it("tells the panel plainly that there is no account yet", async () => {
    const reply = await handleRequest({ type: "summaries" }, PANEL, SELF, context());
    expect(reply).toMatchObject({ ok: false, error: "not_found", message: "There is no account on this device yet." });
  });

  it("opens the panel for the tab that asked", async () => {
    const ctx = context();
    const reply = await handleRequest({ type: "open-panel" }, PAGE, SELF, ctx);
    expect(reply).toEqual({ ok: true, opened: "side-panel" });
    expect(ctx.panels).toEqual([7]);
  });

  it("sends queued friends once an account exists, keeping those whose sending failed", async () => {
    const store = new MemoryStore();
    const ctx = context(store);
    for (const a of ["a#im.a.com", "b#im.b.com", "c#im.c.com"]) await handleRequest({ type: "add-friend", address: a }, PANEL, SELF, ctx);
    const sent: string[] = [];
    await expect(
      flushPendingFriends(store, async (address) => {
        if (address === "b#im.b.com") throw new Error("offline");
        sent.push(address);
      }),
    ).rejects.toThrow("offline");
    expect(sent).toEqual(["a#im.a.com"]);
    expect(await pendingFriends(store)).toEqual(["b#im.b.com", "c#im.c.com"]);
  });
});

describe("the context menu's selection", () => {
  it("takes the address from a selection holding it among other words", () => {
    expect(addressInSelection("  Bob#IM.b.org ")).toBe("bob#im.b.org");
    expect(addressInSelection("write to carol#im.c.net, thanks")).toBe("carol#im.c.net");
    expect(addressInSelection("see https://x.com/page#section")).toBeNull();
  });
});
