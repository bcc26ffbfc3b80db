import { Hono } from "hono";
import type * as v from "valibot";
import { domainOf, type Address, type Domain } from "../../shared/address.js";
import { fromB64u } from "../../shared/base64url.js";
import { EmsgError } from "../../shared/errors.js";
import { randomId16 } from "../../shared/ids.js";
import { verifyDeviceCert } from "../../shared/identity.js";
import { DEFAULT_LIMITS } from "../../shared/discovery.js";
import { verifyObject } from "../../shared/signed.js";
import { isFresh, isMove, movedVerifies } from "../../shared/move.js";
import {
  AddDeviceRequestSchema,
  ClaimRequestSchema,
  ClaimResponseSchema,
  DeviceListResponseSchema,
  DeleteAccountRequestSchema,
  PublishKeyPackagesRequestSchema,
  RegisterRequestSchema,
  SettingsSchema,
  MoveRequestSchema,
  type FedItem,
  type SignedDeletion,
  type SignedMoved,
} from "../../shared/wire/index.js";
import type { Env } from "../env.js";
import { admit, authenticateDeviceAdd, authenticateRegistration } from "../auth.js";
import { enroll, mustBeRegistered } from "../registry.js";
import { answerJson, check, json, MAX_PEER_ANSWER_BYTES, noContent, parseJson, readBody } from "../http.js";
import { unwrap } from "../outcome.js";
import { blobsOf } from "./blob-routes.js";
import { accountOf, conversationOf, enqueueRemote, isLocal } from "../routing.js";
import { checkKeyPackages } from "../keypackages.js";
import { federationPost } from "../federation-client.js";
import { signedBody, signedOnly, type AppEnv } from "./context.js";

/** Accounts, devices, KeyPackages and the directory (PROTOCOL §6, §11). */
export const accountRoutes = new Hono<AppEnv>();

const DELETION_WINDOW_MS = 300_000;

accountRoutes.post("/accounts", async (c) => {
  const bytes = await readBody(c.req.raw, DEFAULT_LIMITS.maxBodyBytes);
  const req = parseJson(bytes, RegisterRequestSchema);
  const cert = verifyDeviceCert(req.deviceCert, { address: req.address, accountKey: req.accountKey });
  if (domainOf(req.address) !== c.env.EMSG_DOMAIN) throw new EmsgError("bad_request", `This server registers only …#${c.env.EMSG_DOMAIN}.`);
  await authenticateRegistration(c.env, c.req.raw, bytes, cert);
  // Listed first: should the registration fail, a listed name without an account only answers not_found.
  await enroll(c.env, req.address);
  const { deviceId } = unwrap(await accountOf(c.env, req.address).register(req.deviceCert, cert, Date.now()));
  return json({ address: req.address, deviceId }, 201);
});

accountRoutes.get("/account", async (c) => {
  const auth = await signedOnly(c);
  return json(unwrap(await accountOf(c.env, auth.address).view()));
});

accountRoutes.put("/account/settings", async (c) => {
  const { auth, body } = await signedBody(c, SettingsSchema);
  return json(unwrap(await accountOf(c.env, auth.address).updateSettings(body)));
});

/**
 * Signed by a device of the account, or by the new device itself with a fresh certificate and the
 * link it fetched (§6, Revocation): the account key alone, which every linked device holds, is not enough.
 */
accountRoutes.post("/account/devices", async (c) => {
  const bytes = await readBody(c.req.raw, DEFAULT_LIMITS.maxBodyBytes);
  const body = parseJson(bytes, AddDeviceRequestSchema);
  const auth = await authenticateDeviceAdd(c.env, c.req.raw, bytes, verifyDeviceCert(body.deviceCert));
  const cert = verifyDeviceCert(body.deviceCert, { address: auth.address, accountKey: auth.accountKey });
  const self = auth.deviceId === cert.deviceId;
  if (self && !body.link) throw new EmsgError("unauthorized", "A device adding itself names the link it fetched.");
  const keyPackages = body.keyPackages && (await checkKeyPackages(body.keyPackages, { ...auth, deviceId: cert.deviceId }, Date.now()));
  const extra = { ...(body.link ? { link: body.link } : {}), ...(keyPackages ? { keyPackages } : {}), self };
  const { after } = unwrap(await accountOf(c.env, auth.address).addDevice(body.deviceCert, cert, Date.now(), extra));
  return json({ deviceId: cert.deviceId, after }, 201);
});

/** Removes a device for good, and closes at once its sessions with conversations hosted here (§6, Revocation). */
accountRoutes.delete("/account/devices/:deviceId", async (c) => {
  const auth = await signedOnly(c);
  const deviceId = c.req.param("deviceId");
  const { sessions } = unwrap(await accountOf(c.env, auth.address).removeDevice(deviceId, Date.now()));
  const here = sessions.filter((ref) => ref.startsWith(`${c.env.EMSG_DOMAIN}/`));
  await Promise.all(here.map((ref) => conversationOf(c.env, ref).closeSession(auth.address, deviceId)));
  return noContent();
});

accountRoutes.post("/account/keypackages", async (c) => {
  const { auth, body } = await signedBody(c, PublishKeyPackagesRequestSchema);
  const now = Date.now();
  const keyPackages = await checkKeyPackages(body.keyPackages, auth, now);
  return json(unwrap(await accountOf(c.env, auth.address).publishKeyPackages(auth.deviceId, keyPackages, now)));
});

accountRoutes.post("/directory/claim", async (c) => {
  const { body } = await signedBody(c, ClaimRequestSchema);
  if (isLocal(c.env, body.address)) {
    await mustBeRegistered(c.env, body.address);
    return json(unwrap(await accountOf(c.env, body.address).claim()));
  }
  return json(await askHome(c.env, body.address, "/claim", ClaimResponseSchema));
});

/** An account's current devices, from its home server: what friends check leaves against (§6, Revocation). */
accountRoutes.post("/directory/devices", async (c) => {
  const { body } = await signedBody(c, ClaimRequestSchema);
  if (isLocal(c.env, body.address)) {
    await mustBeRegistered(c.env, body.address);
    return json(unwrap(await accountOf(c.env, body.address).deviceList()));
  }
  return json(await askHome(c.env, body.address, "/devices", DeviceListResponseSchema));
});

/** Asks an address's home server about it (§7); only that server's answer for that address counts. */
async function askHome<S extends typeof ClaimResponseSchema | typeof DeviceListResponseSchema>(
  env: Env,
  address: Address,
  path: string,
  schema: S,
): Promise<v.InferOutput<S>> {
  const res = await federationPost(env, domainOf(address), path, { address });
  // An answer that is not JSON is refused below, as any answer of the wrong shape is.
  const answer = await answerJson(res, MAX_PEER_ANSWER_BYTES);
  if (!res.ok) {
    const code = (answer as { error?: unknown } | null)?.error;
    throw new EmsgError(code === "not_found" || code === "gone" ? code : "peer_unreachable", `${domainOf(address)} refused the request for ${address}.`);
  }
  const known = check(schema, answer);
  if (known.address !== address) throw new EmsgError("peer_unreachable", "The peer answered for another address.");
  return known;
}

function checkDeletion(signed: SignedDeletion, context: "account-delete" | "deleted", address: Address, accountKey: string): void {
  if (signed.body.address !== address) throw new EmsgError("forbidden", `The ${context} object is for ${signed.body.address}.`);
  if (Math.abs(Date.now() - signed.body.at) > DELETION_WINDOW_MS) throw new EmsgError("bad_request", `The ${context} object is not fresh.`);
  if (!verifyObject(fromB64u(accountKey), context, signed)) throw new EmsgError("unauthorized", `The ${context} object is not signed by the account key.`);
}

accountRoutes.delete("/account", async (c) => {
  const { auth, body } = await signedBody(c, DeleteAccountRequestSchema);
  checkDeletion(body.deletion, "account-delete", auth.address, auth.accountKey);
  checkDeletion(body.notice, "deleted", auth.address, auth.accountKey);
  const departure = unwrap(await accountOf(c.env, auth.address).deleteAccount(Date.now()));
  // Its attachments end with it (§15.3): nobody fetches them any more.
  await blobsOf(c.env, auth.address).deleteAll();
  await Promise.all(
    departure.conversations
      .filter((ref) => ref.startsWith(`${c.env.EMSG_DOMAIN}/`))
      .map((ref) => conversationOf(c.env, ref).leave(auth.address)),
  );
  await tellAcquaintances(c.env, departure.acquaintances, { kind: "deleted", signed: body.notice });
  return noContent();
});

/**
 * Announces a move (§11) to every acquaintance; the account stays until deleted. Both a current
 * device of the account (the request's signature: the importing device signs as the device that made
 * the export) and the account key (the notice's) must agree: every device ever linked holds the
 * account key, and a removed one must not move the account away (§6, Revocation). The window and the
 * nonce cache stop replays.
 */
accountRoutes.post("/account/moved", async (c) => {
  const { auth, body } = await signedBody(c, MoveRequestSchema);
  const { notice } = body;
  const moved = notice.body;
  if (moved.from !== auth.address) throw new EmsgError("forbidden", `A device of ${auth.address} cannot announce a move of ${moved.from}.`);
  if (!isMove(moved)) throw new EmsgError("bad_request", "An account cannot move to itself.");
  if (!isFresh(moved.at, Date.now())) throw new EmsgError("bad_request", "The moved notice is not fresh.");
  const account = accountOf(c.env, moved.from);
  if (!movedVerifies(notice, auth.accountKey)) throw new EmsgError("unauthorized", "The moved notice is not signed by the account key.");
  // Each signed notice is taken once; the signer makes a new one (a new `at`) to announce again.
  await admit(c.env, [], { keyId: `moved:${moved.from}`, nonce: String(moved.at) }).catch((error: unknown) => {
    throw error instanceof EmsgError && error.code === "unauthorized" ? new EmsgError("conflict", "This moved notice was handed in already.") : error;
  });
  const acquaintances = unwrap(await account.acquaintances());
  await tellAcquaintances(c.env, acquaintances, { kind: "moved", signed: notice });
  return json({ told: acquaintances.length }, 202);
});

type Notice = { kind: "deleted"; signed: SignedDeletion } | { kind: "moved"; signed: SignedMoved };

/** Sends a signed notice to every acquaintance, locally or one item per remote domain. */
async function tellAcquaintances(env: Env, acquaintances: Address[], notice: Notice): Promise<void> {
  const remote = new Map<Domain, Address[]>();
  const work: Promise<unknown>[] = [];
  for (const a of acquaintances) {
    if (isLocal(env, a)) work.push(accountOf(env, a).receiveNotice(notice.kind, notice.signed, Date.now()));
    else remote.set(domainOf(a), [...(remote.get(domainOf(a)) ?? []), a]);
  }
  for (const [domain, to] of remote) {
    const item: FedItem = notice.kind === "moved" ? { id: randomId16(), kind: "moved", to, signed: notice.signed } : { id: randomId16(), kind: "deleted", to, signed: notice.signed };
    work.push(enqueueRemote(env, domain, [{ item, bounceTo: null, ref: randomId16(), to: to[0]! }]));
  }
  await Promise.all(work);
}

