import { describe, expect, it } from "vitest";
import { newestAnswer } from "../../ui/view-models/newest-answer.js";

/** A load whose answers the test hands out, in any order. */
function controlledLoad() {
  const waiting: Array<(answer: string) => void> = [];
  const load = () => new Promise<string>((resolve) => waiting.push(resolve));
  return { load, answer: (run: number, text: string) => waiting[run]!(text) };
}

describe("the panel's reloads on every change", () => {
  it("show only the newest run's answer when an older one comes back later", async () => {
    const { load, answer } = controlledLoad();
    const shown: string[] = [];
    const reload = newestAnswer(load, (text) => void shown.push(text));
    const older = reload();
    const newer = reload();
    answer(1, "three messages");
    await newer;
    answer(0, "two messages");
    await older;
    expect(shown).toEqual(["three messages"]);
  });

  it("show every answer of runs that do not overlap", async () => {
    const { load, answer } = controlledLoad();
    const shown: string[] = [];
    const reload = newestAnswer(load, (text) => void shown.push(text));
    const first = reload();
    answer(0, "one");
    await first;
    const second = reload();
    answer(1, "two");
    await second;
    expect(shown).toEqual(["one", "two"]);
  });
});
