import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { XWing } from "@hpke/hybridkem-x-wing";
import { parseDictionary, serializeInnerList, type InnerList } from "structured-headers";
import { type CiphersuiteImpl, decodeMlsMessage, defaultKeyRetentionConfig, type GroupContext, getCiphersuiteFromName, getCiphersuiteImpl } from "ts-mls";
import { encodeCommit } from "ts-mls/commit.js";
import { unprotectPrivateMessage } from "ts-mls/messageProtection.js";
import { encodeProposal } from "ts-mls/proposal.js";
import { deriveSecret, deriveTreeSecret, expandWithLabel } from "ts-mls/crypto/kdf.js";
import { refhash } from "ts-mls/crypto/hash.js";
import { decryptWithLabel, encryptWithLabel } from "ts-mls/crypto/hpke.js";
import { signWithLabel, verifyWithLabel } from "ts-mls/crypto/signature.js";
import { decodeGroupContext } from "ts-mls/groupContext.js";
import { initializeEpoch } from "ts-mls/keySchedule.js";
import { expandSenderDataKey, expandSenderDataNonce } from "ts-mls/sender.js";
import { createSecretTree, deriveKey, deriveNonce, leafRatchets, ratchetUntil } from "ts-mls/secretTree.js";
import { isLeaf, left, leafToNodeIndex, nodeWidth, parent, right, root, sibling, toLeafIndex, toNodeIndex } from "ts-mls/treemath.js";
import { jcs } from "../../shared/canonical.js";
import { EmsgError } from "../../shared/errors.js";
import { type HttpMessage, contentDigest, signatureBaseText } from "../../shared/http-signature.js";
import { cipherSuite } from "../../shared/mls/suite.js";

/*
 * Known answers published by others (tests/vectors/outside/, sources in its README), run against
 * the code EMSG signs, hashes, canonicalizes and encrypts with. A failure here means our code
 * disagrees with the standard, not with itself.
 */

/** Vector documents are plain JSON; each test reads the members its file defines. */
type Doc = any;

function load(name: string): Doc {
  return JSON.parse(readFileSync(new URL(`../vectors/outside/${name}.json`, import.meta.url), "utf8"));
}

const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const utf8 = new TextEncoder();

/** The vectors write keys as TLS opaque<V>: a QUIC-style variable-length length, then the bytes. */
function opaque(s: string): Uint8Array {
  const b = hex(s);
  const prefix = b[0]! >> 6 === 0 ? 1 : b[0]! >> 6 === 1 ? 2 : 4;
  let len = b[0]! & 0x3f;
  for (let i = 1; i < prefix; i++) len = (len << 8) | b[i]!;
  expect(b.length - prefix).toBe(len);
  return b.slice(prefix);
}

describe("RFC 8032 §7.1 Ed25519 (the signature of every EMSG signed object and request)", () => {
  for (const v of load("rfc8032-ed25519").vectors) {
    it(`${v.name}: the key, the signature, strict verification`, () => {
      const seed = hex(v.secretKey);
      expect(toHex(ed25519.getPublicKey(seed))).toBe(v.publicKey);
      expect(toHex(ed25519.sign(hex(v.message), seed))).toBe(v.signature);
      const sig = hex(v.signature);
      expect(ed25519.verify(sig, hex(v.message), hex(v.publicKey), { zip215: false })).toBe(true);
      sig[0]! ^= 1;
      expect(ed25519.verify(sig, hex(v.message), hex(v.publicKey), { zip215: false })).toBe(false);
    });
  }
});

describe("RFC 9421 B.2.6 (HTTP message signature with Ed25519)", () => {
  const v = load("rfc9421-ed25519");
  const seed = Buffer.from(v.key.privateKeyPkcs8, "base64").subarray(16);
  const publicKey = Buffer.from(v.key.publicKeySpki, "base64").subarray(12);
  const base = utf8.encode(v.signatureBase.join("\n"));
  const member = (header: string) => parseDictionary(header).get(header.slice(0, header.indexOf("=")))!;
  const signature = new Uint8Array(member(v.signature)[0] as ArrayBuffer);
  const msg: HttpMessage = { method: v.request.method, url: v.request.url, headers: v.request.headers, body: utf8.encode(v.request.body) };

  it("the B.1.4 test key's public half is its private half's", () => {
    expect(toHex(ed25519.getPublicKey(seed))).toBe(toHex(publicKey));
  });

  it("our signature-base lines for the components our profile uses are the RFC's lines", () => {
    const params = v.signatureBase.at(-1).slice('"@signature-params": '.length);
    for (const component of ["date", "@method", "@path", "content-type", "content-length"]) {
      const line = signatureBaseText(msg, { components: [component], signatureParams: params }).split("\n")[0];
      expect(v.signatureBase).toContain(line);
    }
  });

  it("the @signature-params line is the Signature-Input member re-serialized (as parseSignature does)", () => {
    const params = serializeInnerList(member(v.signatureInput) as InnerList);
    expect(`"@signature-params": ${params}`).toBe(v.signatureBase.at(-1));
  });

  it("the RFC's signature verifies strictly over the base, and signing the base gives it byte for byte", () => {
    expect(ed25519.verify(signature, base, publicKey, { zip215: false })).toBe(true);
    expect(toHex(ed25519.sign(base, seed))).toBe(toHex(signature));
    const changed = utf8.encode(v.signatureBase.join("\n").replace("POST", "PUT"));
    expect(ed25519.verify(signature, changed, publicKey, { zip215: false })).toBe(false);
  });
});

describe("RFC 9530 Content-Digest", () => {
  for (const v of load("rfc9530-digests").vectors) {
    it(`of ${JSON.stringify(v.body)}`, () => {
      const body = utf8.encode(v.body);
      if (v["sha-256"]) expect(contentDigest(body)).toBe(v["sha-256"]);
      if (v["sha-512"]) expect(`sha-512=:${Buffer.from(sha512(body)).toString("base64")}:`).toBe(v["sha-512"]);
    });
  }
});

describe("RFC 8785 JCS (what EMSG signs and hashes)", () => {
  const v = load("rfc8785-jcs");
  const double = (bits: string) => new DataView(hex(bits).buffer).getFloat64(0);

  it("writes every number of appendix B as the RFC does", () => {
    for (const n of v.numbers) expect(jcs(double(n.ieee754)), n.ieee754).toBe(n.jcs);
  });

  it("refuses NaN and Infinity as bad_request", () => {
    for (const bits of v.refused) {
      let thrown: unknown;
      try {
        jcs([double(bits)]);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, bits).toBeInstanceOf(EmsgError);
      expect((thrown as EmsgError).code).toBe("bad_request");
    }
  });

  for (const s of v.samples) {
    it(`canonicalizes the RFC authors' sample "${s.name}"`, () => {
      expect(jcs(JSON.parse(s.input))).toBe(s.output);
    });
  }
});

describe("X-Wing (draft-connolly-cfrg-xwing-kem-08 appendix C), the KEM of our suite 84, as ts-mls runs it", () => {
  for (const v of load("xwing").vectors) {
    it("derives the encapsulation key, encapsulates with the given randomness and decapsulates to the shared secret", async () => {
      const kem = new XWing();
      const keys = await kem.generateKeyPairDerand(hex(v.sk));
      expect(toHex(new Uint8Array(await kem.serializePublicKey(keys.publicKey)))).toBe(v.pk);
      const { enc, sharedSecret } = await kem.encap({ recipientPublicKey: keys.publicKey, ekm: hex(v.eseed) });
      expect(toHex(new Uint8Array(enc))).toBe(v.ct);
      expect(toHex(new Uint8Array(sharedSecret))).toBe(v.ss);
      const opened = await kem.decap({ enc: hex(v.ct).buffer, recipientKey: keys.privateKey });
      expect(toHex(new Uint8Array(opened))).toBe(v.ss);
    });
  }
});

describe("MLS working group vectors (mlswg/mls-implementations)", () => {
  const suite3 = getCiphersuiteImpl(getCiphersuiteFromName("MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519"));

  it("tree-math: root, left, right, parent and sibling of every node of trees of 1 to 32 leaves", () => {
    for (const t of load("mls-tree-math").entries) {
      expect(nodeWidth(t.n_leaves)).toBe(t.n_nodes);
      expect(root(t.n_leaves)).toBe(t.root);
      for (let i = 0; i < t.n_nodes; i++) {
        const x = toNodeIndex(i);
        const at = `node ${i} of ${t.n_leaves} leaves`;
        expect(isLeaf(x) ? null : left(x), at).toBe(t.left[i]);
        expect(isLeaf(x) ? null : right(x), at).toBe(t.right[i]);
        expect(i === t.root ? null : parent(x, t.n_leaves), at).toBe(t.parent[i]);
        expect(i === t.root ? null : sibling(x, t.n_leaves), at).toBe(t.sibling[i]);
      }
    }
  });

  describe("crypto-basics", () => {
    const [s3, s6] = load("mls-crypto-basics").vectors;

    it("suite 3: RefHash, ExpandWithLabel, DeriveSecret, DeriveTreeSecret", async () => {
      const cs = await suite3;
      expect(toHex(await refhash(s3.ref_hash.label, hex(s3.ref_hash.value), cs.hash))).toBe(s3.ref_hash.out);
      const e = s3.expand_with_label;
      expect(toHex(await expandWithLabel(hex(e.secret), e.label, hex(e.context), e.length, cs.kdf))).toBe(e.out);
      expect(toHex(await deriveSecret(hex(s3.derive_secret.secret), s3.derive_secret.label, cs.kdf))).toBe(s3.derive_secret.out);
      const t = s3.derive_tree_secret;
      expect(toHex(await deriveTreeSecret(hex(t.secret), t.label, t.generation, t.length, cs.kdf))).toBe(t.out);
    });

    it("suite 3's SignWithLabel (Ed25519) under our suite 84's signature: the same bytes, and it verifies", async () => {
      const ours = await cipherSuite();
      const s = s3.sign_with_label;
      const signed = await signWithLabel(opaque(s.priv), s.label, hex(s.content), ours.signature);
      expect(toHex(signed)).toBe(s.signature);
      expect(await verifyWithLabel(opaque(s.pub), s.label, hex(s.content), hex(s.signature), ours.signature)).toBe(true);
      expect(await verifyWithLabel(opaque(s.pub), "SignWithLabeL", hex(s.content), hex(s.signature), ours.signature)).toBe(false);
    });

    it("suite 3: DecryptWithLabel opens the vector's ciphertext (X25519 HPKE, ChaCha20-Poly1305)", async () => {
      const cs = await suite3;
      const x = s3.encrypt_with_label;
      const priv = await cs.hpke.importPrivateKey(opaque(x.priv));
      const plain = await decryptWithLabel(priv, x.label, hex(x.context), hex(x.kem_output), hex(x.ciphertext), cs.hpke);
      expect(toHex(plain)).toBe(x.plaintext);
      const pub = await cs.hpke.importPublicKey(opaque(x.pub));
      const again = await encryptWithLabel(pub, x.label, hex(x.context), hex(x.plaintext), cs.hpke);
      expect(toHex(await decryptWithLabel(priv, x.label, hex(x.context), again.enc, again.ct, cs.hpke))).toBe(x.plaintext);
    });

    it("suite 6's KDF and hash vectors (HKDF-SHA512, SHA-512) give the same under our suite 84", async () => {
      const ours = await cipherSuite();
      expect(toHex(await refhash(s6.ref_hash.label, hex(s6.ref_hash.value), ours.hash))).toBe(s6.ref_hash.out);
      const e = s6.expand_with_label;
      expect(toHex(await expandWithLabel(hex(e.secret), e.label, hex(e.context), e.length, ours.kdf))).toBe(e.out);
      expect(toHex(await deriveSecret(hex(s6.derive_secret.secret), s6.derive_secret.label, ours.kdf))).toBe(s6.derive_secret.out);
      const t = s6.derive_tree_secret;
      expect(toHex(await deriveTreeSecret(hex(t.secret), t.label, t.generation, t.length, ours.kdf))).toBe(t.out);
    });
  });

  it("key-schedule: suite 4's first epoch (HKDF-SHA512) under our suite 84", async () => {
    const ours = await cipherSuite();
    const v = load("mls-key-schedule");
    const e = v.epoch;
    const decoded = decodeGroupContext(hex(e.group_context), 0);
    expect(decoded).toBeDefined();
    const [context] = decoded!;
    expect(toHex(context.groupId)).toBe(v.group_id);
    const got = await initializeEpoch(hex(v.initial_init_secret), hex(e.commit_secret), context, hex(e.psk_secret), ours.kdf);
    expect(toHex(got.joinerSecret)).toBe(e.joiner_secret);
    expect(toHex(got.welcomeSecret)).toBe(e.welcome_secret);
    expect(toHex(got.encryptionSecret)).toBe(e.encryption_secret);
    const k = got.keySchedule;
    expect(toHex(k.initSecret)).toBe(e.init_secret);
    expect(toHex(k.senderDataSecret)).toBe(e.sender_data_secret);
    expect(toHex(k.exporterSecret)).toBe(e.exporter_secret);
    expect(toHex(k.epochAuthenticator)).toBe(e.epoch_authenticator);
    expect(toHex(k.externalSecret)).toBe(e.external_secret);
    expect(toHex(k.confirmationKey)).toBe(e.confirmation_key);
    expect(toHex(k.membershipKey)).toBe(e.membership_key);
    expect(toHex(k.resumptionPsk)).toBe(e.resumption_psk);
  });

  describe("message-protection: PrivateMessages open", () => {
    const [s3, s6] = load("mls-message-protection").entries;
    const suite6 = getCiphersuiteImpl(getCiphersuiteFromName("MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448"));
    const open = async (v: Doc, cs: CiphersuiteImpl, kind: string, tamper = false) => {
      const context: GroupContext = {
        version: "mls10",
        cipherSuite: v.cipher_suite === 3 ? "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519" : "MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448",
        groupId: hex(v.group_id),
        epoch: BigInt(v.epoch),
        treeHash: hex(v.tree_hash),
        confirmedTranscriptHash: hex(v.confirmed_transcript_hash),
        extensions: [],
      };
      const bytes = hex(v[`${kind}_priv`]);
      if (tamper) bytes[bytes.length - 1]! ^= 1;
      const decoded = decodeMlsMessage(bytes, 0);
      expect(decoded?.[1]).toBe(bytes.length);
      const message = decoded![0];
      if (message.wireformat !== "mls_private_message") throw new Error(`${kind}_priv is no PrivateMessage`);
      // The sender is leaf 1 of a tree of 2 leaves; its signature key is the vector's, not a tree's.
      const tree = await createSecretTree(2, hex(v.encryption_secret), cs.kdf);
      return (await unprotectPrivateMessage(hex(v.sender_data_secret), message.privateMessage, tree, [], context, defaultKeyRetentionConfig, cs, hex(v.signature_pub))).content;
    };
    const check = async (v: Doc, cs: CiphersuiteImpl) => {
      const application = await open(v, cs, "application");
      expect(application.content.contentType === "application" && toHex(application.content.applicationData)).toBe(v.application);
      expect(application.content.sender).toEqual({ senderType: "member", leafIndex: 1 });
      const proposal = (await open(v, cs, "proposal")).content;
      expect(proposal.contentType === "proposal" && toHex(encodeProposal(proposal.proposal))).toBe(v.proposal);
      const commit = await open(v, cs, "commit");
      expect(commit.content.contentType === "commit" && toHex(encodeCommit(commit.content.commit))).toBe(v.commit);
      expect(commit.auth.contentType === "commit" && toHex(commit.auth.confirmationTag)).toBe(v.confirmation_tag);
      await expect(open(v, cs, "application", true)).rejects.toThrow();
    };

    it("suite 3's, their Ed25519 signatures checked by our suite 84's signature implementation", async () => {
      await check(s3, { ...(await suite3), signature: (await cipherSuite()).signature });
    });

    it("suite 6's, opened by our suite 84's KDF and AEAD (its Ed448 signatures by suite 6's)", async () => {
      await check(s6, { ...(await cipherSuite()), signature: (await suite6).signature });
    });
  });

  it("secret-tree: suite 6 (HKDF-SHA512, ChaCha20-Poly1305) under our suite 84, sender data and leaves at generation 15", async () => {
    const ours = await cipherSuite();
    const v = load("mls-secret-tree");
    const sd = v.sender_data;
    expect(toHex(await expandSenderDataKey(ours, hex(sd.sender_data_secret), hex(sd.ciphertext)))).toBe(sd.key);
    expect(toHex(await expandSenderDataNonce(ours, hex(sd.sender_data_secret), hex(sd.ciphertext)))).toBe(sd.nonce);
    // Leaves derived lazily, each from the tree the one before left (expanded nodes blank).
    let tree = await createSecretTree(v.n_leaves, hex(v.encryption_secret), ours.kdf);
    const keep = { retainKeysForGenerations: 0, retainKeysForEpochs: 0, maximumForwardRatchetSteps: 1000 };
    for (const leaf of v.leaves) {
      const derived = await leafRatchets(tree, leafToNodeIndex(toLeafIndex(leaf.leaf)), ours.kdf);
      tree = derived.tree;
      const node = derived.node;
      for (const kind of ["application", "handshake"] as const) {
        const [at] = await ratchetUntil(node[kind], leaf.generation, keep, ours.kdf);
        expect(toHex(await deriveKey(at.secret, leaf.generation, ours)), `leaf ${leaf.leaf} ${kind} key`).toBe(leaf[`${kind}_key`]);
        expect(toHex(await deriveNonce(at.secret, leaf.generation, ours)), `leaf ${leaf.leaf} ${kind} nonce`).toBe(leaf[`${kind}_nonce`]);
      }
    }
  });
});
