/*
 * db/pipeline.ts: statements sent ahead inside a transaction (PostgreSQL sends them without waiting
 * for the reply of the one before; SQLite and MySQL run them as usual). Pins that sending ahead never
 * commits what awaiting each statement would not have: a failure sent ahead rolls the whole
 * transaction back, its caller hears the cause (not "current transaction is aborted") from the next
 * statement it awaits or from COMMIT, and a reply taken later is the statement's own.
 */
import type { Kysely } from "kysely";
import { describe, expect, it } from "vitest";
import type { Database } from "../../src/db/database.js";
import { affectedRows } from "../../src/db/prepared.js";
import { testDialects } from "../support/dialects.js";
import { eventsOfType, insertEvent, renameType, useDatabase } from "../support/database.js";

const event = (id: string, type: string) => ({
  id,
  user_id: null,
  type,
  ip: null,
  user_agent: null,
  detail: null,
  created_at: 1,
});

const uniqueViolation = /duplicate|unique/i;

for (const dialect of testDialects()) {
  describe(`statements sent ahead [${dialect.name}]`, () => {
    let db: Kysely<Database>;
    useDatabase(dialect, (bound) => (db = bound));
    const ids = async (type: string) => (await eventsOfType.execute(db, { type })).rows.map((row) => row.id);

    it("commits what was sent ahead with the transaction, and runs it at once outside one", async () => {
      await insertEvent.send(db, event("out-1", "outside"));
      expect(await ids("outside")).toEqual(["out-1"]);
      await db.transaction().execute(async (trx) => {
        await insertEvent.send(trx, event("in-1", "inside"));
        await insertEvent.send(trx, event("in-2", "inside"));
      });
      expect(await ids("inside")).toEqual(["in-1", "in-2"]);
    });

    it("a failure sent ahead is heard from the next awaited statement, with its cause; nothing commits", async () => {
      await insertEvent.execute(db, event("dup-1", "taken"));
      const run = db.transaction().execute(async (trx) => {
        await insertEvent.send(trx, event("kept-1", "rolled-back"));
        // The same id again: a unique violation, sent ahead.
        await insertEvent.send(trx, event("dup-1", "rolled-back"));
        await insertEvent.send(trx, event("kept-2", "rolled-back"));
        await renameType.execute(trx, { from: "nothing", to: "nothing-else" });
      });
      await expect(run).rejects.toThrow(uniqueViolation);
      expect(await ids("rolled-back")).toEqual([]);
      expect(await ids("taken")).toEqual(["dup-1"]);
    });

    it("a failure sent ahead as the last statement is heard at COMMIT, which commits nothing", async () => {
      await insertEvent.execute(db, event("dup-2", "taken-2"));
      const run = db.transaction().execute(async (trx) => {
        await insertEvent.send(trx, event("kept-3", "rolled-back-2"));
        await insertEvent.send(trx, event("dup-2", "rolled-back-2"));
      });
      await expect(run).rejects.toThrow(uniqueViolation);
      expect(await ids("rolled-back-2")).toEqual([]);
    });

    it("a caller that goes on after a failed statement: PostgreSQL commits nothing, the others the rest", async () => {
      await insertEvent.execute(db, event("dup-4", "taken-4"));
      const run = db.transaction().execute(async (trx) => {
        await insertEvent.send(trx, event("kept-4", "swallowed"));
        await insertEvent.execute(trx, event("dup-4", "swallowed")).catch(() => undefined);
      });
      if (dialect.name === "postgres") {
        // The failure aborted PostgreSQL's transaction: COMMIT is refused, not turned silently into a ROLLBACK.
        await expect(run).rejects.toThrow(uniqueViolation);
        expect(await ids("swallowed")).toEqual([]);
      } else {
        // SQLite and MySQL undo the failed statement only.
        await run;
        expect(await ids("swallowed")).toEqual(["kept-4"]);
      }
    });

    it("a reply taken later is the statement's own, and behind a failure it tells the cause", async () => {
      await insertEvent.execute(db, event("r-1", "to-rename"));
      await insertEvent.execute(db, event("dup-3", "taken-3"));
      let renamed = -1n;
      let behind: unknown;
      const run = db.transaction().execute(async (trx) => {
        const first = renameType.sendForReply(trx, { from: "to-rename", to: "renamed" });
        const none = renameType.sendForReply(trx, { from: "no-such-type", to: "x" });
        renamed = affectedRows(await first);
        expect(affectedRows(await none)).toBe(0n);
        await insertEvent.send(trx, event("dup-3", "x"));
        const after = renameType.sendForReply(trx, { from: "renamed", to: "renamed-again" });
        behind = await after.catch((error: unknown) => error);
      });
      await expect(run).rejects.toThrow(uniqueViolation);
      expect(renamed).toBe(1n);
      // On SQLite and MySQL the duplicate fails at once and nothing is sent behind it.
      if (dialect.name === "postgres") expect(String(behind)).toMatch(uniqueViolation);
      expect(await ids("to-rename")).toEqual(["r-1"]);
    });
  });
}
