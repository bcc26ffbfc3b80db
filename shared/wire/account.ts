import * as v from "valibot";
import { AddressSchema, b64uSchema, MsSchema, SeqSchema } from "./common.js";
import { fixedB64uSchema, Id16Schema } from "../ids.js";
import { signedSchema } from "../signed.js";
import { DeviceCertSchema, PublicKeySchema } from "../identity.js";

/** Accounts, devices, KeyPackages and settings (PROTOCOL §6, §11). */

/** A sealed link bundle is at most this many b64u characters (144 KiB of ciphertext; PROTOCOL §6). */
export const LINK_SEALED_MAX_CHARS = 196_608;
/** How long a server keeps an uploaded link. */
export const LINK_TTL_MS = 10 * 60_000;

/** Schemas bound a sealed link only by the body limit; the route answers `too_large` past LINK_SEALED_MAX_CHARS. */
const LINK_SEALED_CHARS_MAX_BODY = 262_144;

export const StrangerPolicySchema = v.picklist(["accept", "refuse", "review"]);
export type StrangerPolicy = v.InferOutput<typeof StrangerPolicySchema>;

export const SettingsSchema = v.object({
  strangers: StrangerPolicySchema,
  retentionDays: v.nullable(v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(3650))),
  /** Read receipts and typing indicators, sent and shown (PROTOCOL §8.1); absent means on. */
  readReceipts: v.optional(v.boolean()),
});
export type Settings = v.InferOutput<typeof SettingsSchema>;

export const RegisterRequestSchema = v.object({
  address: AddressSchema,
  accountKey: PublicKeySchema,
  deviceCert: DeviceCertSchema,
});
export type RegisterRequest = v.InferOutput<typeof RegisterRequestSchema>;

export const RegisterResponseSchema = v.object({ address: AddressSchema, deviceId: Id16Schema });
export type RegisterResponse = v.InferOutput<typeof RegisterResponseSchema>;

export const AccountViewSchema = v.object({
  address: AddressSchema,
  accountKey: PublicKeySchema,
  devices: v.array(DeviceCertSchema),
  settings: SettingsSchema,
});
export type AccountView = v.InferOutput<typeof AccountViewSchema>;

export const KEY_PACKAGE_CHARS = 16384;
/** KeyPackages one request may carry: about 4 KiB of b64u each, within `maxBodyBytes`. */
export const KEY_PACKAGES_PER_REQUEST = 50;
const KeyPackagesSchema = v.pipe(v.array(b64uSchema(KEY_PACKAGE_CHARS)), v.minLength(1), v.maxLength(KEY_PACKAGES_PER_REQUEST));

/**
 * `POST /account/devices`. A device linking itself names the `link` it came through (so the device
 * that made the link adds it to the account's conversations) and brings its first KeyPackages, so
 * no claim ever sees it without one.
 */
export const AddDeviceRequestSchema = v.object({
  deviceCert: DeviceCertSchema,
  link: v.optional(Id16Schema),
  keyPackages: v.optional(KeyPackagesSchema),
});
export type AddDeviceRequest = v.InferOutput<typeof AddDeviceRequestSchema>;

/** `after`: the mailbox position the new device starts after (it cannot read the backlog). */
export const AddDeviceResponseSchema = v.object({ deviceId: Id16Schema, after: SeqSchema });
export type AddDeviceResponse = v.InferOutput<typeof AddDeviceResponseSchema>;

/** `POST /account/links`: a sealed link bundle (PROTOCOL §6, device links); the server cannot open it. */
export const LinkUploadSchema = v.object({
  id: Id16Schema,
  nonce: fixedB64uSchema(24, "A link nonce"),
  sealed: v.pipe(b64uSchema(LINK_SEALED_CHARS_MAX_BODY), v.minLength(22)),
});
export type LinkUpload = v.InferOutput<typeof LinkUploadSchema>;

export const LinkCreatedSchema = v.object({ id: Id16Schema, expires: MsSchema });
export type LinkCreated = v.InferOutput<typeof LinkCreatedSchema>;

/** `GET /links/{address}/{id}`: the sealed link, handed out once. */
export const LinkFetchedSchema = v.object({
  address: AddressSchema,
  id: Id16Schema,
  nonce: fixedB64uSchema(24, "A link nonce"),
  sealed: b64uSchema(LINK_SEALED_CHARS_MAX_BODY),
  expires: MsSchema,
});
export type LinkFetched = v.InferOutput<typeof LinkFetchedSchema>;

/** Signed bodies are loose: the signature covers members this version does not know. Body of the `account-delete` and `deleted` signed objects. */
export const DeletionBodySchema = v.looseObject({ address: AddressSchema, at: MsSchema });
export type DeletionBody = v.InferOutput<typeof DeletionBodySchema>;
export const SignedDeletionSchema = signedSchema(DeletionBodySchema);
export type SignedDeletion = v.InferOutput<typeof SignedDeletionSchema>;

/** `deletion` (context `account-delete`) authorizes; `notice` (context `deleted`) goes to friends. */
export const DeleteAccountRequestSchema = v.object({ deletion: SignedDeletionSchema, notice: SignedDeletionSchema });
export type DeleteAccountRequest = v.InferOutput<typeof DeleteAccountRequestSchema>;

/** Body of the `moved` signed object. */
export const MovedBodySchema = v.looseObject({ from: AddressSchema, to: AddressSchema, accountKey: PublicKeySchema, at: MsSchema });
export type MovedBody = v.InferOutput<typeof MovedBodySchema>;
export const SignedMovedSchema = signedSchema(MovedBodySchema);
export type SignedMoved = v.InferOutput<typeof SignedMovedSchema>;

/** `POST /account/moved`: the old account key announces the new address to every acquaintance. */
export const MoveRequestSchema = v.object({ notice: SignedMovedSchema });
export type MoveRequest = v.InferOutput<typeof MoveRequestSchema>;

export const PublishKeyPackagesRequestSchema = v.object({
  keyPackages: v.pipe(v.array(b64uSchema(KEY_PACKAGE_CHARS)), v.minLength(1), v.maxLength(100)),
});
export type PublishKeyPackagesRequest = v.InferOutput<typeof PublishKeyPackagesRequestSchema>;

export const PublishKeyPackagesResponseSchema = v.object({ stored: v.pipe(v.number(), v.safeInteger(), v.minValue(0)) });
export type PublishKeyPackagesResponse = v.InferOutput<typeof PublishKeyPackagesResponseSchema>;

export const ClaimRequestSchema = v.object({ address: AddressSchema });
export type ClaimRequest = v.InferOutput<typeof ClaimRequestSchema>;

export const ClaimResponseSchema = v.object({
  address: AddressSchema,
  accountKey: PublicKeySchema,
  devices: v.array(v.object({ deviceCert: DeviceCertSchema, keyPackage: v.nullable(b64uSchema(KEY_PACKAGE_CHARS)) })),
});
export type ClaimResponse = v.InferOutput<typeof ClaimResponseSchema>;

/** An account's current devices as its home server lists them (§6, Revocation); nothing is consumed. */
export const DeviceListResponseSchema = v.object({
  address: AddressSchema,
  accountKey: PublicKeySchema,
  devices: v.array(DeviceCertSchema),
});
export type DeviceListResponse = v.InferOutput<typeof DeviceListResponseSchema>;

export const WsTicketResponseSchema = v.object({ ticket: v.pipe(v.string(), v.maxLength(512)), expires: MsSchema });
export type WsTicketResponse = v.InferOutput<typeof WsTicketResponseSchema>;

export const AckRequestSchema = v.object({ upTo: SeqSchema });
export type AckRequest = v.InferOutput<typeof AckRequestSchema>;
