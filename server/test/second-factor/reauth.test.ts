import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { appOn, type TestApp } from "../support/app.js";
import {
  claimsOf,
  enrolledUser,
  fullLogin,
  login,
  passwordLogin,
  register,
  rememberedLogin,
  setCookieNames,
  strongPassword,
  totpCode,
  uniqueName,
} from "../support/accounts.js";
import { call, expectClientError, expectError, send, str, type Json } from "../support/http.js";
import { authTimeOf, outlive, reauth } from "../support/reauth.js";
import { testDialects } from "../support/dialects.js";

for (const dialect of testDialects()) {
  describe(`POST /api/auth/reauth [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("answers fresh tokens for the same session: same sid, aal and amr, a new auth_time, cookies set", async () => {
      const { accessToken, refreshToken } = await register(t.app, uniqueName("renew"));
      outlive(t);
      const res = await reauth(t, accessToken);
      expect(res.status, res.text).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(["access_token", "expires_in", "refresh_token", "token_type"]);
      const renewed = str(res.body["access_token"]);
      expect(claimsOf(renewed)).toMatchObject({ sid: claimsOf(accessToken).sid, aal: 1, amr: ["pwd"] });
      expect(authTimeOf(renewed)).toBe(Math.floor(t.clock.now() / 1000));
      expect(authTimeOf(renewed) - authTimeOf(accessToken)).toBe(t.config.reauthMaxAgeSeconds + 1);
      expect(str(res.body["refresh_token"])).not.toBe(refreshToken);
      expect(setCookieNames(res)).toEqual(expect.arrayContaining(["tessera_refresh", "tessera_csrf"]));
      // The session row records it, so a later refresh carries it on.
      const refreshed = await call(t.app, "POST", "/api/auth/token/refresh", {
        body: { refresh_token: str(res.body["refresh_token"]) },
      });
      expect(authTimeOf(str(refreshed.body["access_token"]))).toBe(authTimeOf(renewed));
      const events = (await call(t.app, "GET", "/api/user/audit", { token: renewed })).body["events"] as Json[];
      expect(events.map((event) => event["type"])).toContain("reauthenticated");
    });

    it("sets auth_time at every sign-in: password, second factor, and a remembered browser", async () => {
      const name = uniqueName("signins");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      outlive(t);
      const now = (): number => Math.floor(t.clock.now() / 1000);
      const { accessToken } = await fullLogin(t, name, secret);
      expect(authTimeOf(accessToken)).toBe(now());
      outlive(t);
      t.clock.advance(30);
      const { reply, cookie } = await rememberedLogin(t, name, secret);
      expect(authTimeOf(str(reply.body["access_token"]))).toBe(now());
      outlive(t);
      const remembered = await passwordLogin(t.app, name, { tessera_device: cookie });
      expect(authTimeOf(str(remembered.body["access_token"]))).toBe(now());
      const plain = uniqueName("plain");
      await register(t.app, plain);
      outlive(t);
      expect(authTimeOf(str((await login(t.app, plain)).body["access_token"]))).toBe(now());
    });

    it("takes the second factor as code, otp, token or recovery_code; an empty code counts as absent", async () => {
      const { accessToken, secret, recoveryCodes } = await enrolledUser(t.app, t.clock, uniqueName("aliases"));
      const bodies: Json[] = [
        { password: strongPassword, code: totpCode(secret, t.clock) },
        { password: strongPassword, code: "", otp: totpCode(secret, t.clock, 1) },
        { password: strongPassword, token: totpCode(secret, t.clock, 2) },
        { password: strongPassword, recovery_code: recoveryCodes[0] ?? "" },
        { password: strongPassword, code: recoveryCodes[1] ?? "" },
      ];
      for (const body of bodies) {
        t.clock.advance(30);
        const res = await reauth(t, accessToken, body);
        expect(res.status, `${JSON.stringify(Object.keys(body))}: ${res.text}`).toBe(200);
        expect(claimsOf(str(res.body["access_token"]))).toMatchObject({ aal: 2, amr: ["pwd", "otp"] });
      }
    });

    it("answers bad input with 422 and no token with 401, in the error shape", async () => {
      const { accessToken } = await register(t.app, uniqueName("badinput"));
      for (const body of [{}, { password: "" }, { password: 12345678 }, { password: "x".repeat(1025) }, []]) {
        expectError(await reauth(t, accessToken, body as Json), 422, "validation_failed");
      }
      const raw = await send(t.app, {
        method: "POST",
        url: "/api/auth/reauth",
        token: accessToken,
        payload: "{not json",
        headers: { "content-type": "application/json" },
      });
      expectClientError(raw);
      const anonymous = await call(t.app, "POST", "/api/auth/reauth", { body: { password: strongPassword } });
      expectError(anonymous, 401, "unauthorized");
      expect(anonymous.headers["www-authenticate"]).toBe('Bearer realm="tessera"');
    });

    it("is documented in /openapi.json with its operationId, body and token reply", async () => {
      const doc = (await call(t.app, "GET", "/openapi.json")).body;
      const operation = ((doc["paths"] as Json)["/api/auth/reauth"] as Json)["post"] as Json;
      expect(operation["operationId"]).toBe("reauthenticate");
      expect(operation["security"]).toEqual([{ bearer: [] }]);
      const body = JSON.stringify(operation["requestBody"]);
      expect(body).toContain('"password"');
      expect(Object.keys(operation["responses"] as Json)).toEqual(expect.arrayContaining(["200", "401", "422", "429"]));
    });
  });
}

describe("REAUTH_MAX_AGE and TOKEN_AUDIENCE", () => {
  const problems = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };

  it("default to 600 seconds and PUBLIC_URL", () => {
    const config = loadConfig({ PUBLIC_URL: "https://auth.example.org/" });
    expect(config.reauthMaxAgeSeconds).toBe(600);
    expect(config.tokenAudience).toBe("https://auth.example.org");
  });

  it("take any whole number of seconds from 1, and any audience", () => {
    expect(loadConfig({ REAUTH_MAX_AGE: "1" }).reauthMaxAgeSeconds).toBe(1);
    expect(loadConfig({ REAUTH_MAX_AGE: "31536000000" }).reauthMaxAgeSeconds).toBe(31_536_000_000);
    expect(loadConfig({ TOKEN_AUDIENCE: "urn:example:api" }).tokenAudience).toBe("urn:example:api");
  });

  it("name REAUTH_MAX_AGE when it is not a whole number of at least 1", () => {
    for (const value of ["0", "-5", "1.5", "ten", "600s"]) {
      expect(problems({ REAUTH_MAX_AGE: value })).toEqual([
        `REAUTH_MAX_AGE: must be a whole number of at least 1, got "${value}"`,
      ]);
    }
  });
});
