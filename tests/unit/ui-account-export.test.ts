import { describe, expect, it } from "vitest";
import { EmsgError } from "../../shared/errors.js";
import { AccountExportViewModel, type ExportPort } from "../../ui/view-models/account-export.js";

const AT = Date.UTC(2026, 11, 6, 12);

/** An export whose sealing reports `steps` and then gives `result` (or fails with it). */
function exporting(steps: number[], result: string | Error) {
  const saved: [string, string][] = [];
  const port: ExportPort = {
    seal: async (_passphrase, onProgress) => {
      for (const fraction of steps) onProgress(fraction);
      if (result instanceof Error) throw result;
      return result;
    },
    save: (name, text) => void saved.push([name, text]),
  };
  const exporter = new AccountExportViewModel(port, () => "alice#im.alice.test", () => AT);
  const shown: (number | null)[] = [];
  exporter.subscribe(() => shown.push(exporter.percent));
  return { exporter, saved, shown };
}

describe("exporting the account from Settings (both clients)", () => {
  it("shows each whole percent once while sealing, then saves the file under the address and day", async () => {
    const { exporter, saved, shown } = exporting([0.1, 0.104, 0.5, 1], "{\"sealed\":true}");
    await exporter.run("milk and honey");
    expect(shown).toEqual([0, 10, 50, 100, null]);
    expect(saved).toEqual([["emsg-alice_im.alice.test-2026-12-06.emsg", "{\"sealed\":true}"]]);
    expect(exporter.file).toBe("emsg-alice_im.alice.test-2026-12-06.emsg");
    expect(exporter.error).toBeNull();
  });

  it("says why in words when sealing fails, and saves nothing", async () => {
    const { exporter, saved } = exporting([0.3], new EmsgError("unavailable", "The server is busy."));
    await exporter.run("milk and honey");
    expect(saved).toEqual([]);
    expect(exporter.file).toBeNull();
    expect(exporter.percent).toBeNull();
    expect(exporter.error).toBe("The server is busy.");
  });
});
