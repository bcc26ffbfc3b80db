import {
  type Capabilities,
  type CiphersuiteImpl,
  type ClientConfig,
  defaultKeyPackageEqualityConfig,
  defaultKeyRetentionConfig,
  defaultLifetimeConfig,
  defaultPaddingConfig,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
} from "ts-mls";
import { deviceCredentialService } from "./credential.js";
import { emsgCryptoProvider, operationSuite } from "./crypto-provider.js";

/** The one ciphersuite of EMSG v1 (id 84): X-Wing hybrid post-quantum KEM, Ed25519 signatures. */
export const CIPHERSUITE_NAME = "MLS_256_XWING_CHACHA20POLY1305_SHA512_Ed25519";
export const CIPHERSUITE_ID = 84;

/**
 * What every EMSG leaf declares: MLS 1.0, the one suite, basic credentials. Fixed rather than
 * ts-mls's GREASEd default, which draws from Math.random and so makes every KeyPackage differ.
 */
export function capabilities(): Capabilities {
  return { versions: ["mls10"], ciphersuites: [CIPHERSUITE_NAME], extensions: [], proposals: [], credentials: ["basic"] };
}

let suite: Promise<CiphersuiteImpl> | undefined;

/**
 * The ciphersuite implementation, built once: it loads the X-Wing and ChaCha20 modules lazily. A
 * build that failed (a module not loaded) is not kept: the next operation tries again.
 */
export function cipherSuite(): Promise<CiphersuiteImpl> {
  suite ??= getCiphersuiteImpl(getCiphersuiteFromName(CIPHERSUITE_NAME), emsgCryptoProvider).catch((error: unknown) => {
    suite = undefined;
    throw error;
  });
  return suite;
}

/**
 * Runs one MLS operation with the ciphersuite, its MAC keys and digests kept for that operation
 * only (crypto-provider.ts: operationSuite) and wiped when it ends, however it ends.
 */
export async function withCipherSuite<T>(operation: (cs: CiphersuiteImpl) => Promise<T>): Promise<T> {
  const scope = operationSuite(await cipherSuite());
  try {
    return await operation(scope.cs);
  } finally {
    scope.end();
  }
}

/** How every EMSG group state behaves; kept out of the encoded state and re-attached on decode. */
export const clientConfig: ClientConfig = {
  keyRetentionConfig: defaultKeyRetentionConfig,
  lifetimeConfig: defaultLifetimeConfig,
  keyPackageEqualityConfig: defaultKeyPackageEqualityConfig,
  paddingConfig: defaultPaddingConfig,
  authService: deviceCredentialService,
};
