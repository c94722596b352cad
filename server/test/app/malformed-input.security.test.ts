/*
 * Attack: malformed input as a denial-of-service and error-oracle probe. Wrong JSON types, missing
 * and extra fields, broken JSON, huge bodies, foreign content types and hostile Unicode (NUL bytes,
 * lone surrogates, RTL overrides, 10k-character strings, emoji) must each get a 4xx in the
 * `{ error: { code, message } }` shape — never a 5xx, never a crash, never a privilege from an extra
 * field. A seeded fuzz loop throws 200 random JSON-ish bodies at every POST route (and DELETE /api/user).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { enrolledUser, login, loginToken, register, strongPassword } from "../support/accounts.js";
import { call, expectClientError, expectError, type Json, send, str } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

const hostileStrings: [string, string][] = [
  ["a NUL byte", "ali\u0000ce"],
  ["only NUL bytes", "\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000"],
  ["a lone high surrogate", "alice\ud800"],
  ["a lone low surrogate", "\udc00alice"],
  ["reversed surrogates", "\udc00\ud800\udc00\ud800\udc00\ud800\udc00\ud800"],
  ["an RTL override", "alice\u202egnp.exe"],
  ["zero-width joiners", "al\u200dice\u200b"],
  ["emoji", "🦄🔥💥😀"],
  ["a 10k-character string", "a".repeat(10_000)],
  ["10k emoji", "😀".repeat(10_000)],
  ["combining marks", "a\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301"],
  ["a fullwidth @", "alice＠example.com"],
  ["SQL", "' OR '1'='1' --"],
  ["a BOM", "\ufeffalice"],
  ["control characters", "\u0001\u0002\u0003\u001b[31m\r\n"],
];

/** Deterministic PRNG (mulberry32), so a failing fuzz case replays. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

function fuzzer(seed: number, knownFields: string[]): () => { payload: string; contentType: string } {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const atoms = [
    "",
    " ",
    "0",
    "-1",
    "null",
    "true",
    "123456",
    "000000",
    "alice",
    "alice@example.com",
    strongPassword,
    "AAAA-BBBB-CCCC-DDDD",
    "__proto__",
    "constructor",
    "%00",
    "../../etc/passwd",
    "${jndi:ldap://x}",
    "<script>alert(1)</script>",
    ...hostileStrings.map(([, s]) => s),
  ];
  const randomString = (): string => {
    switch (Math.floor(random() * 4)) {
      case 0:
        return pick(atoms);
      case 1:
        return Array.from({ length: Math.floor(random() * 40) }, () =>
          String.fromCharCode(Math.floor(random() * 0xffff)),
        ).join("");
      case 2:
        return pick(atoms).repeat(1 + Math.floor(random() * 300));
      default:
        return Array.from({ length: Math.floor(random() * 20) }, () =>
          String.fromCodePoint(Math.floor(random() * 0x10ffff) & ~0x800),
        ).join("");
    }
  };
  const value = (depth: number): unknown => {
    switch (Math.floor(random() * (depth > 2 ? 6 : 9))) {
      case 0:
        return null;
      case 1:
        return random() < 0.5;
      case 2:
        return pick([0, -1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2, 123456]);
      case 3:
      case 4:
      case 5:
        return randomString();
      case 6:
        return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      default:
        return object(depth + 1);
    }
  };
  const object = (depth: number): Json => {
    const result: Json = {};
    const count = Math.floor(random() * 5);
    for (let i = 0; i < count; i++)
      result[random() < 0.7 && knownFields.length > 0 ? pick(knownFields) : randomString().slice(0, 20)] = value(depth);
    return result;
  };
  return () => {
    const roll = random();
    if (roll < 0.05) return { payload: randomString(), contentType: "application/json" };
    if (roll < 0.08) return { payload: JSON.stringify(value(0)), contentType: "application/json" };
    if (roll < 0.1) return { payload: JSON.stringify(object(0)).slice(0, -1), contentType: "application/json" };
    if (roll < 0.12)
      return {
        payload: JSON.stringify(object(0)),
        contentType: pick([
          "text/plain",
          "application/x-www-form-urlencoded",
          "application/json; charset=utf-16",
          "application/json; charset=latin1",
        ]),
      };
    return { payload: JSON.stringify(object(0)), contentType: "application/json" };
  };
}

for (const dialect of testDialects()) {
  describe(`malformed input never gets a 5xx [${dialect.name}]`, () => {
    let t: TestApp;
    let token: string;
    beforeAll(async () => {
      t = await appOn(dialect);
      ({ accessToken: token } = await register(t.app, "alice", { email: "alice@example.com" }));
    });
    afterAll(async () => t.close());

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

    it.each(hostileStrings)("answers a username with %s with a 4xx on register and login", async (label, value) => {
      const registered = await post("/api/auth/register", { username: value, password: strongPassword });
      expectClientError(registered, `register ${label}`);
      // 409 where NFKC and trimming fold the value onto "alice" (fullwidth @, BOM), else 422.
      expect([409, 422]).toContain(registered.status);
      const loggedIn = await post("/api/auth/login", { username: value, password: "not the password" });
      expectClientError(loggedIn, `login ${label}`);
      expect([401, 422]).toContain(loggedIn.status);
    });

    it.each(hostileStrings)("answers a password with %s with a 2xx or 4xx, never a 5xx", async (label, value) => {
      const username = `pw${Math.floor(Math.random() * 1e9)}`;
      const registered = await post("/api/auth/register", { username, password: value });
      expect(registered.status, `register ${label}: ${registered.text}`).toBeLessThan(500);
      if (registered.status === 201) {
        // Whatever was accepted must also log in again.
        expect((await post("/api/auth/login", { username, password: value })).status, label).toBe(200);
      } else {
        expectClientError(registered, label);
      }
      const wrong = await post("/api/auth/login", { username: "alice", password: value });
      expectClientError(wrong, label);
      expect([401, 422]).toContain(wrong.status);
    });

    it.each(hostileStrings)(
      "answers an email with %s with a 4xx or a quiet success, never a 5xx",
      async (label, value) => {
        const registered = await post("/api/auth/register", {
          username: `em${Math.floor(Math.random() * 1e9)}`,
          password: strongPassword,
          email: value,
        });
        expect(registered.status, `${label}: ${registered.text}`).toBeLessThan(500);
        expect(
          (await post("/api/auth/login", { username: `${value}@example.com`, password: strongPassword })).status,
          label,
        ).toBeLessThan(500);
      },
    );

    it.each(hostileStrings)("answers hostile tokens and codes (%s) with a 4xx", async (label, value) => {
      expectClientError(await post("/api/auth/token/refresh", { refresh_token: value }), `refresh ${label}`);
      expectClientError(await post("/api/auth/2fa/login", { login_token: value, code: value }), `2fa ${label}`);
      // Percent-encode the UTF-8 bytes by hand: encodeURIComponent throws on lone surrogates.
      const path = [...Buffer.from(value.slice(0, 60), "utf8")]
        .map((byte) => `%${byte.toString(16).padStart(2, "0")}`)
        .join("");
      expectClientError(
        await send(t.app, { method: "DELETE", url: `/api/auth/sessions/${path}`, token }),
        `sessions ${label}`,
      );
      const me = await send(t.app, {
        method: "GET",
        url: "/api/user/me",
        headers: { authorization: `Bearer ${value}`.replace(/[\r\n]/g, "") },
      });
      expect(me.status, label).toBe(401);
    });

    it("answers hostile codes inside a real login challenge with a 4xx", async () => {
      const { secret } = await enrolledUser(t.app, t.clock, "coded");
      expect(secret).toBeTruthy();
      for (const [label, value] of hostileStrings) {
        const challenge = await loginToken(t.app, "coded");
        expectClientError(
          await post("/api/auth/2fa/login", { login_token: challenge, code: value.slice(0, 64) }),
          label,
        );
        expectClientError(
          await post("/api/auth/2fa/login", { login_token: challenge, recovery_code: value.slice(0, 64) }),
          label,
        );
        await t.app.services.lockout.reset(
          (await t.db.selectFrom("user").select("id").where("username", "=", "coded").executeTakeFirstOrThrow()).id,
        );
      }
    });

    it("survives 200 random bodies on every POST route (and DELETE /api/user) without a 5xx", async () => {
      const spec = t.app.swagger() as {
        paths: Record<
          string,
          Record<
            string,
            { requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> } }
          >
        >;
      };
      const routes: { method: "POST" | "DELETE"; url: string; fields: string[] }[] = [];
      for (const [path, operations] of Object.entries(spec.paths)) {
        for (const [method, operation] of Object.entries(operations)) {
          if (method !== "post" && !(method === "delete" && path === "/api/user")) continue;
          const fields = Object.keys(operation.requestBody?.content?.["application/json"]?.schema?.properties ?? {});
          routes.push({
            method: method === "post" ? "POST" : "DELETE",
            url: path.replace("{id}", "some-user-id"),
            fields,
          });
        }
      }
      expect(routes.map((r) => r.url)).toEqual(
        expect.arrayContaining([
          "/api/auth/register",
          "/api/auth/login",
          "/api/auth/2fa/login",
          "/api/auth/token/refresh",
          "/api/auth/logout",
          "/api/user/password",
        ]),
      );
      await register(t.app, "fuzzed");
      let fuzzToken = str((await login(t.app, "fuzzed")).body["access_token"]);
      const failures: string[] = [];
      for (const [index, route] of routes.entries()) {
        const next = fuzzer(0x7e55e7a + index, route.fields);
        for (let i = 0; i < 200; i++) {
          const { payload, contentType } = next();
          const withToken = i % 2 === 0;
          const res = await send(t.app, {
            method: route.method,
            url: route.url,
            payload,
            headers: { "content-type": contentType },
            ...(withToken ? { token: fuzzToken } : {}),
          });
          // A 202 answers JSON `null`: no body to look into.
          if (res.status >= 500 || ((res.body as Json | null)?.["error"] === undefined && res.status >= 400))
            failures.push(
              `${route.method} ${route.url} #${i} -> ${res.status} ${res.text.slice(0, 120)} :: ${payload.slice(0, 200)}`,
            );
          if (withToken && res.status === 401 && route.url === "/api/auth/logout") {
            fuzzToken = str((await login(t.app, "fuzzed")).body["access_token"]);
          }
          if (res.status === 204 && route.url === "/api/auth/logout")
            fuzzToken = str((await login(t.app, "fuzzed")).body["access_token"]);
        }
      }
      expect(failures, failures.slice(0, 10).join("\n")).toEqual([]);
      // Still serving, and the accounts are intact.
      expect((await post("/api/auth/login", { username: "alice", password: strongPassword })).status).toBe(200);
      expect((await call(t.app, "GET", "/healthz")).status).toBe(200);
    });
  });
}
