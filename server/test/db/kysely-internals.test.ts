/*
 * db/kysely-internals.ts is the one place Tessera uses Kysely's internal API (`getExecutor()`).
 * Pins what it relies on, so a Kysely upgrade that changes it fails here rather than in the
 * prepared-query cache: a database and all its transactions share one key, and two databases never do.
 */
import { Kysely, SqliteDialect } from "kysely";
import SQLite from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/connect.js";
import type { Database } from "../../src/db/database.js";
import { executorKey } from "../../src/db/kysely-internals.js";

describe("Kysely internals used by db/kysely-internals.ts", () => {
  const db = createDb("sqlite::memory:");
  const other = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(":memory:") }) });
  afterAll(async () => {
    await db.destroy();
    await other.destroy();
  });

  it("Kysely#getExecutor() still exists and returns an object with an adapter", () => {
    expect(typeof db.getExecutor).toBe("function");
    expect(typeof executorKey(db)).toBe("object");
    expect(executorKey(db)).not.toBeNull();
  });

  it("a transaction shares its database's key, a callback one and a controlled one alike", async () => {
    const key = executorKey(db);
    await db.transaction().execute(async (trx) => {
      expect(trx.isTransaction).toBe(true);
      expect(executorKey(trx)).toBe(key);
    });
    const controlled = await db.startTransaction().execute();
    try {
      expect(executorKey(controlled)).toBe(key);
    } finally {
      await controlled.rollback().execute();
    }
  });

  it("two databases of the same dialect have different keys", () => {
    expect(executorKey(other)).not.toBe(executorKey(db));
  });
});
