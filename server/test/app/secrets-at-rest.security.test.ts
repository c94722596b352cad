/*
 * Attack: a stolen copy of the database. Whoever holds every row (a backup, a replica, SQL injection
 * elsewhere) must not be able to log anyone in: no plaintext or fast-hashed password, refresh and
 * login tokens and recovery codes only as SHA-256, TOTP secrets and signing keys only as AES-256-GCM
 * ciphertext bound to their row (AAD), under a key that is not in the database. Also pins that the
 * encryption key rotates: old ciphertexts are read under a key list, re-encrypted, and the old key
 * can then be dropped.
 */
import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aadFor, createKeyring, parseSecretKeys } from "../../src/crypto/encryption.js";
import { decodeBase32 } from "../../src/otp/base32.js";
import { appOn, buildTestApp, type TestApp } from "../support/app.js";
import { enrolledUser, login, loginToken, register, strongPassword, totpCode } from "../support/accounts.js";
import { dumpDatabase } from "../support/database.js";
import { call, expectError, str } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

const sha256Hex = (value: string): string => createHash("sha256").update(value).digest("hex");
const oldKey = randomBytes(32).toString("base64");
const newKey = randomBytes(32).toString("base64");

for (const dialect of testDialects()) {
  describe(`the database alone logs nobody in [${dialect.name}]`, () => {
    let t: TestApp;
    let alice: Awaited<ReturnType<typeof enrolledUser>>;
    const secrets: string[] = [];
    beforeAll(async () => {
      t = await appOn(dialect, { secretKey: `old:${oldKey}` });
      alice = await enrolledUser(t.app, t.clock, "alice");
      const challenge = await loginToken(t.app, "alice");
      const second = await call(t.app, "POST", "/api/auth/2fa/login", {
        body: { login_token: challenge, code: totpCode(alice.secret, t.clock) },
      });
      expect(second.status).toBe(200);
      // A pending challenge stays in the table.
      const pending = await loginToken(t.app, "alice");
      secrets.push(
        strongPassword,
        alice.secret,
        alice.accessToken,
        alice.refreshToken,
        ...alice.recoveryCodes,
        challenge,
        pending,
        str(second.body["access_token"]),
        str(second.body["refresh_token"]),
      );
    });
    afterAll(async () => t.close());

    it("stores no secret in plaintext anywhere", async () => {
      const dump = await dumpDatabase(t.db);
      const raw = Buffer.from(decodeBase32(alice.secret));
      for (const value of [...secrets, raw.toString("hex"), raw.toString("base64"), raw.toString("base64url")]) {
        expect(dump, `a secret is in the database: ${value.slice(0, 12)}…`).not.toContain(value);
      }
      for (const code of alice.recoveryCodes) expect(dump).not.toContain(code.replaceAll("-", ""));
    });

    it("stores the password as argon2id only", async () => {
      const row = await t.db
        .selectFrom("user")
        .select("password_hash")
        .where("username", "=", "alice")
        .executeTakeFirstOrThrow();
      expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    });

    it("stores refresh tokens, login tokens and recovery codes as SHA-256 hex only", async () => {
      const refresh = await t.db.selectFrom("refresh_token").select("token_hash").execute();
      expect(refresh.length).toBeGreaterThan(0);
      for (const row of refresh) expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(refresh.map((r) => r.token_hash)).toContain(sha256Hex(alice.refreshToken));
      const challenges = await t.db.selectFrom("login_challenge").select("token_hash").execute();
      for (const row of challenges) expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
      const codes = await t.db.selectFrom("recovery_code").select("code_hash").execute();
      expect(codes).toHaveLength(10);
      for (const row of codes) expect(row.code_hash).toMatch(/^[0-9a-f]{64}$/);
    });

    it("stores the TOTP secret as v1:<keyid>: AES-GCM ciphertext, and the signing keys too", async () => {
      const totp = await t.db.selectFrom("totp_credential").selectAll().where("user_id", "=", alice.userId).execute();
      expect(totp).toHaveLength(1);
      const ciphertext = totp[0]?.secret_ciphertext ?? "";
      expect(ciphertext).toMatch(/^v1:old:[A-Za-z0-9_-]+$/);
      expect(ciphertext).not.toContain(alice.secret);
      // 12-byte IV + 20-byte secret + 16-byte tag.
      expect(Buffer.from(ciphertext.split(":")[2] ?? "", "base64url")).toHaveLength(48);
      for (const key of await t.db.selectFrom("signing_key").selectAll().execute()) {
        expect(key.private_jwk_ciphertext).toMatch(/^v1:old:/);
        expect(key.private_jwk_ciphertext).not.toContain('"d"');
        expect(JSON.parse(key.public_jwk)).not.toHaveProperty("d");
      }
    });

    it("does not log in with anything read from the tables", async () => {
      const user = await t.db
        .selectFrom("user")
        .select("password_hash")
        .where("username", "=", "alice")
        .executeTakeFirstOrThrow();
      expectError(await login(t.app, "alice", user.password_hash), 401, "invalid_credentials");
      for (const row of await t.db.selectFrom("refresh_token").select("token_hash").execute()) {
        expectError(
          await call(t.app, "POST", "/api/auth/token/refresh", { body: { refresh_token: row.token_hash } }),
          401,
          "unauthorized",
        );
      }
      for (const row of await t.db.selectFrom("login_challenge").select("token_hash").execute()) {
        expectError(
          await call(t.app, "POST", "/api/auth/2fa/login", {
            body: { login_token: row.token_hash, code: totpCode(alice.secret, t.clock) },
          }),
          401,
          "login_token_expired",
        );
      }
      const pending = await loginToken(t.app, "alice");
      for (const row of await t.db.selectFrom("recovery_code").select("code_hash").limit(3).execute()) {
        const res = await call(t.app, "POST", "/api/auth/2fa/login", {
          body: { login_token: pending, recovery_code: row.code_hash },
        });
        expect(res.status, JSON.stringify(res.body)).not.toBe(200);
      }
      const ciphertext = (
        await t.db.selectFrom("totp_credential").select("secret_ciphertext").executeTakeFirstOrThrow()
      ).secret_ciphertext;
      const fresh = await loginToken(t.app, "alice");
      expect(
        (await call(t.app, "POST", "/api/auth/2fa/login", { body: { login_token: fresh, code: ciphertext.slice(-6) } }))
          .status,
      ).not.toBe(200);
      // The lockout these guesses built up is not what this test is about.
      await t.app.services.lockout.reset(alice.userId);
    });

    it("cannot decrypt a TOTP secret under a different key with the same key id", async () => {
      const row = await t.db
        .selectFrom("totp_credential")
        .selectAll()
        .where("user_id", "=", alice.userId)
        .executeTakeFirstOrThrow();
      const aad = aadFor("totp_credential", "secret_ciphertext", row.id);
      const right = createKeyring(parseSecretKeys(`old:${oldKey}`));
      expect(
        Buffer.from(right.decrypt(row.secret_ciphertext, aad)).equals(Buffer.from(decodeBase32(alice.secret))),
      ).toBe(true);
      const wrong = createKeyring([{ id: "old", key: randomBytes(32) }]);
      expect(() => wrong.decrypt(row.secret_ciphertext, aad)).toThrow();
      const unknownId = createKeyring(parseSecretKeys(`other:${oldKey}`));
      expect(() => unknownId.decrypt(row.secret_ciphertext, aad)).toThrow(/unknown key id/);
    });

    it("binds each ciphertext to its row: one user's secret copied to another row does not decrypt", async () => {
      t.clock.advance(30);
      const bob = await enrolledUser(t.app, t.clock, "bob");
      const aliceRow = await t.db
        .selectFrom("totp_credential")
        .selectAll()
        .where("user_id", "=", alice.userId)
        .executeTakeFirstOrThrow();
      const bobRow = await t.db
        .selectFrom("totp_credential")
        .selectAll()
        .where("user_id", "=", bob.userId)
        .executeTakeFirstOrThrow();
      const keyring = createKeyring(parseSecretKeys(`old:${oldKey}`));
      expect(() =>
        keyring.decrypt(aliceRow.secret_ciphertext, aadFor("totp_credential", "secret_ciphertext", bobRow.id)),
      ).toThrow();
      // Same through the API: bob's row now holds alice's ciphertext, and alice's codes do not open bob's account.
      await t.db
        .updateTable("totp_credential")
        .set({ secret_ciphertext: aliceRow.secret_ciphertext })
        .where("id", "=", bobRow.id)
        .execute();
      try {
        const res = await call(t.app, "POST", "/api/auth/2fa/login", {
          body: { login_token: await loginToken(t.app, "bob"), code: totpCode(alice.secret, t.clock) },
        });
        expect(res.status, JSON.stringify(res.body)).not.toBe(200);
        expect(res.body["access_token"]).toBeUndefined();
        // A row the server cannot decrypt is an integrity failure (500 today), never a success, and the
        // reply names no internals.
        expect(JSON.stringify(res.body)).not.toMatch(/decrypt|auth(entication)? tag|aes|gcm/i);
      } finally {
        await t.db
          .updateTable("totp_credential")
          .set({ secret_ciphertext: bobRow.secret_ciphertext })
          .where("id", "=", bobRow.id)
          .execute();
      }
    });

    it("rotates TESSERA_SECRET_KEY: reads old ciphertexts, re-encrypts them, then needs only the new key", async () => {
      t.clock.advance(60);
      // Step 1: the new key first, the old one still listed.
      const both = await buildTestApp({
        databaseUrl: t.databaseUrl,
        secretKey: `new:${newKey},old:${oldKey}`,
        clock: t.clock,
      });
      try {
        const res = await call(both.app, "POST", "/api/auth/2fa/login", {
          body: { login_token: await loginToken(both.app, "alice"), code: totpCode(alice.secret, t.clock) },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect((await call(both.app, "GET", "/api/user/me", { token: alice.accessToken })).status).toBe(200);
        // Step 2: `tessera keys reencrypt`.
        expect(await both.app.services.tokens.reencrypt()).toBeGreaterThanOrEqual(1);
        expect(await both.app.services.totp.reencrypt()).toBeGreaterThanOrEqual(2);
        expect(await both.app.services.totp.reencrypt()).toBe(0);
      } finally {
        await both.app.close();
        await both.db.destroy();
      }
      for (const row of await t.db.selectFrom("totp_credential").select("secret_ciphertext").execute())
        expect(row.secret_ciphertext).toMatch(/^v1:new:/);
      for (const row of await t.db.selectFrom("signing_key").select("private_jwk_ciphertext").execute())
        expect(row.private_jwk_ciphertext).toMatch(/^v1:new:/);

      // Step 3: the old key is gone from the configuration.
      t.clock.advance(30);
      const only = await buildTestApp({ databaseUrl: t.databaseUrl, secretKey: `new:${newKey}`, clock: t.clock });
      try {
        const res = await call(only.app, "POST", "/api/auth/2fa/login", {
          body: { login_token: await loginToken(only.app, "alice"), code: totpCode(alice.secret, t.clock) },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(
          (await call(only.app, "GET", "/api/user/me", { token: str(res.body["access_token"]) })).body["mfa_enabled"],
        ).toBe(true);
        // Tokens signed before the rotation still verify: the signing key itself was only re-wrapped.
        expect((await call(only.app, "GET", "/api/user/me", { token: alice.accessToken })).status).toBe(200);
        expect((await register(only.app, "after-rotation")).accessToken).toBeTypeOf("string");
      } finally {
        await only.app.close();
        await only.db.destroy();
      }
    });
  });
}
