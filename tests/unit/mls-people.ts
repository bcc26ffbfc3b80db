import { asAddress } from "../../shared/address.js";
import { certifyDevice, generateKeyPair, type KeyPair } from "../../shared/identity.js";
import { type DeviceIdentity, type KeyPackageBundle, makeKeyPackages } from "../../shared/mls/index.js";

/** A person of the MLS tests: one account key and some devices, each with KeyPackages published. */
export interface Person {
  address: string;
  account: KeyPair;
  devices: Device[];
}

export interface Device {
  me: DeviceIdentity;
  bundles: KeyPackageBundle[];
}

export async function makeDevice(address: string, account: KeyPair, label: string, keyPackages = 2): Promise<Device> {
  const device = generateKeyPair();
  const me: DeviceIdentity = {
    deviceCert: certifyDevice(account, asAddress(address), device.publicKey, label, 1_764_000_000_000),
    devicePrivateKey: device.privateKey,
    devicePublicKey: device.publicKey,
  };
  return { me, bundles: await makeKeyPackages(me, keyPackages) };
}

export async function makePerson(address: string, deviceCount = 1): Promise<Person> {
  const account = generateKeyPair();
  const devices: Device[] = [];
  for (let i = 0; i < deviceCount; i++) devices.push(await makeDevice(address, account, `device ${i + 1}`));
  return { address, account, devices };
}

export const utf8 = new TextEncoder();
export const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
