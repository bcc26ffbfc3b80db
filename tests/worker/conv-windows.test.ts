import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { runInDurableObject } from "cloudflare:test";
import { ConvWindows } from "../../worker/conv-windows.js";
import { accountStub, registered } from "./harness.js";

/**
 * The positions check as it was before windows (a row per stored position, in its own table
 * here), the reference the windows must answer exactly like: new are the positions above the
 * conversation's highest stored less 4096, not stored, each taken by its first entry in the batch.
 */
function referenceTake(sql: SqlStorage, batch: { conversation: string; position: number }[]): boolean[] {
  const byConversation = new Map<string, number[]>();
  for (const { conversation, position } of batch) byConversation.set(conversation, [...(byConversation.get(conversation) ?? []), position]);
  const taken = new Map<string, Set<number>>();
  for (const [conversation, positions] of byConversation) {
    const inserted = sql
      .exec<{ position: number }>(
        `INSERT INTO ref_positions (conversation, position) SELECT ?1, value FROM json_each(?2)
         WHERE value > (SELECT COALESCE(MAX(position), -1) FROM ref_positions WHERE conversation = ?1) - ?3
         ON CONFLICT DO NOTHING RETURNING position`,
        conversation,
        JSON.stringify(positions),
        4096,
      )
      .toArray();
    taken.set(conversation, new Set(inserted.map((r) => r.position)));
  }
  return batch.map(({ conversation, position }) => taken.get(conversation)!.delete(position));
}

// Small ones, any, and those at a window's edges (a highest position of 4096 or 8192 puts the floor at 0 or 4096).
const position = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 13_000 }), fc.constantFrom(0, 1, 4095, 4096, 4097, 8191, 8192, 8193));
const batches = fc.array(
  fc.record({ entries: fc.array(fc.record({ c: fc.integer({ min: 0, max: 2 }), position }), { minLength: 1, maxLength: 12 }), restart: fc.boolean() }),
  { minLength: 1, maxLength: 25 },
);

describe("conversation windows", () => {
  it("take exactly the entries the row-per-position check took, across restarts and rows stored before windows", async () => {
    const owner = await registered("windows");
    await runInDurableObject(accountStub(owner.address), async (_i, state) => {
      const sql = state.storage.sql;
      sql.exec("CREATE TABLE ref_positions (conversation TEXT NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (conversation, position)) WITHOUT ROWID");
      let run = 0;
      fc.assert(
        fc.property(fc.array(position, { maxLength: 30 }), batches, (before, sequence) => {
          run++;
          const names = [0, 1, 2].map((c) => `run${run}/c${c}`);
          // Positions stored one a row before windows, in conversation 0.
          for (const p of before) {
            sql.exec("INSERT OR IGNORE INTO conv_positions (conversation, position) VALUES (?, ?)", names[0], p);
            sql.exec("INSERT OR IGNORE INTO ref_positions (conversation, position) VALUES (?, ?)", names[0], p);
          }
          let windows = new ConvWindows(sql);
          for (const { entries, restart } of sequence) {
            const batch = entries.map(({ c, position }) => ({ conversation: names[c]!, position }));
            expect(windows.take(batch)).toEqual(referenceTake(sql, batch));
            if (restart) windows = new ConvWindows(sql);
          }
        }),
        { numRuns: 300 },
      );
      // The rows stored before are dropped once their window is written.
      expect(sql.exec("SELECT COUNT(*) AS n FROM conv_positions WHERE conversation IN (SELECT conversation FROM conv_windows)").one().n).toBe(0);
    });
  });
});
