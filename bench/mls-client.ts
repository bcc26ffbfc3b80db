// The client half: what MLS costs a device, measured on the same code the PWA and the CLI run.
import { asAddress } from "../shared/address.js";
import { certifyDevice, generateKeyPair } from "../shared/identity.js";
import { randomId16 } from "../shared/ids.js";
import {
  addMembers,
  CIPHERSUITE_NAME,
  createGroup,
  type DeviceIdentity,
  encrypt,
  type GroupState,
  joinFromWelcome,
  type KeyPackageBundle,
  makeKeyPackages,
  MAX_ADDS_PER_COMMIT,
  processMessage,
} from "../shared/mls/index.js";
import type { MlsFigures } from "./figures.js";
import { ratePerSecond } from "./stats.js";

interface Device {
  me: DeviceIdentity;
  bundles: KeyPackageBundle[];
}

async function makeDevice(address: string): Promise<Device> {
  const account = generateKeyPair();
  const device = generateKeyPair();
  const me: DeviceIdentity = {
    deviceCert: certifyDevice(account, asAddress(address), device.publicKey, "bench", Date.now()),
    devicePrivateKey: device.privateKey,
    devicePublicKey: device.publicKey,
  };
  return { me, bundles: await makeKeyPackages(me, 1) };
}

/**
 * Creator makes the group and adds everyone else, at most MAX_ADDS_PER_COMMIT devices a commit
 * (PROTOCOL §8); each device joins from its commit's Welcome and then reads the later commits.
 */
async function setUpGroup(creator: Device, others: Device[]) {
  const t0 = performance.now();
  let state = await createGroup(creator.me, `im.alice.test/${randomId16()}`);
  const rounds: { commit: string; welcome: string; joiners: Device[] }[] = [];
  for (let i = 0; i < others.length; i += MAX_ADDS_PER_COMMIT) {
    const joiners = others.slice(i, i + MAX_ADDS_PER_COMMIT);
    const added = await addMembers(state, joiners.map((d) => d.bundles[0]!.keyPackage));
    state = added.state;
    rounds.push({ commit: added.commit, welcome: added.welcome, joiners });
  }
  const commitMs = performance.now() - t0;
  const t1 = performance.now();
  const joined: GroupState[] = [];
  for (const [r, round] of rounds.entries()) {
    for (const d of round.joiners) {
      let member = (await joinFromWelcome(d.me, round.welcome, d.bundles)).state;
      for (const later of rounds.slice(r + 1)) member = (await processMessage(member, later.commit)).state;
      joined.push(member);
    }
  }
  return { creatorState: state, joined, commitMs, joinMs: performance.now() - t1 };
}

/** Alice encrypts `count` messages of `bytes` bytes; Bob decrypts each, checking every plaintext. */
async function encryptDecryptRate(alice: GroupState, bob: GroupState, count: number, bytes: number): Promise<number> {
  const plaintext = new TextEncoder().encode("m".repeat(bytes));
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const sent = await encrypt(alice, plaintext);
    const got = await processMessage(bob, sent.mls);
    if (got.kind !== "application" || got.plaintext.length !== bytes) throw new Error(`message ${i} did not decrypt to what was sent`);
    alice = sent.state;
    bob = got.state;
  }
  return ratePerSecond(count, performance.now() - t0);
}

export async function runMlsClient(options: { messages: number; messageBytes: number; groupMembers: number }): Promise<MlsFigures> {
  // Key material is made before any clock starts: publishing KeyPackages is not part of a setup.
  const [alice, bob] = [await makeDevice("alice#im.alice.test"), await makeDevice("bob#im.bob.test")];
  const members: Device[] = [];
  for (let i = 0; i < options.groupMembers; i++) members.push(await makeDevice(`member${i}#im.alice.test`));

  const t0 = performance.now();
  const pair = await setUpGroup(alice, [bob]);
  const oneToOneSetupMs = performance.now() - t0;
  const encryptDecryptPerSec = await encryptDecryptRate(pair.creatorState, pair.joined[0]!, options.messages, options.messageBytes);
  const group = await setUpGroup(members[0]!, members.slice(1));
  return {
    ciphersuite: CIPHERSUITE_NAME,
    messages: options.messages,
    encryptDecryptPerSec,
    oneToOneSetupMs,
    groupMembers: options.groupMembers,
    groupCommitMs: group.commitMs,
    groupJoinMs: group.joinMs,
  };
}
