import { describe, expect, it } from "vitest";
import { env, runInDurableObject } from "cloudflare:test";
import { randomId16 } from "../../shared/ids.js";
import { DOMAIN, call, enc, errorOf, registered } from "./harness.js";

/** The tables a Conversation object holds: none unless it was created. */
async function tablesOf(ref: string): Promise<string[]> {
  const stub = env.CONVERSATION.get(env.CONVERSATION.idFromName(ref));
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .toArray()
      .map((r) => r.name)
      .filter((name) => !name.startsWith("_cf_")),
  );
}

describe("requests naming conversations that do not exist (issue 14 item 7)", () => {
  it("submitting to, reading and asking a session ticket for made-up conversations is refused and makes no storage", async () => {
    const user = await registered("ghostwriter");
    const refs = Array.from({ length: 5 }, () => `${DOMAIN}/${randomId16()}`);
    for (const ref of refs) {
      const [hub, id] = ref.split("/");
      const submit = { id: randomId16(), epoch: 0, kind: "application", mls: "AAEC" };
      const posted = await call(user, "POST", `/conversations/${enc(hub!)}/${id}/messages`, submit);
      expect(posted.status).toBeGreaterThanOrEqual(400);
      expect(posted.status).toBeLessThan(500);
      const viewed = await call(user, "GET", `/conversations/${enc(hub!)}/${id}`);
      expect(viewed.status).toBe(404);
      expect(await errorOf(viewed)).toBe("not_found");
      // A ticket only names the conversation; the hub judges it when a session opens.
      await call(user, "POST", "/sessions/ticket", { conversation: ref });
    }
    for (const ref of refs) expect(await tablesOf(ref)).toEqual([]);

    // A conversation made the usual way has its tables, and works.
    const created = await call(user, "POST", "/conversations", { id: randomId16(), members: [] });
    expect(created.status).toBe(201);
    const { conversation } = (await created.json()) as { conversation: string };
    expect(await tablesOf(conversation)).toEqual(expect.arrayContaining(["meta", "members", "runs"]));
    const [hub, id] = conversation.split("/");
    expect((await call(user, "GET", `/conversations/${enc(hub!)}/${id}`)).status).toBe(200);
  });
});
