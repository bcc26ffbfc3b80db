import { errorSentence } from "./error-text.js";
import { Observable } from "./observable.js";

/** A view model whose user actions run one at a time, with `busy` while one runs and its failure as a sentence. */
export class ActionModel extends Observable {
  busy = false;
  error: string | null = null;

  /** Runs `action`; true when it succeeded, else `error` says why, in `describe`'s words. */
  protected async attempt(action: () => Promise<unknown>, describe: (error: unknown) => string = errorSentence): Promise<boolean> {
    this.busy = true;
    this.error = null;
    this.changed();
    try {
      await action();
      return true;
    } catch (error) {
      this.error = describe(error);
      return false;
    } finally {
      this.busy = false;
      this.changed();
    }
  }
}
