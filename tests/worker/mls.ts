import { createApplicationMessage, createCommit, createProposal, encodeMlsMessage, type MLSMessage } from "ts-mls";
import { toB64u } from "../../shared/base64url.js";
import { addMembers, createGroup, encrypt, epochOf, makeKeyPackages, refreshKeys, type DeviceIdentity, type GroupState } from "../../shared/mls/index.js";
import { asClient, asGroupState } from "../../shared/mls/group-state.js";
import { cipherSuite } from "../../shared/mls/suite.js";
import { toWire } from "../../shared/mls/wire.js";
import type { Device } from "./harness.js";

/** Real MLS for the worker tests: what the hub reads of it is what a member's client sends. */

export function identityOf(d: Device): DeviceIdentity {
  return { deviceCert: d.cert, devicePrivateKey: d.device.privateKey, devicePublicKey: d.device.publicKey };
}

/** Fresh KeyPackages of a test device, as its client publishes them. */
export async function keyPackagesOf(d: Device, count: number, now = Date.now()): Promise<string[]> {
  return (await makeKeyPackages(identityOf(d), count, now)).map((b) => b.keyPackage);
}

const utf8 = new TextEncoder();

/**
 * The MLS group of a conversation, held by its creator's device: commits, proposals and messages
 * at its current epoch, exactly as a client makes them. A commit moves the group on; `at(epoch)`
 * gives an earlier state's group, to make what a member still at that epoch would send.
 */
export class TestGroup {
  private readonly states: GroupState[];

  private constructor(readonly conversation: string, first: GroupState) {
    this.states = [first];
  }

  static async of(owner: Device, conversation: string): Promise<TestGroup> {
    return new TestGroup(conversation, await createGroup(identityOf(owner), conversation));
  }

  private get state(): GroupState {
    return this.states[this.states.length - 1]!;
  }

  get epoch(): number {
    return epochOf(this.state);
  }

  private moveOn(next: GroupState): void {
    this.states.push(next);
  }

  /** A commit adding a device of each of `members` (fresh KeyPackages), and its Welcome. */
  async add(members: Device[]): Promise<{ commit: string; welcome: string }> {
    const keyPackages = await Promise.all(members.map(async (m) => (await keyPackagesOf(m, 1))[0]!));
    const added = await addMembers(this.state, keyPackages);
    this.moveOn(added.state);
    return { commit: added.commit, welcome: added.welcome };
  }

  /** An empty commit (fresh keys); with `keep`, the group stays put, as for a commit that loses a race. */
  async commit(keep = false): Promise<string> {
    const refreshed = await refreshKeys(this.state);
    if (!keep) this.moveOn(refreshed.state);
    return refreshed.commit;
  }

  private at(epoch: number): number {
    const index = this.states.findIndex((s) => epochOf(s) === epoch);
    if (index < 0) throw new Error(`The group never was at epoch ${epoch}.`);
    return index;
  }

  /** An application message at the current epoch, or at an earlier one the group went through. */
  async message(text = "hi", epoch = this.epoch): Promise<string> {
    const index = this.at(epoch);
    const sent = await encrypt(this.states[index]!, utf8.encode(text));
    this.states[index] = sent.state;
    return sent.mls;
  }

  /** A proposal, as PrivateMessage: removing the creator's own leaf (the hub cannot tell what it proposes). */
  async proposal(): Promise<string> {
    const cs = await cipherSuite();
    const made = await createProposal(asClient(this.state), false, { proposalType: "remove", remove: { removed: 0 } }, cs);
    return toB64u(encodeMlsMessage(made.message));
  }

  /** A commit sent as an MLS PublicMessage, which EMSG members never send. */
  async publicCommit(): Promise<string> {
    const cs = await cipherSuite();
    const made = await createCommit({ state: asClient(this.state), cipherSuite: cs }, { wireAsPublicMessage: true });
    return toB64u(encodeMlsMessage(made.commit as MLSMessage));
  }

  /** An application message carrying authenticated data, which EMSG clients never send. */
  async messageWithData(epoch = this.epoch): Promise<string> {
    const index = this.at(epoch);
    const made = await createApplicationMessage(asClient(this.states[index]!), utf8.encode("hi"), await cipherSuite(), utf8.encode("extra"));
    this.states[index] = asGroupState(made.newState);
    return toWire({ wireformat: "mls_private_message", privateMessage: made.privateMessage });
  }
}
