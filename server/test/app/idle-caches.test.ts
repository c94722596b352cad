/*
 * A long-idle server empties the caches that only save time (main.ts runs `forgetIdleCaches` before the
 * compaction that drops compiled code; idle memory, SPEC §5): the verified access tokens and the imported
 * passkey keys. Emptied, they change nothing a client sees: a token is verified again and still accepted,
 * a revoked one is still refused, a passkey signs in again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { forgetIdleCaches } from "../../src/app.js";
import { forgetImportedKeys } from "../../src/modules/second-factor/passkey/assertion.js";
import { loginToken, register, uniqueName } from "../support/accounts.js";
import { appOn, type TestApp } from "../support/app.js";
import { sqliteDialect } from "../support/dialects.js";
import { call, expectError, str, type Json } from "../support/http.js";
import { passkeyStep, passkeyUser, secondFactorOptions } from "../support/passkeys.js";

describe("idle caches", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await appOn(sqliteDialect);
  });
  afterAll(async () => t.close());

  it("verified tokens are forgotten, then verified again: the token works, a revoked one fails", async () => {
    const { accessToken, refreshToken } = await register(t.app, uniqueName("idle"));
    expect((await call(t.app, "GET", "/api/user/me", { token: accessToken })).status).toBe(200);
    expect(forgetIdleCaches(t.app)).toBe(1);
    expect(t.app.services.tokens.forgetVerified()).toBe(0);

    expect((await call(t.app, "GET", "/api/user/me", { token: accessToken })).status).toBe(200);
    expect(t.app.services.tokens.forgetVerified()).toBe(1);
    const logout = await call(t.app, "POST", "/api/auth/logout", {
      token: accessToken,
      body: { refresh_token: refreshToken },
    });
    expect(logout.status, JSON.stringify(logout.body)).toBeLessThan(300);
    expectError(await call(t.app, "GET", "/api/user/me", { token: accessToken }), 401, "unauthorized");
  });

  it("imported passkey keys are forgotten, then imported again: the passkey still signs in", async () => {
    const name = uniqueName("idle-key");
    const { authenticator } = await passkeyUser(t, name);
    const signIn = async (): Promise<number> => {
      const token = await loginToken(t.app, name);
      const res = await passkeyStep(t, token, authenticator.get(await secondFactorOptions(t, token)) as Json);
      expect(str(res.body["access_token"]).length).toBeGreaterThan(0);
      return res.status;
    };
    expect(await signIn()).toBe(200);
    t.app.services.tokens.forgetVerified();
    // The one passkey's key, imported by the sign-in.
    expect(forgetIdleCaches(t.app)).toBe(1);
    expect(forgetImportedKeys()).toBe(0);
    expect(await signIn()).toBe(200);
    expect(forgetImportedKeys()).toBe(1);
  });
});
