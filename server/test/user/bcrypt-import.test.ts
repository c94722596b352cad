import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { login } from "../support/accounts.js";
import { call, expectError, str } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

const importedPassword = "imported from the old system";

for (const dialect of testDialects()) {
  describe(`users imported with bcrypt hashes [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    async function importUser(id: string, username: string, passwordHash: string): Promise<void> {
      await t.db
        .insertInto("user")
        .values({
          id,
          username,
          email: null,
          email_verified: 0,
          password_hash: passwordHash,
          roles: "",
          locked: 0,
          mfa_enabled: 0,
          mfa_failed_count: 0,
          mfa_window_started_at: null,
          mfa_consecutive_failures: 0,
          mfa_locked_until: null,
          mfa_lockouts: 0,
          created_at: t.clock.now(),
          last_login_at: null,
          previous_login_at: null,
        })
        .execute();
    }
    const storedHash = async (id: string): Promise<string> =>
      (await t.db.selectFrom("user").select("password_hash").where("id", "=", id).executeTakeFirstOrThrow())
        .password_hash;

    it("logs in with the bcrypt password and replaces the hash with argon2id", async () => {
      const hash = bcrypt.hashSync(importedPassword, 4);
      expect(hash).toMatch(/^\$2[aby]\$04\$/);
      await importUser("imported-1", "legacy", hash);
      const res = await login(t.app, "legacy", importedPassword);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(
        (await call(t.app, "GET", "/api/user/me", { token: str(res.body["access_token"]) })).body["username"],
      ).toBe("legacy");
      const after = await storedHash("imported-1");
      expect(after).toMatch(/^\$argon2id\$/);
      // The new hash works, and the same password keeps logging in.
      expect((await login(t.app, "legacy", importedPassword)).status).toBe(200);
      expect(await storedHash("imported-1")).toBe(after);
    });

    it("refuses a wrong password against a bcrypt hash and keeps the hash as it was", async () => {
      const hash = bcrypt.hashSync(importedPassword, 4);
      await importUser("imported-2", "legacy2", hash);
      expectError(await login(t.app, "legacy2", "not the imported password"), 401, "invalid_credentials");
      expect(await storedHash("imported-2")).toBe(hash);
    });

    it("verifies $2b$ and $2y$ variants", async () => {
      const hash = bcrypt.hashSync(importedPassword, 4);
      await importUser("imported-3", "legacy3", hash.replace(/^\$2[ab]\$/, "$2y$"));
      expect((await login(t.app, "legacy3", importedPassword)).status).toBe(200);
      await importUser("imported-4", "legacy4", hash.replace(/^\$2[ay]\$/, "$2b$"));
      expect((await login(t.app, "legacy4", importedPassword)).status).toBe(200);
    });

    it("rehashes an argon2id hash made with older, weaker parameters", async () => {
      const weak = await import("@node-rs/argon2").then((argon2) =>
        argon2.hash(importedPassword, { algorithm: 2, memoryCost: 1024, timeCost: 1, parallelism: 1 }),
      );
      await importUser("imported-5", "weakargon", weak);
      expect((await login(t.app, "weakargon", importedPassword)).status).toBe(200);
      const after = await storedHash("imported-5");
      expect(after).not.toBe(weak);
      const cost = t.config.passwordHash;
      expect(after).toContain(`m=${cost.memoryKiB},t=${cost.iterations},p=${cost.parallelism}`);
    });

    it("refuses a row with an unknown hash format without a 5xx", async () => {
      await importUser("imported-6", "plaintext", importedPassword);
      expectError(await login(t.app, "plaintext", importedPassword), 401, "invalid_credentials");
    });
  });
}
