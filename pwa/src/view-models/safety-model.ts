import type { Address } from "../../../shared/address.js";
import type { AppContext } from "./app-context.js";
import { errorSentence } from "./error-text.js";
import { Observable } from "./observable.js";
import { safetyNumberGroups } from "../../../shared/safety-number.js";
import { safetyRows, verifyQrSvg } from "./safety-number-view.js";

/** The safety-number dialog for one friend: 12 groups of digits, our QR code, and the verified mark. */
export class SafetyViewModel extends Observable {
  readonly address: Address;
  readonly #ctx: AppContext;
  readonly #onChange: () => void;
  groups: string[] = [];
  qrSvg = "";
  verified = false;
  error: string | null = null;
  #key = "";

  constructor(ctx: AppContext, address: Address, onChange: () => void) {
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
      this.qrSvg = verifyQrSvg(this.#ctx.client.address, this.#ctx.client.account!.accountPublicKey);
      const friend = (await this.#ctx.client.friends()).find((f) => f.address === this.address);
      this.#key = friend?.accountKey ?? "";
      const memory = await this.#ctx.records.keyMemory(this.address);
      this.verified = memory?.verified === true && memory.key === this.#key;
    } catch (error) {
      this.error = errorSentence(error);
    }
    this.changed();
  }

  async setVerified(verified: boolean): Promise<void> {
    if (!this.#key) return;
    await this.#ctx.records.setVerified(this.address, this.#key, verified);
    this.verified = verified;
    this.#onChange();
    this.changed();
  }
}
