import { describe, expect, it } from "vitest";
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../worker/index.js";
import { DOMAIN } from "./harness.js";

/** The server's own configuration, as a visitor to it sees its faults. */
describe("configuration", () => {
  const ask = async (resolve: string) => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request(`https://${DOMAIN}/.well-known/emsg`), { ...env, EMSG_RESOLVE: resolve }, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };

  it("a malformed resolver map makes the server unavailable, naming the entry, rather than every peer call a bad request", async () => {
    for (const resolve of ["localhost=http://127.0.0.1:8787", "im.bob.test=http://127.0.0.1:9,IM.Bob.test.=http://127.0.0.1:10"]) {
      const res = await ask(resolve);
      expect(res.status, resolve).toBe(503);
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).toBe("unavailable");
      expect(body.message).toMatch(/EMSG_RESOLVE|server name|host name/);
    }
  });

  it("a well-formed one, normalized as typed hosts are, serves as usual", async () => {
    const res = await ask(" IM.Bob.test. = http://127.0.0.1:9 , im.carol.test=http://127.0.0.1:9");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { domain: string }).domain).toBe(DOMAIN);
  });
});
