/**
 * The MLS test vector (PROTOCOL §4, §8, §8.1): Alice creates a 1:1 conversation with Bob; the vector
 * holds Bob's KeyPackage with its private half, the Welcome, and Alice's first messages, so another
 * implementation can join as Bob and read them.
 *
 * ts-mls and the HPKE modules take randomness only from `crypto.getRandomValues` and time only from
 * `Date.now`, so `make` runs with both replaced (a ChaCha20 stream from a fixed seed, a fixed clock)
 * and gives the same bytes every run. It must not run concurrently with other vector makers.
 */
import { chacha20 } from "@noble/ciphers/chacha.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { asAddress } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { encodeCapabilities } from "ts-mls/capabilities.js";
import { encodeContent, newText } from "../../shared/content.js";
import { certifyDevice, generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import {
  addMembers,
  CIPHERSUITE_ID,
  CIPHERSUITE_NAME,
  createGroup,
  type DeviceIdentity,
  encrypt,
  makeKeyPackages,
} from "../../shared/mls/index.js";
import { parseKeyPackage } from "../../shared/mls/keypackage.js";

export const name = "mls";

const SEED = "EMSG-v1 MLS vector";
const NOW = 1_764_000_000_000;

/** Runs `f` with seeded randomness and a frozen clock, restoring both afterwards. */
async function deterministic<T>(f: () => Promise<T>): Promise<T> {
  const key = sha256(new TextEncoder().encode(SEED));
  let call = 0;
  const random = <A extends ArrayBufferView | null>(array: A): A => {
    if (array === null) return array;
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setUint32(8, call++);
    const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    bytes.set(chacha20(key, nonce, new Uint8Array(bytes.length)));
    return array;
  };
  const ownRandom = Object.getOwnPropertyDescriptor(crypto, "getRandomValues");
  const realNow = Date.now;
  Object.defineProperty(crypto, "getRandomValues", { value: random, configurable: true, writable: true });
  Date.now = () => NOW;
  try {
    return await f();
  } finally {
    if (ownRandom) Object.defineProperty(crypto, "getRandomValues", ownRandom);
    else delete (crypto as { getRandomValues?: unknown }).getRandomValues;
    Date.now = realNow;
  }
}

function device(address: string, label: string) {
  const account = generateKeyPair();
  const key = generateKeyPair();
  const me: DeviceIdentity = {
    deviceCert: certifyDevice(account, asAddress(address), key.publicKey, label, NOW),
    devicePrivateKey: key.privateKey,
    devicePublicKey: key.publicKey,
  };
  return { account, me };
}

async function build(): Promise<unknown> {
  const alice = device("alice#im.alice.test", "laptop");
  const bob = device("bob#im.bob.test", "phone");
  const [bundle] = await makeKeyPackages(bob.me, 1, NOW);
  const conversation = `im.alice.test/${randomId16()}`;
  const added = await addMembers(await createGroup(alice.me, conversation), [bundle!.keyPackage]);
  let state = added.state;
  const messages = [];
  const texts = ["Hello Bob — this is EMSG over MLS.", "Zweite Nachricht: Grüße! 你好 👋"];
  for (const [i, words] of texts.entries()) {
    const content = newText(words, NOW + 60_000 * (i + 1));
    const plaintext = encodeContent(content);
    const sent = await encrypt(state, plaintext);
    state = sent.state;
    messages.push({ mls: sent.mls, plaintext: toB64u(plaintext), content, sender: alice.me.deviceCert.body.deviceId });
  }
  return {
    description:
      "Bob joins Alice's 1:1 conversation from `welcome` using `bob.bundle` and `bob.devicePrivateKey` " +
      "(his Ed25519 device key, also his MLS leaf signature key), then reads `messages` in order: each `mls` " +
      "decrypts to `plaintext` (UTF-8 JCS of `content`) from the member whose device certificate has deviceId `sender`. " +
      "`bob.bundle.secret` is two TLS opaque<V> fields: the KeyPackage's init private key, then its leaf HPKE private key " +
      "(X-Wing 32-byte seeds). Bob's KeyPackage lifetime has passed; a reader joining from a Welcome does not check it. " +
      "`leafCapabilities` is the TLS encoding of the Capabilities of Bob's KeyPackage leaf, which every EMSG leaf declares (PROTOCOL §8). " +
      "All binary values are unpadded base64url.",
    ciphersuite: { name: CIPHERSUITE_NAME, id: CIPHERSUITE_ID },
    conversation,
    alice: { accountKey: toB64u(alice.account.publicKey), deviceCert: alice.me.deviceCert },
    bob: {
      accountKey: toB64u(bob.account.publicKey),
      deviceCert: bob.me.deviceCert,
      devicePrivateKey: toB64u(bob.me.devicePrivateKey),
      bundle,
    },
    leafCapabilities: toB64u(encodeCapabilities(parseKeyPackage(bundle!.keyPackage).leafNode.capabilities)),
    welcome: added.welcome,
    expect: { epoch: 1, members: [alice.me.deviceCert.body.deviceId, bob.me.deviceCert.body.deviceId] },
    messages,
  };
}

export function make(): Promise<unknown> {
  return deterministic(build);
}
