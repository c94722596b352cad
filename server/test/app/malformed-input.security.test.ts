/*
 * Attack: malformed input as a denial-of-service and error-oracle probe. Wrong JSON types, missing
 * and extra fields, broken JSON, huge bodies, foreign content types and hostile Unicode (NUL bytes,
 * lone surrogates, RTL overrides, 10k-character strings, emoji) must each get a 4xx in the
 * `{ error: { code, message } }` shape — never a 5xx, never a crash, never a privilege from an extra
 * field. Hostile strings are in hostile-strings.security.test.ts, a seeded fuzz loop in
 * fuzz.security.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { TestApp } from "../support/app.js";
import { strongPassword } from "../support/accounts.js";
import { expectClientError, expectError, type Json, send } from "../support/http.js";
import { testDialects } from "../support/dialects.js";
import { useAppWithAlice } from "../support/hostile-input.js";
for (const dialect of testDialects()) {
  describe(`malformed input never gets a 5xx [${dialect.name}]`, () => {
    let t: TestApp;
    let token: string;
    useAppWithAlice(dialect, (app, aliceToken) => {
      t = app;
      token = aliceToken;
    });

    const post = (url: string, body: unknown, extra: { token?: string } = {}): ReturnType<typeof send> =>
      send(t.app, { method: "POST", url, body, ...extra });

    it.each([
      ["username as a number", { username: 123, password: strongPassword }],
      ["password as an array", { username: "bob", password: [] }],
      ["password as an object", { username: "bob", password: { $ne: null } }],
      ["enable_mfa as a string", { username: "bob", password: strongPassword, enable_mfa: "yes" }],
      ["enable_mfa as a number", { username: "bob", password: strongPassword, enable_mfa: 1 }],
      ["username null", { username: null, password: strongPassword }],
      ["missing password", { username: "bob" }],
      ["missing username", { password: strongPassword }],
      ["an empty object", {}],
      ["an array body", [{ username: "bob", password: strongPassword }]],
      ["a string body", "bob"],
      ["a number body", 42],
    ])("refuses register with %s: 422 validation_failed", async (_label, body) => {
      expectError(await post("/api/auth/register", body), 422, "validation_failed");
    });

    it.each([
      ["username as a number", { username: 123, password: strongPassword }],
      ["password as an array", { username: "alice", password: [] }],
      ["operator injection", { username: "alice", password: { $gt: "" } }],
      ["missing password", { username: "alice" }],
    ])("refuses login with %s: 422 validation_failed", async (_label, body) => {
      expectError(await post("/api/auth/login", body), 422, "validation_failed");
    });

    it("names the offending field in details", async () => {
      const res = await post("/api/auth/register", { username: 123, password: strongPassword });
      const details = (res.body["error"] as Json)["details"] as Json[];
      expect(details.map((d) => d["field"])).toContain("username");
    });

    it("ignores extra fields: no role, id or flag can be injected at registration", async () => {
      const res = await post("/api/auth/register", {
        username: "sneaky",
        password: strongPassword,
        roles: ["admin"],
        role: "admin",
        id: "chosen-id",
        mfa_enabled: true,
        email_verified: true,
        locked: 0,
        aal: 2,
      });
      expect(res.status, res.text).toBe(201);
      const user = res.body["user"] as Json;
      expect(user).toMatchObject({ username: "sneaky", roles: [], mfa_enabled: false, email_verified: false });
      expect(user["id"]).not.toBe("chosen-id");
      const row = await t.db.selectFrom("user").selectAll().where("username", "=", "sneaky").executeTakeFirstOrThrow();
      expect(row.roles).toBe("");
      expect(row.mfa_enabled).toBe(0);
    });

    it("refuses prototype-pollution payloads with a 4xx and pollutes nothing", async () => {
      for (const payload of [
        `{"username":"proto1","password":"${strongPassword}","__proto__":{"admin":true,"roles":["admin"]}}`,
        `{"username":"proto2","password":"${strongPassword}","constructor":{"prototype":{"admin":true}}}`,
      ]) {
        const res = await send(t.app, {
          method: "POST",
          url: "/api/auth/register",
          payload,
          headers: { "content-type": "application/json" },
        });
        expect(res.status, res.text).toBeLessThan(500);
        if (res.status === 201) expect((res.body["user"] as Json)["roles"]).toEqual([]);
        else expectClientError(res);
      }
      expect(({} as Json)["admin"]).toBeUndefined();
      expect(({} as Json)["roles"]).toBeUndefined();
    });

    it("ignores extra fields on login", async () => {
      const res = await post("/api/auth/login", {
        username: "alice",
        password: strongPassword,
        aal: 2,
        amr: ["otp"],
        mfa: false,
      });
      expect(res.status).toBe(200);
    });

    it.each([
      ["a truncated object", '{"username":"alice"'],
      ["single quotes", "{'username':'alice'}"],
      ["a trailing comma", '{"username":"alice",}'],
      ["garbage", "not json at all"],
      ["a lone NUL", "\u0000"],
      ["a duplicated-key bomb", `{${Array.from({ length: 2000 }, (_, i) => `"username":"${i}"`).join(",")}}`],
      ["deep nesting", `${"[".repeat(5000)}${"]".repeat(5000)}`],
    ])("refuses invalid JSON (%s) with a 4xx validation_failed", async (_label, payload) => {
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/register",
        payload,
        headers: { "content-type": "application/json" },
      });
      expectClientError(res, _label);
      expect((res.body["error"] as Json)["code"]).toBe("validation_failed");
    });

    it("refuses an empty body sent as JSON with 422", async () => {
      for (const url of ["/api/auth/register", "/api/auth/login", "/api/auth/2fa/login"]) {
        expectError(
          await send(t.app, { method: "POST", url, payload: "", headers: { "content-type": "application/json" } }),
          422,
          "validation_failed",
        );
      }
    });

    it("refuses raw invalid UTF-8 in a path segment with a 4xx", async () => {
      for (const segment of ["%ED%A0%80", "%C0%AF", "%FF%FE", "%E0%80", "%"]) {
        expectClientError(
          await send(t.app, { method: "DELETE", url: `/api/auth/sessions/${segment}`, token }),
          segment,
        );
      }
    });

    it("refuses a 1 MB body with 413 payload_too_large", async () => {
      const big = JSON.stringify({ username: "alice", password: "x".repeat(1024 * 1024) });
      for (const url of ["/api/auth/register", "/api/auth/login", "/api/auth/token/refresh"]) {
        expectError(
          await send(t.app, { method: "POST", url, payload: big, headers: { "content-type": "application/json" } }),
          413,
          "payload_too_large",
        );
      }
    });

    it("refuses text/plain and form bodies with 415", async () => {
      const body = JSON.stringify({ username: "alice", password: strongPassword });
      expectError(
        await send(t.app, {
          method: "POST",
          url: "/api/auth/login",
          payload: body,
          headers: { "content-type": "text/plain" },
        }),
        415,
        "unsupported_media_type",
      );
      expectError(
        await send(t.app, {
          method: "POST",
          url: "/api/auth/login",
          payload: "username=alice&password=x",
          headers: { "content-type": "application/x-www-form-urlencoded" },
        }),
        415,
        "unsupported_media_type",
      );
      expectError(
        await send(t.app, {
          method: "POST",
          url: "/api/auth/login",
          payload: body,
          headers: { "content-type": "multipart/form-data; boundary=x" },
        }),
        415,
        "unsupported_media_type",
      );
    });
  });
}
