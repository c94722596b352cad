import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, testEpochSeconds, type TestApp } from "../support/app.js";
import { strongPassword } from "../support/accounts.js";
import { call, expectError, type Json } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

for (const dialect of testDialects()) {
  describe(`POST /api/auth/register [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    const registerAs = (body: Json): ReturnType<typeof call> => call(t.app, "POST", "/api/auth/register", { body });

    it("creates the account and answers 201 with the user and a token pair", async () => {
      const res = await registerAs({ username: "alice", password: strongPassword, email: "Alice@Example.com" });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual([
        "access_token",
        "expires_in",
        "refresh_token",
        "token_type",
        "user",
      ]);
      expect(res.body["token_type"]).toBe("Bearer");
      expect(res.body["expires_in"]).toBe(900);
      expect(String(res.body["access_token"]).split(".")).toHaveLength(3);
      // ≥ 256 random bits, base64url: at least 43 characters.
      expect(String(res.body["refresh_token"])).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      const user = res.body["user"] as Json;
      expect(Object.keys(user).sort()).toEqual([
        "created_at",
        "email",
        "email_verified",
        "id",
        "last_login_at",
        "mfa_enabled",
        "previous_login_at",
        "roles",
        "username",
      ]);
      expect(user).toMatchObject({
        username: "alice",
        email: "alice@example.com",
        email_verified: false,
        mfa_enabled: false,
        created_at: new Date(testEpochSeconds * 1000).toISOString(),
        previous_login_at: null,
        roles: [],
      });
      expect(typeof user["id"]).toBe("string");
      const me = await call(t.app, "GET", "/api/user/me", { token: String(res.body["access_token"]) });
      expect(me.status).toBe(200);
      expect(me.body["id"]).toBe(user["id"]);
    });

    it("carries mfa_setup when enable_mfa is true, without turning two-factor on yet", async () => {
      const res = await registerAs({ username: "mfa-at-signup", password: strongPassword, enable_mfa: true });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      const setup = res.body["mfa_setup"] as Json;
      expect(String(setup["secret"])).toMatch(/^[A-Z2-7]{32}$/);
      expect(String(setup["otpauth_url"])).toMatch(/^otpauth:\/\/totp\/Tessera:mfa-at-signup\?/);
      expect(String(setup["qr_png"])).toMatch(/^data:image\/png;base64,/);
      expect((res.body["user"] as Json)["mfa_enabled"]).toBe(false);
    });

    it("refuses a taken username with 409 user_exists", async () => {
      await registerAs({ username: "carol", password: strongPassword });
      expectError(await registerAs({ username: "carol", password: "another good passphrase" }), 409, "user_exists");
    });

    it.each([
      ["upper case", "Carol"],
      ["surrounding spaces", "  carol "],
      ["fullwidth letters (NFKC)", "ｃａｒｏｌ"],
      ["fullwidth upper case (NFKC)", "ＣＡＲＯＬ"],
    ])("treats %s as the same username: 409 user_exists", async (_label, username) => {
      expectError(await registerAs({ username, password: strongPassword }), 409, "user_exists");
    });

    it("stores an NFKC variant under its normal form, so the plain spelling logs in", async () => {
      const res = await registerAs({ username: "ｄａｖｅ", password: strongPassword });
      expect(res.status).toBe(201);
      expect((res.body["user"] as Json)["username"]).toBe("dave");
      expect(
        (await call(t.app, "POST", "/api/auth/login", { body: { username: "Dave", password: strongPassword } })).status,
      ).toBe(200);
    });

    it.each([
      ["a very common password", "password123"],
      ["a common password in another case", "PASSWORD123"],
      ["a keyboard walk", "qwertyuiop"],
    ])("refuses %s with 422 validation_failed and a reason in details", async (_label, password) => {
      const res = await registerAs({ username: "weakling", password });
      expectError(res, 422, "validation_failed");
      const details = (res.body["error"] as Json)["details"] as Json[];
      expect(details).toEqual([
        expect.objectContaining({ field: "password", message: expect.stringMatching(/common/) }),
      ]);
    });

    it("refuses the username as the password", async () => {
      const res = await registerAs({ username: "frankenstein", password: "Frankenstein" });
      expectError(res, 422, "validation_failed");
      expect(JSON.stringify(res.body)).toMatch(/username/);
    });

    it("refuses a 7-character password and accepts an 8-character one", async () => {
      const short = await registerAs({ username: "shorty", password: "zq8#Lm2" });
      expectError(short, 422, "validation_failed");
      expect(JSON.stringify(short.body)).toMatch(/at least 8/);
      expect((await registerAs({ username: "shorty", password: "zq8#Lm2v" })).status).toBe(201);
    });

    it("counts password length in characters after NFKC, not UTF-16 units", async () => {
      // Four astral emoji are 8 UTF-16 units but 4 characters: too short.
      expectError(await registerAs({ username: "emoji-pw", password: "🔐🔑🗝🛡" }), 422, "validation_failed");
    });

    it("refuses a 257-character password and accepts a 256-character one", async () => {
      const long = await registerAs({ username: "longpass", password: "x7Q!".repeat(64) + "y" });
      expectError(long, 422, "validation_failed");
      expect(JSON.stringify(long.body)).toMatch(/at most 256/);
      expect((await registerAs({ username: "longpass", password: "x7Q!".repeat(64) })).status).toBe(201);
    });

    it("refuses an empty password at the schema", async () => {
      expectError(await registerAs({ username: "nopass", password: "" }), 422, "validation_failed");
    });

    it.each([
      ["too short", "ab"],
      ["a space inside", "al ice"],
      ["markup", "<script>"],
      ["a leading dot", ".alice"],
      ["an emoji", "ali😀ce"],
      ["65 characters", "a".repeat(65)],
      ["empty", ""],
    ])("refuses a username that is %s with 422 validation_failed", async (_label, username) => {
      const res = await registerAs({ username, password: strongPassword });
      expectError(res, 422, "validation_failed");
      expect(JSON.stringify(res.body)).toMatch(/username/);
    });

    it("refuses an invalid email address with 422", async () => {
      expectError(
        await registerAs({ username: "bademail", password: strongPassword, email: "not-an-email" }),
        422,
        "validation_failed",
      );
    });

    it("lets exactly one of several parallel registrations of one username win; the others get 409", async () => {
      const variants = ["racer", "Racer", "RACER", "ｒａｃｅｒ", " racer "];
      const results = await Promise.all(variants.map((username) => registerAs({ username, password: strongPassword })));
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
      for (const res of results.filter((r) => r.status === 409)) expectError(res, 409, "user_exists");
      expect(await t.db.selectFrom("user").select("id").where("username", "=", "racer").execute()).toHaveLength(1);
    });

    it("records a register event in the user's audit log", async () => {
      const res = await registerAs({ username: "audited", password: strongPassword });
      const rows = await t.db
        .selectFrom("audit_event")
        .selectAll()
        .where("user_id", "=", String((res.body["user"] as Json)["id"]))
        .execute();
      expect(rows.map((row) => row.type)).toContain("register");
    });

    it("documents both 201 replies in /openapi.json: signed in, or verification_required without tokens", async () => {
      const doc = (await call(t.app, "GET", "/openapi.json")).body as Json;
      const register = ((doc["paths"] as Json)["/api/auth/register"] as Json)["post"] as Json;
      const created = JSON.stringify((register["responses"] as Json)["201"]);
      expect(created).toContain("access_token");
      expect(created).toContain('"required":["user","verification_required"]');
      expect(created).toMatch(/"verification_required":\{[^}]*"enum":\[true\]/);
    });
  });
}
