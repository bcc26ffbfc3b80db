import { describe, expect, it } from "vitest";
import { expandWithLabel } from "ts-mls/crypto/kdf.js";
import { leafRatchets, type SecretTree } from "ts-mls/secretTree.js";
import { copath, directPath, leafWidth, left, right, rootFromNodeWidth, type NodeIndex } from "ts-mls/treemath.js";
import { fromB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import { addMembers, createGroup, decodeGroupState, encodeGroupState, encrypt, type GroupState, joinFromWelcome, processMessage } from "../../shared/mls/index.js";
import { asClient } from "../../shared/mls/group-state.js";
import { forgetGroupStates } from "../../shared/mls/state-codec.js";
import { cipherSuite } from "../../shared/mls/suite.js";
import { type Device, makePerson, utf8 } from "./mls-people.js";

/*
 * The lazy secret tree (patches/ts-mls+1.6.4.patch) against RFC 9420 §9.2's deletion schedule: a
 * device's stored state, stolen after it read messages, must not hold what re-derives their keys
 * (the epoch's encryption secret, the nodes on the sender's path, the sender's leaf secret and the
 * ratchet secrets already used), while the co-path nodes, which other senders still need, stay.
 * Every secret is derived here from the RFC's formulas, not read from the patched code's tree.
 */

const noContext = new Uint8Array();

function holds(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** The state as the device stores it, its in-memory copy forgotten (so it is read back from the text). */
function stolenText(state: GroupState): string {
  const text = encodeGroupState(state);
  forgetGroupStates();
  return text;
}

/** What a thief copies: the stored state's bytes. */
const stolen = (state: GroupState): Uint8Array => fromB64u(stolenText(state));

/** Every node's secret of an epoch's secret tree, from its root down (RFC 9420 §9). */
async function allNodeSecrets(rootSecret: Uint8Array, width: number): Promise<Map<number, Uint8Array>> {
  const { kdf } = await cipherSuite();
  const secrets = new Map<number, Uint8Array>();
  const down = async (node: NodeIndex, secret: Uint8Array): Promise<void> => {
    secrets.set(node, secret);
    if (node % 2 === 0) return;
    for (const [child, label] of [[left(node), "left"], [right(node), "right"]] as const) {
      // Children past the tree's last leaf do not exist (a tree of a width not a power of two).
      if (child < width) await down(child, await expandWithLabel(secret, "tree", utf8.encode(label), kdf.size, kdf));
    }
  };
  await down(rootFromNodeWidth(width), rootSecret);
  return secrets;
}

describe("the stored secret tree keeps RFC 9420's deletion schedule", () => {
  it("holds neither the sender's path nor its used keys after reading, and still every co-path secret", async () => {
    const [alice, bob, carol, dan] = await Promise.all(["alice#a.test", "bob#b.test", "carol#c.test", "dan#d.test"].map((a) => makePerson(a)));
    const [a, b, c, d] = [alice, bob, carol, dan].map((p) => p!.devices[0] as Device) as [Device, Device, Device, Device];
    const added = await addMembers(await createGroup(a.me, `a.test/${randomId16()}`), [b, c, d].map((x) => x.bundles[0]!.keyPackage));
    let bState = await decodeGroupState(stolenText((await joinFromWelcome(b.me, added.welcome, b.bundles)).state));

    // A fresh epoch keeps its encryption secret at the root and nothing else.
    const fresh = asClient(bState).secretTree as SecretTree;
    const width = fresh.length;
    const rootIndex = rootFromNodeWidth(width);
    const rootSecret = (fresh[rootIndex] as unknown as { secret: Uint8Array }).secret;
    expect(fresh.filter((n) => n !== undefined)).toHaveLength(1);
    const nodes = await allNodeSecrets(rootSecret, width);
    const { kdf } = await cipherSuite();
    // Alice made the group: leaf 0, node 0. Her first two application ratchet secrets (generations 0, 1).
    const aliceLeaf = 0 as NodeIndex;
    const gen0 = await expandWithLabel(nodes.get(aliceLeaf)!, "application", noContext, kdf.size, kdf);
    const gen1 = await expandWithLabel(gen0, "secret", Uint8Array.of(0, 0, 0, 0), kdf.size, kdf);
    // The formulas above are the tree ts-mls derives: the patched code gives Alice's leaf the same ratchet.
    expect((await leafRatchets(fresh, aliceLeaf, kdf)).node.application.secret).toEqual(gen0);
    expect(holds(stolen(bState), rootSecret)).toBe(true);

    let aState = added.state;
    for (const words of ["one", "two"]) {
      const sent = await encrypt(aState, utf8.encode(words));
      aState = sent.state;
      const read = await processMessage(bState, sent.mls);
      bState = read.state;
    }

    const leaves = leafWidth(width);
    const path = [aliceLeaf, ...directPath(aliceLeaf, leaves)];
    expect(path).toContain(rootIndex);
    // The reader's state, and the sender's own: neither can make her two messages' keys again.
    for (const [who, state] of [["Bob", bState], ["Alice", aState]] as const) {
      const bytes = stolen(state);
      for (const node of path) expect(holds(bytes, nodes.get(node)!), `${who}: node ${node} on Alice's path`).toBe(false);
      expect(holds(bytes, gen0), `${who}: Alice's generation 0 ratchet`).toBe(false);
      expect(holds(bytes, gen1), `${who}: Alice's generation 1 ratchet`).toBe(false);
    }
    const bytes = stolen(bState);
    // What the other members' messages still need is there: the search finds a secret that is stored.
    const kept = copath(aliceLeaf, leaves);
    expect(kept.length).toBeGreaterThan(1);
    for (const node of kept) expect(holds(bytes, nodes.get(node)!), `co-path node ${node}`).toBe(true);
  });
});
