import type { RatchetTree } from "ts-mls";
import { validateRatchetTree } from "ts-mls/clientState.js";
import { treeHashRoot } from "ts-mls/treeHash.js";
import { describe, expect, it } from "vitest";
import { randomId16 } from "../../shared/ids.js";
import { addMembers, createGroup, type GroupState, joinFromWelcome, membersOf, removeMembers } from "../../shared/mls/index.js";
import { asClient, asGroupState } from "../../shared/mls/group-state.js";
import { cipherSuite, clientConfig } from "../../shared/mls/suite.js";
import { type Device, makePerson } from "./mls-people.js";

/*
 * The checks ts-mls makes of a tree as members are added, kept by patches/ts-mls (there the scan of
 * the tree for unique keys and supported credentials is made once a commit, not once an added
 * KeyPackage): what they refused is refused, whether a commit adds one device or several.
 */

async function group(): Promise<{ state: GroupState; newcomers: Device[] }> {
  const alice = await makePerson("alice#im.alice.test");
  const bob = await makePerson("bob#im.bob.test");
  const state = (await addMembers(await createGroup(alice.devices[0]!.me, `im.alice.test/${randomId16()}`), [bob.devices[0]!.bundles[0]!.keyPackage])).state;
  const newcomers = [];
  for (const name of ["carol", "dave", "erin"]) newcomers.push((await makePerson(`${name}#im.${name}.test`)).devices[0]!);
  return { state, newcomers };
}

/** The state with its tree of two leaves (Alice, Bob) widened to four, `third` as leaf 2. */
function withThirdLeaf(state: GroupState, third: (bob: RatchetTree[number]) => RatchetTree[number]): GroupState {
  const client = asClient(state);
  const [aliceLeaf, , bobLeaf] = client.ratchetTree;
  return asGroupState({ ...client, ratchetTree: [aliceLeaf, undefined, bobLeaf, undefined, third(bobLeaf), undefined, undefined] });
}

const adds = (newcomers: Device[], n: number) => newcomers.slice(0, n).map((d) => d.bundles[0]!.keyPackage);

describe("a commit's adds are checked against the tree before it", () => {
  it("a tree holding one device's keys twice refuses every add, one or several at once", async () => {
    const { state, newcomers } = await group();
    const twice = withThirdLeaf(state, (bob) => bob);
    for (const n of [1, 3]) await expect(addMembers(twice, adds(newcomers, n))).rejects.toMatchObject({ code: "conflict" });
  });

  it("a tree with a leaf that does not support the group's credential type refuses every add", async () => {
    const { state, newcomers } = await group();
    const unsupported = withThirdLeaf(state, (bob) => {
      if (bob?.nodeType !== "leaf") throw new Error("leaf 1 is Bob's");
      return { nodeType: "leaf", leaf: { ...bob.leaf, hpkePublicKey: bob.leaf.hpkePublicKey.map((x) => x ^ 1), signaturePublicKey: bob.leaf.signaturePublicKey.map((x) => x ^ 1), capabilities: { ...bob.leaf.capabilities, credentials: [] } } };
    });
    for (const n of [1, 3]) {
      await expect(addMembers(unsupported, adds(newcomers, n))).rejects.toMatchObject({ code: "unauthorized", message: expect.stringMatching(/credential that is not supported/) });
    }
  });

  it("a sound tree takes several adds in one commit, each joiner's tree checking out", async () => {
    const { state, newcomers } = await group();
    const added = await addMembers(state, adds(newcomers, 3));
    expect(membersOf(added.state)).toHaveLength(5);
    for (const d of newcomers) expect(membersOf((await joinFromWelcome(d.me, added.welcome, d.bundles)).state)).toHaveLength(5);
  });
});

describe("a joiner's checks of a tree with parent nodes (patches/ts-mls: a chain without a parent hash ends before hashing)", () => {
  /** Alice's group of five after she removed one: her commit path filled parent nodes with parent hashes. */
  async function treeWithPath() {
    const { state, newcomers } = await group();
    const added = await addMembers(state, adds(newcomers, 3));
    const removed = await removeMembers(added.state, [newcomers[1]!.me.deviceCert.body.deviceId]);
    const client = asClient(removed.state);
    const check = async (tree: RatchetTree) =>
      validateRatchetTree(tree, client.groupContext, clientConfig.lifetimeConfig, clientConfig.authService, await treeHashRoot(tree, (await cipherSuite()).hash), await cipherSuite());
    return { tree: client.ratchetTree, check };
  }

  it("accepts the tree as the commit left it", async () => {
    const { tree, check } = await treeWithPath();
    expect(tree.some((n) => n?.nodeType === "parent")).toBe(true);
    expect(await check(tree)).toBeUndefined();
  });

  it("refuses it when any parent node's parent hash is changed, even with a tree hash that matches", async () => {
    const { tree, check } = await treeWithPath();
    const parents = tree.flatMap((n, i) => (n?.nodeType === "parent" ? [i] : []));
    for (const i of parents) {
      const node = tree[i]!;
      if (node.nodeType !== "parent") continue;
      const changed = tree.slice();
      const parentHash = node.parent.parentHash.length === 0 ? new Uint8Array(64) : node.parent.parentHash.map((x, j) => (j === 0 ? x ^ 1 : x));
      changed[i] = { nodeType: "parent", parent: { ...node.parent, parentHash } };
      expect((await check(changed))?.message, `parent node ${i}`).toBe("Unable to verify parent hash");
    }
  });

  it("hashes a leaf for where it is: the same leaves in other places give another tree hash", async () => {
    const { tree } = await treeWithPath();
    const hash = (await cipherSuite()).hash;
    const leaves = tree.flatMap((n, i) => (n?.nodeType === "leaf" ? [i] : []));
    const [first, last] = [leaves[0]!, leaves.at(-1)!];
    const swapped = tree.slice();
    [swapped[first], swapped[last]] = [tree[last], tree[first]];
    const fresh = structuredClone(swapped);
    expect(await treeHashRoot(tree, hash)).not.toEqual(await treeHashRoot(swapped, hash));
    expect(await treeHashRoot(swapped, hash)).toEqual(await treeHashRoot(fresh, hash));
  });
});
