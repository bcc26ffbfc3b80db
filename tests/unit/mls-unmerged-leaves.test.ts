import type { RatchetTree } from "ts-mls";
import { validateRatchetTree } from "ts-mls/clientState.js";
import { treeHashRoot } from "ts-mls/treeHash.js";
import { describe, expect, it } from "vitest";
import { randomId16 } from "../../shared/ids.js";
import { addMembers, createGroup, encrypt, joinFromWelcome, membersOf, processMessage, removeMembers } from "../../shared/mls/index.js";
import { asClient } from "../../shared/mls/group-state.js";
import { cipherSuite, clientConfig } from "../../shared/mls/suite.js";
import { type Device, makePerson, text, utf8 } from "./mls-people.js";

/*
 * A joiner checks the unmerged leaves of the tree it is given as RFC 9420 §12.4.3.1 says, and only
 * that (patches/ts-mls): each leaf a parent node lists is a non-blank leaf below it, and every
 * non-blank node between the two lists it too. ts-mls 1.6.4 wanted every node above the leaf to list
 * the same leaves, which a valid tree breaks once a removal's commit path has filled parent nodes and
 * one commit then adds several devices (one person's): those joins failed.
 */

/** Alice's group of five after she removed Bob (her commit path fills parent nodes) and added Dave's two devices in one commit. */
async function afterRemovalThenTwoAdds() {
  const [alice, bob, dave, ...others] = await Promise.all([
    makePerson("alice#im.alice.test"),
    makePerson("bob#im.bob.test"),
    makePerson("dave#im.dave.test", 2),
    ...["carol", "erin", "frank"].map((name) => makePerson(`${name}#im.${name}.test`)),
  ]);
  const created = await createGroup(alice.devices[0]!.me, `im.alice.test/${randomId16()}`);
  const three = await addMembers(created, [bob, ...others].map((p) => p.devices[0]!.bundles[0]!.keyPackage));
  const withoutBob = await removeMembers(three.state, [bob.devices[0]!.me.deviceCert.body.deviceId]);
  const withDave = await addMembers(withoutBob.state, dave.devices.map((d) => d.bundles[0]!.keyPackage));
  return { alice: withDave.state, welcome: withDave.welcome, dave: dave.devices as Device[] };
}

describe("joining a tree whose parent nodes list unmerged leaves", () => {
  it("both of Dave's devices, added in one commit after Bob was removed, join and read Alice's message", async () => {
    const { alice, welcome, dave } = await afterRemovalThenTwoAdds();
    const sent = await encrypt(alice, utf8.encode("Welcome, Dave"));
    for (const device of dave) {
      const joined = await joinFromWelcome(device.me, welcome, device.bundles);
      expect(membersOf(joined.state)).toHaveLength(6);
      const read = await processMessage(joined.state, sent.mls);
      expect(read.kind === "application" && text(read.plaintext)).toBe("Welcome, Dave");
    }
  });
});

describe("the unmerged-leaf checks still refuse what RFC 9420 refuses", () => {
  /**
   * Alice's tree after Dave's adds: leaves Alice, Dave 1, Carol, Erin, Frank, Dave 2; node 3 (above leaves 0-3)
   * lists [1], the root (7) lists [1, 5], the nodes between leaf 5 and the root (9, 11) are blank.
   */
  async function tree() {
    const { alice } = await afterRemovalThenTwoAdds();
    const client = asClient(alice);
    const check = async (t: RatchetTree) =>
      validateRatchetTree(t, client.groupContext, clientConfig.lifetimeConfig, clientConfig.authService, await treeHashRoot(t, (await cipherSuite()).hash), await cipherSuite());
    return { tree: client.ratchetTree, check };
  }

  function withUnmerged(tree: RatchetTree, nodeIndex: number, unmergedLeaves: number[]): RatchetTree {
    const node = tree[nodeIndex];
    if (node?.nodeType !== "parent") throw new Error(`node ${nodeIndex} is a parent node`);
    const changed = tree.slice();
    changed[nodeIndex] = { nodeType: "parent", parent: { ...node.parent, unmergedLeaves } };
    return changed;
  }

  it("the tree as the commit left it lists different leaves on the way up, and checks out", async () => {
    const { tree: t, check } = await tree();
    const unmerged = (i: number) => (t[i]?.nodeType === "parent" ? t[i].parent.unmergedLeaves : undefined);
    expect([t[1], unmerged(3), unmerged(7), t[9], t[11]]).toEqual([undefined, [1], [1, 5], undefined, undefined]);
    expect(await check(t)).toBeUndefined();
  });

  it("refuses a leaf listed by a parent node it is not below", async () => {
    const { tree: t, check } = await tree();
    expect((await check(withUnmerged(t, 3, [1, 4])))?.message).toBe("Unmerged leaf did not represent a non-blank descendant leaf node");
  });

  it("refuses a blank leaf listed, even one below the node", async () => {
    const { tree: t, check } = await tree();
    const blanked = t.slice();
    blanked[10] = undefined;
    expect((await check(blanked))?.message).toBe("Unmerged leaf did not represent a non-blank descendant leaf node");
  });

  it("refuses a non-blank node between a listed leaf and its parent node that does not list it", async () => {
    const { tree: t, check } = await tree();
    expect((await check(withUnmerged(t, 3, [])))?.message).toBe("non-blank intermediate node must list leaf node in its unmerged_leaves");
  });
});
