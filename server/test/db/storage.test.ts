import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/connect.js";
import type { Database } from "../../src/db/database.js";
import { createMigrator, migrateToLatest } from "../../src/db/migrator.js";
import type { UserRow } from "../../src/modules/user/user.repository.js";
import { testDialects } from "../support/dialects.js";

/*
 * The storage conventions of src/db/database.ts, pinned once per dialect (STYLE S10): times are
 * bigint Unix milliseconds read back as JS numbers, booleans are integer 0/1, and single use is a
 * conditional UPDATE whose numUpdatedRows says who won (STYLE S9).
 */

const t0 = 1_701_295_903_123; // 2023-11-29T22:11:43.123Z

function userRow(id: string, overrides: Partial<UserRow> = {}): UserRow {
  return {
    id,
    username: id,
    email: null,
    email_verified: 0,
    password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
    roles: "",
    locked: 0,
    mfa_enabled: 0,
    mfa_failed_count: 0,
    mfa_window_started_at: null,
    mfa_consecutive_failures: 0,
    mfa_locked_until: null,
    mfa_lockouts: 0,
    created_at: t0,
    last_login_at: null,
    previous_login_at: null,
    ...overrides,
  };
}

for (const dialect of testDialects()) {
  describe(`storage conventions [${dialect.name}]`, () => {
    let db: Kysely<Database>;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      const database = await dialect.createDatabase();
      drop = database.drop;
      db = createDb(database.url);
      await migrateToLatest(db);
    });
    afterAll(async () => {
      await db.destroy();
      await drop();
    });

    it("round-trips timestamps as JS numbers of milliseconds, up to Number.MAX_SAFE_INTEGER", async () => {
      const far = 8_640_000_000_000_000; // the last instant a JS Date can hold
      await db
        .insertInto("user")
        .values(
          userRow("times", {
            last_login_at: t0 + 1,
            previous_login_at: far,
            mfa_locked_until: Number.MAX_SAFE_INTEGER,
          }),
        )
        .execute();
      const row = await db.selectFrom("user").selectAll().where("id", "=", "times").executeTakeFirstOrThrow();
      expect(row.created_at).toBe(t0);
      expect(typeof row.created_at).toBe("number");
      expect(row.last_login_at).toBe(t0 + 1);
      expect(row.previous_login_at).toBe(far);
      expect(row.mfa_locked_until).toBe(Number.MAX_SAFE_INTEGER);
      expect(typeof row.mfa_locked_until).toBe("number");
      expect(row.mfa_window_started_at).toBeNull();
    });

    it("compares and orders timestamps numerically", async () => {
      await db
        .insertInto("user")
        .values([userRow("early", { created_at: 999 }), userRow("late", { created_at: 10_000_000_000_000 })])
        .execute();
      const after = await db
        .selectFrom("user")
        .select("id")
        .where("created_at", ">", 1000)
        .orderBy("created_at", "asc")
        .execute();
      expect(after.map((r) => r.id)).toEqual(expect.arrayContaining(["times", "late"]));
      expect(after.map((r) => r.id)).not.toContain("early");
      const ordered = await db.selectFrom("user").select("id").orderBy("created_at", "desc").execute();
      expect(ordered[0]?.id).toBe("late");
    });

    it("stores booleans as integer 0/1 and reads them back as numbers", async () => {
      await db
        .insertInto("user")
        .values(userRow("flags", { email_verified: 1, mfa_enabled: 1, locked: 0 }))
        .execute();
      const row = await db
        .selectFrom("user")
        .select(["email_verified", "mfa_enabled", "locked"])
        .where("id", "=", "flags")
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ email_verified: 1, mfa_enabled: 1, locked: 0 });
      const count = await db.selectFrom("user").select("id").where("mfa_enabled", "=", 1).execute();
      expect(count.map((r) => r.id)).toEqual(["flags"]);
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

    it("fails a duplicate username with a unique-violation code the services recognise", async () => {
      const error = await db
        .insertInto("user")
        .values(userRow("dupe-1", { username: "times" }))
        .execute()
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).not.toBeNull();
      const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
      expect(["SQLITE_CONSTRAINT_UNIQUE", "23505", "ER_DUP_ENTRY"]).toContain(code);
    });

    it("round-trips 4-byte UTF-8 and long text", async () => {
      const userAgent = "Mozilla/5.0 🦄 نص 漢字 \u202e".padEnd(255, "x");
      const publicJwk = JSON.stringify({ x: "y".repeat(5000) });
      await db
        .insertInto("session")
        .values({
          id: "utf8",
          user_id: "times",
          aal: 2,
          amr: "pwd otp",
          created_at: t0,
          last_used_at: t0,
          expires_at: t0,
          revoked_at: null,
          ip: "2001:db8::1",
          user_agent: userAgent,
        })
        .execute();
      await db
        .insertInto("signing_key")
        .values({
          id: "k1",
          algorithm: "EdDSA",
          public_jwk: publicJwk,
          private_jwk_ciphertext: "v1:k:".padEnd(4000, "z"),
          created_at: t0,
        })
        .execute();
      expect(
        (await db.selectFrom("session").select("user_agent").where("id", "=", "utf8").executeTakeFirstOrThrow())
          .user_agent,
      ).toBe(userAgent);
      expect(
        (await db.selectFrom("signing_key").select("public_jwk").where("id", "=", "k1").executeTakeFirstOrThrow())
          .public_jwk,
      ).toBe(publicJwk);
    });

    it("rolls a failed transaction back completely", async () => {
      await expect(
        db.transaction().execute(async (trx) => {
          await trx.insertInto("user").values(userRow("rolled-back")).execute();
          throw new Error("abort");
        }),
      ).rejects.toThrow("abort");
      expect(await db.selectFrom("user").select("id").where("id", "=", "rolled-back").execute()).toEqual([]);
    });

    it("has applied every migration, and migrating again changes nothing", async () => {
      const migrations = await createMigrator(db).getMigrations();
      expect(migrations.length).toBeGreaterThan(0);
      expect(migrations.every((m) => m.executedAt !== undefined)).toBe(true);
      const again = await migrateToLatest(db);
      expect(again.results).toEqual([]);
    });
  });
}
