/**
 * Writes the JSON test vectors: every module in scripts/vectors/*.ts (except `_`-prefixed
 * helpers) exports `name` and `make()`, and its result goes to tests/vectors/<name>.json.
 *
 *   npm run vectors                     regenerate all
 *   npm run vectors -- discovery mls    regenerate only these
 *   npm run vectors -- --check NAME…    compare instead of write; exit 1 on any difference
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { join } from "node:path";

export interface VectorGenerator {
  name: string;
  make(): Promise<unknown>;
}

const root = fileURLToPath(new URL("..", import.meta.url));
const generatorDir = join(root, "scripts", "vectors");
const vectorDir = join(root, "tests", "vectors");

/** The text written for a vector document: 2-space JSON with a final newline. */
export function vectorText(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function checkShape(file: string, mod: Partial<VectorGenerator>): VectorGenerator {
  if (typeof mod.name !== "string" || !/^[a-z0-9-]+$/.test(mod.name) || typeof mod.make !== "function") {
    throw new Error(`${file} must export name (lower-case, a-z 0-9 -) and make().`);
  }
  return mod as VectorGenerator;
}

export async function loadGenerators(): Promise<VectorGenerator[]> {
  const files = (await readdir(generatorDir)).filter((f) => f.endsWith(".ts") && !f.startsWith("_")).sort();
  const generators: VectorGenerator[] = [];
  for (const file of files) {
    generators.push(checkShape(file, await import(pathToFileURL(join(generatorDir, file)).href)));
  }
  const names = generators.map((g) => g.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new Error(`Two generators are named "${twice}".`);
  return generators;
}

async function main(args: string[]): Promise<number> {
  const check = args.includes("--check");
  const wanted = args.filter((a) => a !== "--check");
  const all = await loadGenerators();
  const unknown = wanted.filter((w) => !all.some((g) => g.name === w));
  if (unknown.length > 0) throw new Error(`No generator named ${unknown.join(", ")}.`);
  let stale = 0;
  for (const gen of all.filter((g) => wanted.length === 0 || wanted.includes(g.name))) {
    const doc = (await gen.make()) as { description?: unknown; cases?: unknown };
    if (typeof doc?.description !== "string") throw new Error(`Vector "${gen.name}" needs a top-level description.`);
    const text = vectorText(doc);
    const path = join(vectorDir, `${gen.name}.json`);
    if (check) {
      const old = await readFile(path, "utf8").catch(() => "");
      if (old !== text) {
        stale++;
        console.error(`stale: tests/vectors/${gen.name}.json`);
      }
    } else {
      await writeFile(path, text);
      console.log(`wrote tests/vectors/${gen.name}.json`);
    }
  }
  return stale > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error((e as Error).message);
      process.exit(2);
    },
  );
}
