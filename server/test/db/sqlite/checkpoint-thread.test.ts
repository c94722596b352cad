/*
 * The server checkpoints SQLite's WAL on a thread of its own (db/sqlite/checkpoint-thread.ts,
 * workers/sqlite-checkpoint.mjs) instead of inside whichever commit crosses SQLite's threshold; the
 * commits' own threshold is raised to a 40 MB backstop. Pins that the thread keeps up: while about
 * 40 MB of pages go through the WAL, the file never grows past a few megabytes. Were the thread
 * dead, nothing would checkpoint below the backstop and the WAL would hold nearly all of it.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "../../../src/db/connect.js";
import { migrateToLatest } from "../../../src/db/migrator.js";
import { createCheckpointer } from "../../../src/db/sqlite/checkpoint-thread.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-checkpoint-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("SQLite checkpoint thread", () => {
  it("keeps the WAL small while commits continue", async () => {
    const path = join(dir, "tessera.db");
    const db = createDb(`sqlite:${path}`, { checkpointThread: true });
    try {
      await migrateToLatest(db);
      const detail = "x".repeat(4000);
      let largestWal = 0;
      for (let batch = 0; batch < 40; batch++) {
        for (let i = 0; i < 50; i++) {
          await db
            .insertInto("audit_event")
            .values({
              id: `e${batch}-${i}`,
              user_id: null,
              type: "register",
              ip: null,
              user_agent: null,
              detail,
              created_at: batch,
            })
            .execute();
        }
        largestWal = Math.max(largestWal, statSync(`${path}-wal`).size);
        await sleep(60); // the thread runs every 50 ms
      }
      // Each insert commits on its own, so the 2,000 commits put about 40 MB of pages through the WAL
      // (a 4 KB row spills into an overflow page, and the indexes' pages are written again per commit).
      // The file stops growing once the thread has started: a few batches' worth.
      expect(largestWal).toBeLessThan(8_000_000);
      expect(
        await db
          .selectFrom("audit_event")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow(),
      ).toEqual({ n: 2000 });
    } finally {
      await db.destroy();
    }
  });
});

describe("SQLite checkpoint thread, started on demand", () => {
  const threshold = (db: SQLite.Database): number => db.pragma("wal_autocheckpoint", { simple: true }) as number;
  const waitFor = async (done: () => boolean): Promise<void> => {
    for (let i = 0; i < 200 && !done(); i++) await sleep(10);
  };

  it("does not run on an idle database, and the commits keep SQLite's own threshold", () => {
    const path = join(dir, "idle.db");
    const writer = new SQLite(path);
    writer.pragma("journal_mode = WAL");
    const checkpointer = createCheckpointer(path, writer);
    try {
      for (let i = 0; i < 10; i++) checkpointer.noteWrite(); // a few writes: registrations, a purge
      expect(checkpointer.running).toBe(false);
      expect(threshold(writer)).toBe(1000);
    } finally {
      checkpointer.close();
      writer.close();
    }
  });

  it("does not start for the burst of writes right after opening (migrations), only after the quiet time", async () => {
    const path = join(dir, "migrated.db");
    const writer = new SQLite(path);
    writer.pragma("journal_mode = WAL");
    const checkpointer = createCheckpointer(path, writer, { startAfterWrites: 20, quietMs: 300 });
    try {
      for (let i = 0; i < 100; i++) checkpointer.noteWrite(); // a fresh database's migrations
      expect(checkpointer.running).toBe(false);
      expect(threshold(writer)).toBe(1000);
      await sleep(350);
      for (let i = 0; i < 20; i++) checkpointer.noteWrite();
      expect(checkpointer.running).toBe(true);
    } finally {
      checkpointer.close();
      writer.close();
    }
  });

  it("starts once writes come fast, raises the commits' threshold, and stops when they stop", async () => {
    const path = join(dir, "bursty.db");
    const writer = new SQLite(path);
    writer.pragma("journal_mode = WAL");
    const checkpointer = createCheckpointer(path, writer, { startAfterWrites: 20, windowMs: 1000, idleMs: 200 });
    try {
      for (let i = 0; i < 20; i++) checkpointer.noteWrite();
      expect(checkpointer.running).toBe(true);
      expect(threshold(writer)).toBe(10_000);
      await waitFor(() => !checkpointer.running);
      expect(checkpointer.running).toBe(false);
      expect(threshold(writer)).toBe(1000);
      // The next burst starts it again.
      for (let i = 0; i < 20; i++) checkpointer.noteWrite();
      expect(checkpointer.running).toBe(true);
    } finally {
      checkpointer.close();
      writer.close();
    }
    expect(checkpointer.running).toBe(false);
  });

  it("hands checkpoints back to the commits when the thread dies, and does not respawn it at once", async () => {
    const path = join(dir, "missing-dir", "nowhere.db"); // the thread cannot open it and dies
    const writerPath = join(dir, "dying.db");
    const writer = new SQLite(writerPath);
    writer.pragma("journal_mode = WAL");
    const deaths: unknown[] = [];
    const checkpointer = createCheckpointer(path, writer, { startAfterWrites: 5, onDeath: (e) => deaths.push(e) });
    try {
      for (let i = 0; i < 5; i++) checkpointer.noteWrite();
      expect(checkpointer.running).toBe(true);
      await waitFor(() => !checkpointer.running);
      expect(checkpointer.running).toBe(false);
      expect(threshold(writer)).toBe(1000);
      for (let i = 0; i < 50; i++) checkpointer.noteWrite();
      expect(checkpointer.running).toBe(false);
      // Reported once (its "error" and its "exit" are one death), with the reason.
      expect(deaths).toHaveLength(1);
      expect(String(deaths[0])).toMatch(/directory does not exist/);
    } finally {
      checkpointer.close();
      writer.close();
    }
  });
});
