import { errorSentence } from "./error-text.js";
import { Observable } from "./observable.js";
import { exportFileName, progressPercent } from "./settings-form.js";

/** Where an export comes from and goes to: the core (here or in the extension's background) and a saved file. */
export interface ExportPort {
  /** The account sealed with `passphrase` (PROTOCOL §11), this device's starred messages in it, as the file's text. */
  seal(passphrase: string, onProgress: (fraction: number) => void): Promise<string>;
  save(name: string, text: string): void;
}

/** Settings → Export account: the archive sealed with a passphrase, its progress, and the file it was saved as. */
export class AccountExportViewModel extends Observable {
  readonly #port: ExportPort;
  readonly #address: () => string;
  readonly #now: () => number;
  /** While sealing, how far (0–100); null otherwise. */
  percent: number | null = null;
  file: string | null = null;
  error: string | null = null;

  constructor(port: ExportPort, address: () => string, now: () => number) {
    super();
    this.#port = port;
    this.#address = address;
    this.#now = now;
  }

  async run(passphrase: string): Promise<void> {
    this.percent = 0;
    this.file = null;
    this.error = null;
    this.changed();
    try {
      const text = await this.#port.seal(passphrase, (fraction) => {
        const percent = progressPercent(fraction * 1000, 1000);
        if (percent === this.percent) return;
        this.percent = percent;
        this.changed();
      });
      const name = exportFileName(this.#address(), this.#now());
      this.#port.save(name, text);
      this.file = name;
    } catch (error) {
      this.error = errorSentence(error);
    } finally {
      this.percent = null;
      this.changed();
    }
  }
}
