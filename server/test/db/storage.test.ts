/*
 * The storage conventions of src/db/database.ts, pinned once per dialect (STYLE S10): times are
 * bigint Unix milliseconds read back as JS numbers, booleans are integer 0/1, and single use is a
 * conditional UPDATE whose numUpdatedRows says who won (STYLE S9, single-use.test.ts).
 */
import type { Kysely } from "kysely";
import { describe, expect, it } from "vitest";
import type { Database } from "../../src/db/database.js";
import { createMigrator, migrateToLatest } from "../../src/db/migrator.js";
import { useDatabase, t0, userRow } from "../support/database.js";
import { testDialects } from "../support/dialects.js";

for (const dialect of testDialects()) {
  describe(`storage conventions [${dialect.name}]`, () => {
    let db: Kysely<Database>;
    useDatabase(dialect, (migrated) => {
      db = migrated;
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
          auth_time: t0,
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
