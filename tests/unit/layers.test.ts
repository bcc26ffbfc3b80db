import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/**
 * Which top-level folders each layer may import from: the core below everything, the shared UI
 * above it, the apps on top and never one another. Libraries (bare specifiers) are always allowed.
 */
const ALLOWED: Record<string, readonly string[]> = {
  shared: ["shared"],
  ui: ["ui", "shared"],
  pwa: ["pwa", "ui", "shared"],
  extension: ["extension", "ui", "shared"],
  worker: ["worker", "shared"],
  cli: ["cli", "shared"],
};

const SKIPPED = new Set(["node_modules", ".wxt", ".output", "dist"]);

interface SourceFile {
  /** Repository-relative, with forward slashes. */
  path: string;
  text: string;
}

function sources(folder: string): SourceFile[] {
  const found: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (SKIPPED.has(entry.name)) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.tsx?$/.test(entry.name)) {
        found.push({ path: relative(ROOT, full).split("\\").join("/"), text: readFileSync(full, "utf8") });
      }
    }
  };
  walk(join(ROOT, folder));
  return found;
}

const IMPORT_FORMS = [
  /^[ \t]*(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']/gm,
  /^[ \t]*import\s*["']([^"']+)["']/gm,
  /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
];

/** Every module specifier in a file with the line it is on. */
function importsOf(text: string): { specifier: string; line: number }[] {
  const found: { specifier: string; line: number }[] = [];
  for (const form of IMPORT_FORMS) {
    for (const match of text.matchAll(form)) {
      const specifier = match[1] as string;
      const at = (match.index ?? 0) + match[0].lastIndexOf(specifier);
      found.push({ specifier, line: text.slice(0, at).split("\n").length });
    }
  }
  return found;
}

/** "file:line imports spec (layer may not use target)" for each import that crosses a layer the wrong way. */
function layerViolations(files: readonly SourceFile[]): string[] {
  const violations: string[] = [];
  for (const file of files) {
    const layer = file.path.split("/")[0] as string;
    const allowed = ALLOWED[layer];
    if (!allowed) continue;
    for (const { specifier, line } of importsOf(file.text)) {
      if (!specifier.startsWith(".")) continue;
      const target = relative(ROOT, resolve(ROOT, dirname(file.path), specifier)).split("\\").join("/");
      const targetLayer = target.startsWith("..") ? "outside the repository" : (target.split("/")[0] as string);
      if (!allowed.includes(targetLayer)) {
        violations.push(`${file.path}:${line} imports "${specifier}" (${layer}/ may not use ${targetLayer}/)`);
      }
    }
  }
  return violations.sort();
}

describe("layers", () => {
  const files = Object.keys(ALLOWED).flatMap(sources);

  it("no layer imports upward and no app imports another", () => {
    expect(layerViolations(files)).toEqual([]);
  });

  it("sees the imports it judges: both apps use the shared UI layer", () => {
    const uses = (layer: string) =>
      files.some((f) => f.path.startsWith(`${layer}/`) && importsOf(f.text).some((i) => i.specifier.includes("/ui/")));
    expect(uses("pwa")).toBe(true);
    expect(uses("extension")).toBe(true);
  });

  it("names the file and line of an import that crosses the wrong way", () => {
    const bad: SourceFile[] = [
      {
        path: "extension/ui/chat.tsx",
        text: 'import { h } from "preact";\nimport {\n  x,\n} from "../../pwa/src/views/app-view.js";\n',
      },
      { path: "shared/client/a.ts", text: 'export { y } from "../../ui/view-models/timeline.js";\n' },
      { path: "ui/view-models/b.ts", text: 'const m = await import("../../worker/index.js");\n' },
      { path: "ui/views/c.tsx", text: 'import "../../extension/ui/app.css";\n' },
      { path: "pwa/src/ok.ts", text: 'import { z } from "../../ui/view-models/timeline.js";\nimport "../../shared/a.js";\n' },
    ];
    expect(layerViolations(bad)).toEqual([
      'extension/ui/chat.tsx:4 imports "../../pwa/src/views/app-view.js" (extension/ may not use pwa/)',
      'shared/client/a.ts:1 imports "../../ui/view-models/timeline.js" (shared/ may not use ui/)',
      'ui/view-models/b.ts:1 imports "../../worker/index.js" (ui/ may not use worker/)',
      'ui/views/c.tsx:1 imports "../../extension/ui/app.css" (ui/ may not use extension/)',
    ]);
  });
});
