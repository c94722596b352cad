/*
 * Single use on every dialect (STYLE S9): a conditional UPDATE whose numUpdatedRows says who won,
 * also among parallel callers, is what consumes codes, links, refresh tokens and TOTP steps.
 */
import type { Kysely } from "kysely";
import { describe, expect, it } from "vitest";
import type { Database } from "../../src/db/database.js";
import { useDatabase, t0 } from "../support/database.js";
import { testDialects } from "../support/dialects.js";

for (const dialect of testDialects()) {
  describe(`single use by conditional UPDATE [${dialect.name}]`, () => {
    let db: Kysely<Database>;
    useDatabase(dialect, (migrated) => {
      db = migrated;
    });

    it("reports numUpdatedRows 1 for the first conditional UPDATE and 0 for the second (single use)", async () => {
      await db
        .insertInto("refresh_token")
        .values({ token_hash: "a".repeat(64), session_id: "s1", created_at: t0, used_at: null })
        .execute();
      const consume = async (now: number): Promise<bigint> =>
        (
          await db
            .updateTable("refresh_token")
            .set({ used_at: now })
            .where("token_hash", "=", "a".repeat(64))
            .where("used_at", "is", null)
            .executeTakeFirst()
        ).numUpdatedRows;
      expect(await consume(t0 + 1)).toBe(1n);
      expect(await consume(t0 + 2)).toBe(0n);
      const row = await db.selectFrom("refresh_token").select("used_at").executeTakeFirstOrThrow();
      expect(row.used_at).toBe(t0 + 1);
    });

    it("lets exactly one of many parallel conditional UPDATEs win", async () => {
      await db
        .insertInto("refresh_token")
        .values({ token_hash: "b".repeat(64), session_id: "s2", created_at: t0, used_at: null })
        .execute();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          db
            .updateTable("refresh_token")
            .set({ used_at: t0 + i })
            .where("token_hash", "=", "b".repeat(64))
            .where("used_at", "is", null)
            .executeTakeFirst(),
        ),
      );
      expect(results.filter((r) => r.numUpdatedRows === 1n)).toHaveLength(1);
      expect(results.filter((r) => r.numUpdatedRows === 0n)).toHaveLength(7);
    });

    it("moves a TOTP replay marker only forward: 1, then 0 for the same step, then 1 for a later one", async () => {
      await db
        .insertInto("totp_credential")
        .values({
          id: "c1",
          user_id: "times",
          secret_ciphertext: "v1:k:x",
          confirmed_at: t0,
          expires_at: null,
          last_used_step: -1,
          created_at: t0,
        })
        .execute();
      const consumeStep = async (step: number): Promise<bigint> =>
        (
          await db
            .updateTable("totp_credential")
            .set({ last_used_step: step })
            .where("id", "=", "c1")
            .where("last_used_step", "<", step)
            .executeTakeFirst()
        ).numUpdatedRows;
      const step = Math.floor(t0 / 1000 / 30);
      expect(await consumeStep(step)).toBe(1n);
      expect(await consumeStep(step)).toBe(0n);
      expect(await consumeStep(step - 1)).toBe(0n);
      expect(await consumeStep(step + 1)).toBe(1n);
      const row = await db
        .selectFrom("totp_credential")
        .select("last_used_step")
        .where("id", "=", "c1")
        .executeTakeFirstOrThrow();
      expect(row.last_used_step).toBe(step + 1);
    });

    it("reports 0 rows for an UPDATE that matches nothing, and counts every matched row", async () => {
      const none = await db
        .updateTable("session")
        .set({ revoked_at: t0 })
        .where("user_id", "=", "nobody")
        .executeTakeFirst();
      expect(none.numUpdatedRows).toBe(0n);
      await db
        .insertInto("session")
        .values(
          ["x1", "x2", "x3"].map((id) => ({
            id,
            user_id: "times",
            aal: 1,
            amr: "pwd",
            created_at: t0,
            auth_time: t0,
            last_used_at: t0,
            expires_at: t0 + 1000,
            revoked_at: null,
            ip: null,
            user_agent: null,
          })),
        )
        .execute();
      const all = await db
        .updateTable("session")
        .set({ revoked_at: t0 })
        .where("user_id", "=", "times")
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      expect(all.numUpdatedRows).toBe(3n);
    });
  });
}
