import type { Address } from "../../shared/address.js";
import type { EmsgClient } from "./core-types.js";
import type { LocalRecords } from "./local-records.js";
import { errorSentence } from "./error-text.js";
import { Observable } from "./observable.js";
import { safetyNumberGroups } from "../../shared/safety-number.js";
import { safetyRows, verifyQrSvg } from "./safety-number-view.js";
import { judgeScannedCode, type ScanVerdict } from "./scanned-code.js";

/**
 * What the dialog needs: the core (in the PWA itself; in the extension, requests to its background)
 * for the number and the key pinned for the friend, and this device's records for the verified mark.
 */
export interface SafetyContext {
  readonly client: Pick<EmsgClient, "address" | "safetyNumber" | "friends">;
  readonly records: LocalRecords;
  /** This account's public key (base64url), which our own code carries. */
  ownAccountKey(): Promise<string>;
}

/** The safety-number dialog for one friend: 12 groups of digits, our QR code, and the verified mark. */
export class SafetyViewModel extends Observable {
  readonly address: Address;
  readonly #ctx: SafetyContext;
  readonly #onChange: () => void;
  groups: string[] = [];
  qrSvg = "";
  verified = false;
  error: string | null = null;
  /** What the last scan of their code showed; null before any. */
  scan: ScanVerdict | null = null;
  #key = "";

  constructor(ctx: SafetyContext, address: Address, onChange: () => void) {
    super();
    this.#ctx = ctx;
    this.address = address;
    this.#onChange = onChange;
  }

  get rows(): string[][] {
    return this.groups.length === 12 ? safetyRows(this.groups) : [];
  }

  async load(): Promise<void> {
    try {
      this.groups = safetyNumberGroups(await this.#ctx.client.safetyNumber(this.address));
      this.qrSvg = verifyQrSvg(this.#ctx.client.address, await this.#ctx.ownAccountKey());
      const friend = (await this.#ctx.client.friends()).find((f) => f.address === this.address);
      this.#key = friend?.accountKey ?? "";
      const memory = await this.#ctx.records.keyMemory(this.address);
      this.verified = memory?.verified === true && memory.key === this.#key;
    } catch (error) {
      this.error = errorSentence(error);
    }
    this.changed();
  }

  /** Their code, scanned: a match marks them verified; anything else says why and changes nothing. */
  async scanned(text: string): Promise<void> {
    this.scan = judgeScannedCode(text, this.address, this.#key);
    if (this.scan.kind === "match") await this.setVerified(true);
    else this.changed();
  }

  async setVerified(verified: boolean): Promise<void> {
    if (!this.#key) return;
    await this.#ctx.records.setVerified(this.address, this.#key, verified);
    this.verified = verified;
    this.#onChange();
    this.changed();
  }
}
