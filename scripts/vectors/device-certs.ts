import { asAddress } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { certifyDevice, deviceIdOf } from "../../shared/identity.js";
import { signObject } from "../../shared/signed.js";
import { fixedKeyPair, keyJson } from "./_fixed-keys.js";

export const name = "device-certs";

const alice = asAddress("alice#im.alice.test");
const account = fixedKeyPair("alice-account");
const device = fixedKeyPair("alice-laptop");
const stranger = fixedKeyPair("mallory-account");

export async function make() {
  const cert = certifyDevice(account, alice, device.publicKey, "Laptop \u00b7 Firefox", 1_760_000_000_000);
  const accountKey = toB64u(account.publicKey);
  const body = cert.body;
  const resign = (b: object) => signObject(account.privateKey, "device-cert", b);
  return {
    description:
      "Device certificates (PROTOCOL §4): signed objects with context device-cert by the account key. " +
      "The first case also shows how it is made: `account.seed` certifies `devicePublicKey` with the given " +
      "address, label and created time, giving `cert` exactly. A reader checks `cert` (optionally against " +
      "`expect`): `valid` ones yield `cert.body`; others fail with `error`.",
    cases: [
      {
        description: "a laptop certified by Alice's account key",
        account: keyJson(account),
        devicePublicKey: toB64u(device.publicKey),
        deviceId: deviceIdOf(device.publicKey),
        cert,
        expect: { address: alice, accountKey },
        valid: true,
      },
      { description: "with an unknown extension member, which is signed too", cert: resign({ ...body, "x-acme-os": "linux" }), valid: true },
      { description: "expected for another address", cert, expect: { address: "bob#im.alice.test" }, valid: false, error: "unauthorized" },
      { description: "expected with another account key", cert, expect: { accountKey: toB64u(stranger.publicKey) }, valid: false, error: "unauthorized" },
      { description: "label changed after signing", cert: { ...cert, body: { ...body, label: "Phone" } }, valid: false, error: "unauthorized" },
      { description: "signed by a key other than accountKey", cert: signObject(stranger.privateKey, "device-cert", body), valid: false, error: "unauthorized" },
      { description: "signed under another context", cert: signObject(account.privateKey, "friend-request", body), valid: false, error: "unauthorized" },
      { description: "deviceId not derived from deviceKey", cert: resign({ ...body, deviceId: deviceIdOf(account.publicKey) }), valid: false, error: "bad_request" },
      { description: "address not in normal form", cert: resign({ ...body, address: "Alice#im.alice.test" }), valid: false, error: "bad_request" },
      { description: "label of 65 characters", cert: resign({ ...body, label: "x".repeat(65) }), valid: false, error: "bad_request" },
      { description: "deviceKey of 31 bytes", cert: resign({ ...body, deviceKey: toB64u(new Uint8Array(31)) }), valid: false, error: "bad_request" },
      { description: "created not an integer", cert: resign({ ...body, created: 1.5 }), valid: false, error: "bad_request" },
      { description: "no sig", cert: { body }, valid: false, error: "bad_request" },
    ],
  };
}
