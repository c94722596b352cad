import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  claimsOf,
  deviceCookieOf,
  expectChallenge,
  expectTokens,
  enrolledUser,
  fullLogin,
  loginToken,
  passwordLogin,
  rememberedLogin,
  strongPassword,
  totpCode,
  uniqueName,
} from "../support/accounts.js";
import { secondFactorRows } from "../support/database.js";
import { call, expectError, type Json, send, str } from "../support/http.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
/*
 * Attack: forging or keeping a "remember this device" cookie. The cookie lets a password login skip
 * the code, so an attacker tries a tampered or unsigned value, another user's cookie, or a cookie
 * the user revoked, that expired, or that predates turning two-factor off and on again. Pins SPEC §2
 * "remember_device: true sets a signed, httpOnly device cookie (TRUSTED_DEVICE_DAYS, 30; 0 turns the
 * feature off) … revocable, and all revoked by a password change or reset and by disabling 2FA".
 */

for (const dialect of testDialects()) {
  describe(`trusted devices [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    it("sets a signed, httpOnly, SameSite=Strict device cookie for 30 days on remember_device", async () => {
      const name = uniqueName("cookie");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const { reply, cookie } = await rememberedLogin(t, name, secret);
      const set = reply.raw.cookies.find((c) => c.name === "tessera_device");
      expect(set).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/api/auth", maxAge: 30 * 24 * 60 * 60 });
      // @fastify/cookie signs as "value.signature".
      expect(cookie).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9+/_-]+$/);
    });

    it("sets no device cookie without remember_device", async () => {
      const name = uniqueName("no-remember");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/2fa/login",
        payload: { login_token: await loginToken(t.app, name), code: totpCode(secret, t.clock) },
      });
      expect(res.status).toBe(200);
      expect(deviceCookieOf(res)).toBeUndefined();
    });

    it("skips the code on a later password login from the remembered device", async () => {
      const name = uniqueName("skip");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const { cookie } = await rememberedLogin(t, name, secret);
      const access = expectTokens(await passwordLogin(t.app, name, { tessera_device: cookie }));
      expect(claimsOf(access)).toMatchObject({ aal: 2, amr: ["pwd", "device"] });
      expect((await call(t.app, "GET", "/api/user/me", { token: access })).status).toBe(200);
      // The cookie never replaces the password.
      const wrong = await send(t.app, {
        method: "POST",
        url: "/api/auth/login",
        payload: { username: name, password: "not the password" },
        cookies: { tessera_device: cookie },
      });
      expectError(wrong, 401, "invalid_credentials");
    });

    it("lists the device with the sessions, and asks for the code again once it is revoked", async () => {
      const name = uniqueName("revoke");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const { reply, cookie } = await rememberedLogin(t, name, secret);
      const token = str(reply.body["access_token"]);
      const list = await call(t.app, "GET", "/api/auth/sessions", { token });
      expect(list.status).toBe(200);
      const devices = list.body["trusted_devices"] as Json[];
      expect(devices).toHaveLength(1);
      const id = str(devices[0]?.["id"]);
      expect(JSON.stringify(list.body)).not.toContain(cookie.split(".")[0]);

      expect((await call(t.app, "DELETE", `/api/auth/trusted-devices/${id}`, { token })).status).toBe(204);
      expect((await call(t.app, "GET", "/api/auth/sessions", { token })).body["trusted_devices"]).toEqual([]);
      // Both ends of a device's trust are in the user's audit log.
      const types = ((await call(t.app, "GET", "/api/user/audit", { token })).body["events"] as Json[]).map(
        (e) => e["type"],
      );
      expect(types).toEqual(expect.arrayContaining(["trusted_device_added", "trusted_device_revoked"]));
      expectChallenge(await passwordLogin(t.app, name, { tessera_device: cookie }));
      expectError(await call(t.app, "DELETE", `/api/auth/trusted-devices/${id}`, { token }), 404, "not_found");
    });

    it("does not let one user revoke another user's trusted device", async () => {
      const owner = uniqueName("owner");
      const { secret } = await enrolledUser(t.app, t.clock, owner);
      const { reply, cookie } = await rememberedLogin(t, owner, secret);
      const id = str(
        (
          (await call(t.app, "GET", "/api/auth/sessions", { token: str(reply.body["access_token"]) })).body[
            "trusted_devices"
          ] as Json[]
        )[0]?.["id"],
      );
      const other = uniqueName("other");
      const { secret: otherSecret } = await enrolledUser(t.app, t.clock, other);
      const { accessToken } = await fullLogin(t, other, otherSecret);
      expectError(
        await call(t.app, "DELETE", `/api/auth/trusted-devices/${id}`, { token: accessToken }),
        404,
        "not_found",
      );
      expectTokens(await passwordLogin(t.app, owner, { tessera_device: cookie }));
    });

    it("asks for the code when the device cookie is tampered with, unsigned, or belongs to another user", async () => {
      const name = uniqueName("tamper");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const { cookie } = await rememberedLogin(t, name, secret);
      const [value = "", signature = ""] = cookie.split(".");
      const flip = (s: string, i: number): string => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
      const forged = {
        "a changed token": `${flip(value, 5)}.${signature}`,
        "a changed signature": `${value}.${flip(signature, 3)}`,
        "no signature": value,
        "an empty signature": `${value}.`,
        "an empty value": "",
        garbage: "%%%.%%%",
      };
      for (const [label, forgedCookie] of Object.entries(forged)) {
        const res = await passwordLogin(t.app, name, { tessera_device: forgedCookie });
        expect(res.body, label).toMatchObject({ mfa_required: true });
      }
      const other = uniqueName("tamper-other");
      await enrolledUser(t.app, t.clock, other);
      expectChallenge(await passwordLogin(t.app, other, { tessera_device: cookie }));
      // The genuine cookie still works: the forgeries did not revoke it.
      expectTokens(await passwordLogin(t.app, name, { tessera_device: cookie }));
    });

    it("stops trusting the device after TRUSTED_DEVICE_DAYS", async () => {
      const name = uniqueName("expiry");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const { cookie } = await rememberedLogin(t, name, secret);
      t.clock.advance(30 * 24 * 60 * 60 - 60);
      expectTokens(await passwordLogin(t.app, name, { tessera_device: cookie }));
      t.clock.advance(60);
      expectChallenge(await passwordLogin(t.app, name, { tessera_device: cookie }));
    });

    it("revokes every trusted device when two-factor is turned off, also once it is on again", async () => {
      const name = uniqueName("disable");
      const { secret, userId } = await enrolledUser(t.app, t.clock, name);
      const first = await rememberedLogin(t, name, secret);
      t.clock.advance(30);
      const second = await rememberedLogin(t, name, secret);
      expect((await secondFactorRows(t, userId)).activeDevices).toBe(2);
      t.clock.advance(30);
      const token = str(second.reply.body["access_token"]);
      expect(
        (
          await call(t.app, "POST", "/api/auth/2fa/disable", {
            token,
            body: { password: strongPassword, code: totpCode(secret, t.clock) },
          })
        ).status,
      ).toBe(200);
      expect((await secondFactorRows(t, userId)).activeDevices).toBe(0);

      // Turn two-factor on again: the old cookies must not skip the new second factor.
      const setup = await call(t.app, "POST", "/api/auth/2fa/setup", { token });
      const newSecret = str(setup.body["secret"]);
      expect(
        (
          await call(t.app, "POST", "/api/auth/2fa/verify-setup", {
            token,
            body: { code: totpCode(newSecret, t.clock) },
          })
        ).status,
      ).toBe(200);
      for (const { cookie } of [first, second])
        expectChallenge(await passwordLogin(t.app, name, { tessera_device: cookie }));
    });

    it("revokes every trusted device when the password is changed", async () => {
      const name = uniqueName("password");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      const { reply, cookie } = await rememberedLogin(t, name, secret);
      t.clock.advance(30);
      const res = await call(t.app, "POST", "/api/user/password", {
        token: str(reply.body["access_token"]),
        body: {
          current_password: strongPassword,
          new_password: "a different long passphrase",
          code: totpCode(secret, t.clock),
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(204);
      const after = await send(t.app, {
        method: "POST",
        url: "/api/auth/login",
        payload: { username: name, password: "a different long passphrase" },
        cookies: { tessera_device: cookie },
      });
      expectChallenge(after);
    });
  });

  describe(`trusted devices turned off with TRUSTED_DEVICE_DAYS=0 [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect, { env: { TRUSTED_DEVICE_DAYS: "0" } });
    });
    afterAll(async () => t.close());

    it("sets no device cookie and keeps asking for the code", async () => {
      const name = uniqueName("off");
      const { secret, userId } = await enrolledUser(t.app, t.clock, name);
      const res = await send(t.app, {
        method: "POST",
        url: "/api/auth/2fa/login",
        payload: { login_token: await loginToken(t.app, name), code: totpCode(secret, t.clock), remember_device: true },
      });
      expect(res.status).toBe(200);
      expect(deviceCookieOf(res)).toBeUndefined();
      expect((await secondFactorRows(t, userId)).activeDevices).toBe(0);
      expectChallenge(await passwordLogin(t.app, name));
    });
  });
}
