/*
 * releaseIdleDbMemory (db/connect.ts; db/sqlite/connect.ts on SQLite): the quiet-time release of the
 * connections' page caches (main.ts runs it after a heap compaction) never disturbs a statement in flight
 * and leaves the data readable.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, dropIdleDbStatements, releaseIdleDbMemory } from "../../../src/db/connect.js";
import { migrateToLatest } from "../../../src/db/migrator.js";
import { sqliteReader } from "../../../src/db/sqlite/read-cache.js";
import { withStatementCache } from "../../../src/db/sqlite/statement-cache.js";
import SQLite from "better-sqlite3";
import { insertEvent } from "../../support/database.js";

describe("releasing a SQLite database's page caches when quiet", () => {
  let dir: string;
  let db: ReturnType<typeof createDb>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-release-"));
    db = createDb(`sqlite:${join(dir, "t.db")}`);
    await migrateToLatest(db);
    for (let i = 0; i < 50; i++) {
      const row = { id: `e${i}`, user_id: null, type: "login_succeeded", ip: null, user_agent: null, detail: null };
      await insertEvent.execute(db, { ...row, created_at: i });
    }
  });
  afterAll(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const count = async () =>
    Number(
      (
        await db
          .selectFrom("audit_event")
          .select((eb) => eb.fn.countAll().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it("leaves every row readable through both connections", async () => {
    expect(await count()).toBe(50);
    releaseIdleDbMemory(db);
    expect(await count()).toBe(50);
    const reader = sqliteReader(db)?.connection;
    expect(reader?.prepare("select count(*) as n from audit_event").get()).toEqual({ n: 50 });
  });

  it("a connection busy with a statement is passed over, and its statement carries on", async () => {
    const reader = sqliteReader(db)?.connection;
    if (reader === undefined) throw new Error("a SQLite file has a reader");
    const rows = reader.prepare("select id from audit_event").iterate();
    expect(rows.next().done).toBe(false);
    expect(() => releaseIdleDbMemory(db)).not.toThrow();
    let rest = 0;
    for (const _ of rows) rest++;
    expect(rest).toBe(49);
    expect(await count()).toBe(50);
  });

  it("dropping an idle server's cached statements: the next queries prepare them again and read the same", async () => {
    const before = await db.selectFrom("audit_event").select("id").where("created_at", "<", 10).execute();
    dropIdleDbStatements(db);
    await insertEvent.execute(db, {
      id: "e-after",
      user_id: null,
      type: "login_succeeded",
      ip: null,
      user_agent: null,
      detail: null,
      created_at: 1,
    });
    const after = await db.selectFrom("audit_event").select("id").where("created_at", "<", 10).execute();
    expect(after.map((row) => row.id).sort()).toEqual([...before.map((row) => row.id), "e-after"].sort());
    await db.deleteFrom("audit_event").where("id", "=", "e-after").execute();
  });

  it("the statement cache prepares a statement once, and again once forgotten; one in use still runs", () => {
    const sqlite = new SQLite(":memory:");
    try {
      const cache = withStatementCache(
        sqlite,
        null,
        () => undefined,
        () => undefined,
      );
      const first = cache.prepare("select 1 as one");
      expect(cache.prepare("select 1 as one")).toBe(first);
      cache.forgetStatements();
      const again = cache.prepare("select 1 as one");
      expect(again).not.toBe(first);
      expect(first.all([])).toEqual([{ one: 1 }]);
      expect(again.all([])).toEqual([{ one: 1 }]);
    } finally {
      sqlite.close();
    }
  });

  it("does nothing for a database that is not a SQLite file this process opened", () => {
    const memory = createDb("sqlite::memory:");
    expect(() => releaseIdleDbMemory(memory)).not.toThrow();
    expect(() => dropIdleDbStatements(memory)).not.toThrow();
    return memory.destroy();
  });
});
