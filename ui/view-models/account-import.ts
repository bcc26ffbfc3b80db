import { EmsgError } from "../../shared/errors.js";
import type { MessageKey } from "../i18n/en.js";
import type { Translate } from "../i18n/translate.js";
import type { ImportProgress, ImportResult } from "./core-types.js";
import { errorSentence } from "./error-text.js";
import type { LocalRecords } from "./local-records.js";
import { Observable } from "./observable.js";
import { progressPercent } from "./settings-form.js";

/**
 * Runs the core's import: on a fresh device it makes the account `name` on this server, in Settings
 * it moves the old account into this one (and has no name to choose).
 */
export type ImportRunner = (archive: string, passphrase: string, name: string, onProgress: (progress: ImportProgress) => void) => Promise<ImportResult>;

/**
 * The sentence for a failed import. While the file is being opened, `unauthorized` is the
 * passphrase and `bad_request` the file (PROTOCOL §11); later failures are the server's sentence.
 */
export function importFailure(error: unknown, t: Translate, opening = true): string {
  if (opening && error instanceof EmsgError) {
    if (error.code === "unauthorized") return t("move.wrongPassphrase");
    if (error.code === "bad_request") return t("move.damaged");
  }
  return errorSentence(error);
}

const STEP_TEXT: Record<ImportProgress["step"], MessageKey> = {
  unlock: "move.step.unlock",
  register: "move.step.register",
  restore: "move.step.restore",
  announce: "move.step.announce",
  done: "move.step.announce",
};

/** What a finished move says, one sentence each: first that it worked, then what did not come along or is still to happen. */
export function importSummary(result: ImportResult, t: Translate): string[] {
  const lines = [result.friends === 1 ? t("move.doneOne", { from: result.from, address: result.address }) : t("move.done", { from: result.from, address: result.address, count: result.friends })];
  const domain = result.from.split("#")[1] ?? "";
  if (!result.announced) lines.push(t("move.oldServerLater", { domain }));
  // The old server takes a move only from a current device of the account (PROTOCOL §11).
  if (result.announceError) lines.push(t("move.notAnnounced", { domain }));
  if (result.groups.length === 1) lines.push(t("move.groupsOne"));
  else if (result.groups.length > 1) lines.push(t("move.groups", { count: result.groups.length }));
  return lines;
}

/** Starred messages from the archive, kept as favorites again (they are copies, like any favorite). */
export async function restoreFavorites(records: LocalRecords, result: ImportResult, now: number): Promise<void> {
  for (const f of result.favorites) {
    await records.star({ id: f.id, conversation: "", peer: f.peer, from: f.from, mine: f.from === result.from, text: f.text, at: f.at, starredAt: now });
  }
}

/** The import form: the chosen file, the progress while it runs, and the outcome as sentences. */
export class ImportViewModel extends Observable {
  readonly #t: () => Translate;
  readonly #run: ImportRunner;
  fileName: string | null = null;
  #archive: string | null = null;
  running = false;
  progress: string | null = null;
  percent: number | null = null;
  error: string | null = null;
  summary: string[] = [];
  #opening = true;

  constructor(t: () => Translate, run: ImportRunner) {
    super();
    this.#t = t;
    this.#run = run;
  }

  get hasFile(): boolean {
    return this.#archive !== null;
  }

  async chooseFile(name: string, read: () => Promise<string>): Promise<void> {
    this.error = null;
    this.summary = [];
    try {
      this.#archive = await read();
      this.fileName = name;
    } catch {
      this.#archive = null;
      this.fileName = null;
      this.error = this.#t()("move.unreadable");
    }
    this.changed();
  }

  #show(progress: ImportProgress): void {
    this.#opening = progress.step === "unlock";
    const percent = progress.step === "unlock" ? progressPercent(progress.fraction * 1000, 1000) : null;
    const text = this.#t()(STEP_TEXT[progress.step], { percent: percent ?? 0 });
    if (text === this.progress && percent === this.percent) return;
    this.progress = text;
    this.percent = percent;
    this.changed();
  }

  /** Runs the import; resolves with the result, or null after showing why it failed. */
  async start(passphrase: string, name = ""): Promise<ImportResult | null> {
    if (this.#archive === null || this.running) return null;
    this.running = true;
    this.error = null;
    this.summary = [];
    this.#opening = true;
    this.changed();
    try {
      const result = await this.#run(this.#archive, passphrase, name, (p) => this.#show(p));
      this.summary = importSummary(result, this.#t());
      return result;
    } catch (error) {
      this.error = importFailure(error, this.#t(), this.#opening);
      return null;
    } finally {
      this.running = false;
      this.progress = null;
      this.percent = null;
      this.changed();
    }
  }
}
