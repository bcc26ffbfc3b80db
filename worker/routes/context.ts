import type { Context } from "hono";
import type * as v from "valibot";
import { DEFAULT_LIMITS } from "../../shared/discovery.js";
import type { Env } from "../env.js";
import { authenticateDevice, type DeviceAuth } from "../auth.js";
import { parseJson, readBody } from "../http.js";

export type AppEnv = { Bindings: Env };
export type AppContext = Context<AppEnv>;

/** A signed client request with no body. */
export async function signedOnly(c: AppContext): Promise<DeviceAuth> {
  const bytes = await readBody(c.req.raw, DEFAULT_LIMITS.maxBodyBytes);
  return authenticateDevice(c.env, c.req.raw, bytes);
}

/** A signed client request whose body must match `schema`: size, then signature, then JSON. */
export async function signedBody<S extends v.GenericSchema>(c: AppContext, schema: S): Promise<{ auth: DeviceAuth; body: v.InferOutput<S> }> {
  const bytes = await readBody(c.req.raw, DEFAULT_LIMITS.maxBodyBytes);
  const auth = await authenticateDevice(c.env, c.req.raw, bytes);
  return { auth, body: parseJson(bytes, schema) };
}
