import type { DeviceCert } from "../identity.js";

/** What a device needs to act in MLS: its certificate and its Ed25519 key pair (the leaf signature key). */
export interface DeviceIdentity {
  deviceCert: DeviceCert;
  devicePrivateKey: Uint8Array;
  devicePublicKey: Uint8Array;
}
