/**
 * Explicit, ordered schema migrations for a SQLite-backed Durable Object: step N runs once,
 * when the object's recorded version is below N. Steps are append-only.
 */
export function migrate(sql: SqlStorage, steps: readonly string[]): void {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const row = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0];
  const current = row?.version ?? 0;
  if (row === undefined) sql.exec("INSERT INTO schema_version (version) VALUES (0)");
  for (let i = current; i < steps.length; i++) {
    sql.exec(steps[i]!);
    sql.exec("UPDATE schema_version SET version = ?", i + 1);
  }
}

/** Bound parameters one SQL statement of a Durable Object may take. */
export const MAX_SQL_PARAMS = 100;
