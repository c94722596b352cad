import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { enrolledUser, loginToken, register, secondFactorLogin, uniqueName, wrongCode } from "../support/accounts.js";
import { call, send, type Json, type Reply } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

/*
 * RFC 6750 §3: every 401 names the Bearer scheme and the realm; when a bearer token was presented and
 * refused it adds error="invalid_token" and a description that carries nothing of the token. Other
 * statuses carry no challenge.
 */
const plain = 'Bearer realm="tessera"';
const invalidToken =
  'Bearer realm="tessera", error="invalid_token", error_description="The access token is invalid, expired or revoked"';

const challengeOf = (res: Reply): unknown => res.headers["www-authenticate"];

for (const dialect of testDialects()) {
  describe(`WWW-Authenticate on 401 [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("answers a request without a token with the realm only", async () => {
      const res = await call(t.app, "GET", "/api/user/me");
      expect(res.status).toBe(401);
      expect(challengeOf(res)).toBe(plain);
      const basic = await call(t.app, "GET", "/api/user/me", { headers: { authorization: "Basic YTpi" } });
      expect(challengeOf(basic)).toBe(plain);
    });

    it("says invalid_token for a token presented and refused: garbage, malformed, expired, revoked", async () => {
      const { accessToken } = await register(t.app, uniqueName("challenged"));
      const refused: string[] = ["Bearer abc.def.ghi", "Bearer !!!", "Bearer ", `Bearer ${accessToken}x`];
      for (const authorization of refused) {
        const res = await call(t.app, "GET", "/api/user/me", { headers: { authorization } });
        expect(res.status, authorization).toBe(401);
        expect(challengeOf(res), authorization).toBe(invalidToken);
      }
      expect((await call(t.app, "POST", "/api/auth/logout", { token: accessToken })).status).toBe(204);
      const revoked = await call(t.app, "GET", "/api/user/me", { token: accessToken });
      expect(challengeOf(revoked)).toBe(invalidToken);
      const { accessToken: expiring } = await register(t.app, uniqueName("expiring"));
      t.clock.advance(t.config.accessTokenTtlSeconds + 1);
      expect(challengeOf(await call(t.app, "GET", "/api/user/me", { token: expiring }))).toBe(invalidToken);
    });

    it("carries the realm on every other 401: wrong password, wrong code, dead refresh token", async () => {
      const name = uniqueName("others");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const wrongPassword = await call(t.app, "POST", "/api/auth/login", {
        body: { username: name, password: "nope nope nope" },
      });
      const wrongOtp = await secondFactorLogin(t.app, {
        login_token: await loginToken(t.app, name),
        code: wrongCode(secret, t.clock),
      });
      const deadRefresh = await call(t.app, "POST", "/api/auth/token/refresh", {
        body: { refresh_token: "not-a-token" },
      });
      for (const res of [wrongPassword, wrongOtp, deadRefresh]) {
        expect(res.status).toBe(401);
        expect(challengeOf(res)).toBe(plain);
      }
    });

    it("answers every bearer route of the OpenAPI document with a challenge when called without a token", async () => {
      const doc = (await call(t.app, "GET", "/openapi.json")).body;
      const statuses: string[] = [];
      for (const [path, operations] of Object.entries(doc["paths"] as Record<string, Record<string, Json>>)) {
        for (const [method, operation] of Object.entries(operations)) {
          if (!JSON.stringify(operation["security"] ?? []).includes("bearer")) continue;
          const url = path.replace(/\{\w+\}/g, "some-id");
          const res = await send(t.app, { method: method.toUpperCase() as "GET" | "POST" | "DELETE", url });
          statuses.push(`${method} ${path} ${res.status}`);
          if (res.status === 401) expect(challengeOf(res), `${method} ${path}`).toBe(plain);
        }
      }
      // Routes with a required body answer 422 before the guard; the others answer 401.
      expect(statuses.filter((line) => line.endsWith(" 401")).length, statuses.join("\n")).toBeGreaterThanOrEqual(10);
    });

    it("puts no challenge on answers that are not 401", async () => {
      const { accessToken } = await register(t.app, uniqueName("nolink"));
      const forbidden = await call(t.app, "POST", "/api/user/delete-request", { token: accessToken });
      expect(forbidden.status).toBe(403);
      expect(challengeOf(forbidden)).toBeUndefined();
      const invalid = await call(t.app, "POST", "/api/auth/login", { body: { username: "" } });
      expect(invalid.status).toBe(422);
      expect(challengeOf(invalid)).toBeUndefined();
      const ok = await call(t.app, "GET", "/healthz");
      expect(challengeOf(ok)).toBeUndefined();
    });
  });
}
