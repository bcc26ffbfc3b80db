import { decryptGroupInfo, decryptGroupSecrets } from "ts-mls/welcome.js";
import { makeKeyPackageRef } from "ts-mls/keyPackage.js";
import { EmsgError } from "../errors.js";
import type { DeviceIdentity } from "./device.js";
import { type KeyPackageBundle, parseKeyPackage, privatePackageOf } from "./keypackage.js";
import { withCipherSuite } from "./suite.js";
import { fromWire } from "./wire.js";

/**
 * The leaf index of the member whose signature a Welcome's GroupInfo bears: the device that made
 * the epoch it brings (its committer). `bundle`: the KeyPackage it was sealed to, which the join
 * already opened it with (joinFromWelcome's `usedRef`). EMSG uses no PSKs.
 */
export async function welcomeSigner(me: DeviceIdentity, welcome: string, bundle: KeyPackageBundle): Promise<number> {
  const parsed = fromWire(welcome, "mls_welcome").welcome;
  const signer = await withCipherSuite(async (cs) => {
    const ref = await makeKeyPackageRef(parseKeyPackage(bundle.keyPackage), cs.hash);
    const secrets = await decryptGroupSecrets(await cs.hpke.importPrivateKey(privatePackageOf(bundle, me).initPrivateKey), ref, parsed, cs.hpke);
    const info = secrets && (await decryptGroupInfo(parsed, secrets.joinerSecret, new Uint8Array(cs.kdf.size), cs));
    return info?.signer;
  });
  if (signer === undefined) throw new EmsgError("bad_request", "The Welcome cannot be opened with that KeyPackage.");
  return signer;
}
