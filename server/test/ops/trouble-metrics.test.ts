/*
 * Trouble that no request answers for is still logged and counted in /metrics (SPEC "Staying up"):
 * the SQLite checkpoint thread dying, and the mail outbox worker failing. (Pooled connections killed
 * on PostgreSQL and MySQL: test/db/outage.test.ts.)
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/connect.js";
import { migrateToLatest } from "../../src/db/migrator.js";
import { buildTestApp, type TestApp } from "../support/app.js";
import { send } from "../support/http.js";
import { eventually } from "../support/server-process.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** An app on a SQLite file reached through a symbolic link the test can point elsewhere. */
async function appBehindLink(lines: string[]): Promise<{ t: TestApp; pointTo(target: "real" | "nowhere"): void }> {
  const base = mkdtempSync(join(tmpdir(), "tessera-trouble-"));
  dirs.push(base);
  mkdirSync(join(base, "real"));
  const link = join(base, "link");
  const pointTo = (target: "real" | "nowhere"): void => {
    rmSync(link, { force: true });
    symlinkSync(join(base, target), link);
  };
  pointTo("real");
  // Migrated beforehand: the migrations' burst of writes would start the checkpoint thread (on the
  // good path) before the test can point the link elsewhere.
  const url = `sqlite:${join(link, "tessera.db")}`;
  const plain = createDb(url);
  await migrateToLatest(plain);
  await plain.destroy();
  const t = await buildTestApp({
    databaseUrl: url,
    checkpointThread: true,
    logger: { level: "info", stream: { write: (line) => void lines.push(line) } },
  });
  return { t, pointTo };
}

const metrics = async (t: TestApp): Promise<string> => {
  const res = await send(t.app, { method: "GET", url: "/metrics", remoteAddress: "127.0.0.1" });
  expect(res.status).toBe(200);
  return res.text;
};

const writeAudit = async (t: TestApp, count: number, prefix: string): Promise<void> => {
  for (let i = 0; i < count; i++)
    await t.db
      .insertInto("audit_event")
      .values({
        id: `${prefix}-${i}`,
        user_id: null,
        type: "x",
        ip: null,
        user_agent: null,
        detail: null,
        created_at: 0,
      })
      .execute();
};

describe("trouble no request sees, in /metrics and the log", () => {
  it("the SQLite checkpoint thread's death is logged and counted, and the database keeps writing", async () => {
    const lines: string[] = [];
    const { t, pointTo } = await appBehindLink(lines);
    try {
      expect(await metrics(t)).toMatch(/^tessera_sqlite_checkpoint_thread_deaths_total 0$/m);
      // The writer has its file open; the thread, started once writes come fast, opens the path anew
      // and finds no directory there, so it dies.
      pointTo("nowhere");
      await writeAudit(t, 100, "burst");
      await eventually(
        async () => (/^tessera_sqlite_checkpoint_thread_deaths_total 1$/m.test(await metrics(t)) ? true : undefined),
        10_000,
        "the death to be counted",
      );
      expect(lines.filter((line) => line.includes("SQLite checkpoint thread died")).length).toBe(1);
      // Not respawned at once (and not counted again) while writes go on; the commits checkpoint.
      await writeAudit(t, 100, "after");
      expect(await metrics(t)).toMatch(/^tessera_sqlite_checkpoint_thread_deaths_total 1$/m);
      const { n } = await t.db
        .selectFrom("audit_event")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("type", "=", "x")
        .executeTakeFirstOrThrow();
      expect(Number(n)).toBe(200);
    } finally {
      pointTo("real");
      await t.close();
    }
  });

  it("an outbox worker pass that fails is logged and counted, and /metrics still answers", async () => {
    const lines: string[] = [];
    const { t } = await appBehindLink(lines);
    try {
      expect(await metrics(t)).toMatch(/^tessera_mail_outbox_worker_errors_total 0$/m);
      // The outbox table gone from under the worker: its next poll (every second) fails.
      await sql`alter table mail_outbox rename to mail_outbox_away`.execute(t.db);
      try {
        const text = await eventually(
          async () => {
            const body = await metrics(t);
            return /^tessera_mail_outbox_worker_errors_total [1-9]/m.test(body) ? body : undefined;
          },
          10_000,
          "the failed pass to be counted",
        );
        expect(text).toMatch(/^tessera_mail_outbox_queued nan$/im);
        expect(lines.some((line) => line.includes("mail outbox worker pass failed"))).toBe(true);
      } finally {
        await sql`alter table mail_outbox_away rename to mail_outbox`.execute(t.db);
      }
      await eventually(
        async () => (/^tessera_mail_outbox_queued 0$/m.test(await metrics(t)) ? true : undefined),
        5_000,
        "the outbox to be readable again",
      );
    } finally {
      await t.close();
    }
  });
});
