// How a bench tool run from the command line ends: its exit code (0 when `main` gives none), or
// the error's stack and 1; leftover sockets and timers do not keep the process alive.
export function runTool(main: () => Promise<number | void>, prefix = ""): void {
  main().then(
    (code) => process.exit(code ?? 0),
    (error: unknown) => {
      console.error(`${prefix}${error instanceof Error ? error.stack : String(error)}`);
      process.exit(1);
    },
  );
}
