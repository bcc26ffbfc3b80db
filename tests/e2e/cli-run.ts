import { execFile } from "node:child_process";

/** What one run of the command-line client printed, and its exit code. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/**
 * Runs the command-line client over the state directory `state`, the way a person runs
 * `npm run cli -- --state DIR …` (without npm's banner), with `env` added to this process's.
 */
export function runCli(state: string, args: readonly string[], env: NodeJS.ProcessEnv, timeout = 60_000): Promise<CliRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "cli/emsg.ts", "--state", state, ...args],
      { env: { ...process.env, ...env }, timeout },
      (error, out, err) => done({ code: error ? Number(error.code ?? 1) : 0, out, err }),
    );
  });
}
