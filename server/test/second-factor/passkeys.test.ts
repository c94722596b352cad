import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  claimsOf,
  enrolledUser,
  login,
  loginToken,
  register,
  strongPassword,
  uniqueName,
} from "../support/accounts.js";
import { appOn, type TestApp } from "../support/app.js";
import { SoftAuthenticator } from "../support/authenticator.js";
import { testDialects } from "../support/dialects.js";
import { call, expectError, str, type Json } from "../support/http.js";
import {
  addPasskey,
  noticeRecorder,
  passkeyStep,
  passkeyUser,
  passwordlessLogin,
  passwordlessOptions,
  secondFactorOptions,
} from "../support/passkeys.js";
import { outlive, reauth } from "../support/reauth.js";

/* Passkeys (SPEC "Passkeys") end to end through the routes, with a software authenticator, on every dialect. */

for (const dialect of testDialects()) {
  describe(`passkeys [${dialect.name}]`, () => {
    let t: TestApp;
    const { notices, notifier } = noticeRecorder();
    beforeAll(async () => {
      t = await appOn(dialect, { notifier });
    });
    afterAll(async () => t.close());
    const noticesOf = (username: string): string[] => notices.filter((n) => n.username === username).map((n) => n.kind);

    it("a first passkey turns two-factor on: recovery codes, an aal-2 hwk session, other sessions end", async () => {
      const name = uniqueName("first");
      const { accessToken } = await register(t.app, name);
      const other = await login(t.app, name);
      const res = await addPasskey(t, accessToken, new SoftAuthenticator(), "My laptop");
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body["mfa_enabled"]).toBe(true);
      expect(res.body["recovery_codes"]).toHaveLength(10);
      const passkey = res.body["passkey"] as Json;
      expect(passkey["name"]).toBe("My laptop");
      expect(passkey["transports"]).toEqual(["internal"]);
      expect(passkey["last_used_at"]).toBeNull();
      expect(claimsOf(str(res.body["access_token"]))).toMatchObject({ aal: 2, amr: ["pwd", "hwk"] });
      // The sessions from before are gone; the new one works.
      expectError(await call(t.app, "GET", "/api/user/me", { token: accessToken }), 401, "unauthorized");
      expectError(
        await call(t.app, "GET", "/api/user/me", { token: str(other.body["access_token"]) }),
        401,
        "unauthorized",
      );
      const me = await call(t.app, "GET", "/api/user/me", { token: str(res.body["access_token"]) });
      expect(me.body["mfa_enabled"]).toBe(true);
      expect(noticesOf(name)).toEqual(["passkey_added", "second_factor_enabled"]);
    });

    it("a second passkey is only added: no new recovery codes, no new session", async () => {
      const name = uniqueName("second");
      const { accessToken } = await passkeyUser(t, name);
      t.clock.advance(1);
      const res = await addPasskey(t, accessToken, new SoftAuthenticator(), "Phone");
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body["recovery_codes"]).toBeUndefined();
      expect(res.body["access_token"]).toBeUndefined();
      const list = await call(t.app, "GET", "/api/auth/passkeys", { token: accessToken });
      expect((list.body["passkeys"] as Json[]).map((p) => p["name"])).toEqual(["Laptop", "Phone"]);
    });

    it("lists, renames and shows when a passkey was last used", async () => {
      const name = uniqueName("rename");
      const { accessToken, passkeyId, authenticator } = await passkeyUser(t, name);
      const renamed = await send(accessToken, "PATCH", `/api/auth/passkeys/${passkeyId}`, { name: "Work key" });
      expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
      expect(renamed.body["name"]).toBe("Work key");
      expectError(await send(accessToken, "PATCH", "/api/auth/passkeys/nope", { name: "x" }), 404, "not_found");
      const token = await loginToken(t.app, name);
      const step = await passkeyStep(t, token, authenticator.get(await secondFactorOptions(t, token)) as Json);
      expect(step.status, JSON.stringify(step.body)).toBe(200);
      const list = await call(t.app, "GET", "/api/auth/passkeys", { token: accessToken });
      const [only] = list.body["passkeys"] as Json[];
      expect(only?.["name"]).toBe("Work key");
      expect(only?.["last_used_at"]).toBe(new Date(t.clock.now()).toISOString());
    });

    it("login replies list webauthn; a passkey finishes the login with amr pwd+hwk, aal 2", async () => {
      const name = uniqueName("second-step");
      const { authenticator } = await passkeyUser(t, name);
      const first = await login(t.app, name);
      expect(first.body["methods"]).toEqual(["recovery_code", "webauthn"]);
      const token = str(first.body["login_token"]);
      const options = await secondFactorOptions(t, token);
      expect(options["allowCredentials"]).toHaveLength(1);
      const res = await passkeyStep(t, token, authenticator.get(options) as Json);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(claimsOf(str(res.body["access_token"]))).toMatchObject({ aal: 2, amr: ["pwd", "hwk"] });
    });

    it("an account with TOTP and a passkey lists both methods", async () => {
      const name = uniqueName("both");
      const { accessToken } = await enrolledUser(t.app, t.clock, name);
      expect((await addPasskey(t, accessToken, new SoftAuthenticator())).status).toBe(200);
      expect((await login(t.app, name)).body["methods"]).toEqual(["totp", "recovery_code", "webauthn"]);
    });

    it("signs in with a passkey alone: user verification required, amr hwk+user, aal 2", async () => {
      const name = uniqueName("passwordless");
      const { authenticator, userId } = await passkeyUser(t, name);
      const options = await passwordlessOptions(t);
      expect(options["userVerification"]).toBe("required");
      expect(options["allowCredentials"] ?? []).toEqual([]);
      const res = await passwordlessLogin(t, authenticator.get(options) as Json);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(claimsOf(str(res.body["access_token"]))).toMatchObject({ sub: userId, aal: 2, amr: ["hwk", "user"] });
      expect((res.body["user"] as Json)["username"]).toBe(name);
    });

    it("adding and removing a passkey need a recent sign-in", async () => {
      const name = uniqueName("recent");
      const { accessToken, passkeyId } = await passkeyUser(t, name);
      outlive(t);
      expectError(
        await call(t.app, "POST", "/api/auth/passkeys/register/options", { token: accessToken }),
        401,
        "reauth_required",
      );
      expectError(
        await call(t.app, "DELETE", `/api/auth/passkeys/${passkeyId}`, { token: accessToken }),
        401,
        "reauth_required",
      );
    });

    it("re-authenticates with the password and a passkey", async () => {
      const name = uniqueName("reauth");
      const { accessToken, authenticator, passkeyId } = await passkeyUser(t, name);
      outlive(t);
      const options = await call(t.app, "POST", "/api/auth/passkeys/reauth/options", { token: accessToken });
      expect(options.status).toBe(200);
      const fresh = await reauth(t, accessToken, {
        password: strongPassword,
        webauthn: authenticator.get(options.body as never) as Json,
      });
      expect(fresh.status, JSON.stringify(fresh.body)).toBe(200);
      const removed = await call(t.app, "DELETE", `/api/auth/passkeys/${passkeyId}`, {
        token: str(fresh.body["access_token"]),
      });
      expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    });

    it("removing one of two passkeys keeps two-factor on; removing the last turns it off as disable does", async () => {
      const name = uniqueName("remove");
      const { accessToken, passkeyId, userId } = await passkeyUser(t, name);
      const second = await addPasskey(t, accessToken, new SoftAuthenticator(), "Spare");
      const spareId = str((second.body["passkey"] as Json)["id"]);
      const removed = await call(t.app, "DELETE", `/api/auth/passkeys/${passkeyId}`, { token: accessToken });
      expect(removed.body).toEqual({ mfa_enabled: true });
      const last = await call(t.app, "DELETE", `/api/auth/passkeys/${spareId}`, { token: accessToken });
      expect(last.body).toEqual({ mfa_enabled: false });
      expect(noticesOf(name).slice(-3)).toEqual(["passkey_removed", "passkey_removed", "second_factor_disabled"]);
      const me = await call(t.app, "GET", "/api/user/me", { token: accessToken });
      expect(me.body["mfa_enabled"]).toBe(false);
      expect(await t.db.selectFrom("recovery_code").select("id").where("user_id", "=", userId).execute()).toEqual([]);
      // A password now signs in alone.
      expect((await login(t.app, name)).body["access_token"]).toBeDefined();
    });

    it("an admin's reset removes every passkey", async () => {
      const name = uniqueName("reset");
      const { userId } = await passkeyUser(t, name);
      await t.app.services.enrollment.resetByAdmin(userId, { ip: null, userAgent: null } as never);
      expect(await t.db.selectFrom("passkey").select("id").where("user_id", "=", userId).execute()).toEqual([]);
    });

    async function send(token: string, method: "PATCH", url: string, body: Json) {
      const res = await t.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, payload: body });
      return { status: res.statusCode, body: res.json() as Json };
    }
  });
}
