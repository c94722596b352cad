/*
 * Attack: secrets harvested from logs. Logs are shipped to aggregators, kept for months and read by
 * many more people than the database (the seeds printed OTP secrets and passwords). Running every
 * flow with a debug-level logger and no redaction, the captured log text must contain no password,
 * access or refresh token, login token, TOTP secret, TOTP code, recovery code, cookie or secret key.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.js";
import { appOn, type TestApp } from "../support/app.js";
import { enrolledUser, login, loginToken, register, strongPassword, totpCode } from "../support/accounts.js";
import { call, type Json, send, str } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

for (const dialect of testDialects()) {
  describe(`logs never contain secrets [${dialect.name}]`, () => {
    let t: TestApp;
    const lines: string[] = [];
    const secrets = new Map<string, string>();
    const remember = (label: string, value: unknown): string => {
      const text = str(value);
      secrets.set(label, text);
      return text;
    };
    beforeAll(async () => {
      t = await appOn(dialect, {
        logger: { level: "debug", stream: { write: (line: string) => void lines.push(line) } },
      });
    });
    afterAll(async () => t.close());

    it("logs a failed statement's error without its SQL text or values (mysql2 puts them in err.sql)", () => {
      const captured: string[] = [];
      const log = createLogger("error", { write: (line: string) => void captured.push(line) });
      const failure = Object.assign(new Error("Deadlock found when trying to get lock"), {
        code: "ER_LOCK_DEADLOCK",
        sql: "insert into `refresh_token` values ('hash-of-a-refresh-token', 'session-id')",
        sqlMessage: "Deadlock found when trying to get lock",
        parameters: ["hash-of-a-refresh-token"],
      });
      log.error({ err: failure }, "request failed");
      expect(captured).toHaveLength(1);
      expect(captured[0]).toContain("Deadlock found");
      expect(captured[0]).not.toContain("hash-of-a-refresh-token");
    });

    it("logs requests at debug level (the capture works)", async () => {
      await call(t.app, "GET", "/healthz");
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.join("")).toContain("/healthz");
    });

    it("keeps every secret of register, login, two-factor, refresh, password change, logout out of logs", async () => {
      remember("secret key", t.secretKey);
      remember("password", strongPassword);
      const registered = await register(t.app, "logged");
      remember("register access token", registered.accessToken);
      remember("register refresh token", registered.refreshToken);

      await login(t.app, "logged", "a wrong password attempt");
      await login(t.app, "nobody-logged", "an unknown user's password");
      await send(t.app, {
        method: "POST",
        url: "/api/auth/login",
        headers: { authorization: `Basic ${Buffer.from(`logged:${strongPassword}`).toString("base64")}` },
      });
      const browser = await send(t.app, {
        method: "POST",
        url: "/api/auth/login",
        body: { username: "logged", password: strongPassword },
      });
      const csrf = /tessera_csrf=([^;]+)/.exec(String(browser.headers["set-cookie"]))?.[1] ?? "";
      remember("browser refresh token", browser.body["refresh_token"]);
      remember("csrf token", decodeURIComponent(csrf));
      const cookieRefresh = await send(t.app, {
        method: "POST",
        url: "/api/auth/token/refresh",
        headers: {
          cookie: `tessera_refresh=${str(browser.body["refresh_token"])}; tessera_csrf=${csrf}`,
          "x-csrf-token": decodeURIComponent(csrf),
        },
      });
      expect(cookieRefresh.status).toBe(200);
      remember("cookie-rotated refresh token", cookieRefresh.body["refresh_token"]);

      const enrolled = await enrolledUser(t.app, t.clock, "logged2fa");
      remember("totp secret", enrolled.secret);
      enrolled.recoveryCodes.forEach((code, index) => remember(`recovery code ${index}`, code));
      remember("enrolment access token", enrolled.accessToken);
      remember("enrolment refresh token", enrolled.refreshToken);

      const challenge = remember("login token", await loginToken(t.app, "logged2fa"));
      const wrongCode = totpCode(enrolled.secret, t.clock, 5);
      await call(t.app, "POST", "/api/auth/2fa/login", { body: { login_token: challenge, code: wrongCode } });
      const code = remember("totp code", totpCode(enrolled.secret, t.clock));
      const secondFactor = await call(t.app, "POST", "/api/auth/2fa/login", {
        body: { login_token: challenge, code, remember_device: true },
      });
      expect(secondFactor.status, JSON.stringify(secondFactor.body)).toBe(200);
      remember("2fa access token", secondFactor.body["access_token"]);
      const refreshToken = remember("2fa refresh token", secondFactor.body["refresh_token"]);
      // A replayed code, and the used login token again.
      await call(t.app, "POST", "/api/auth/2fa/login", { body: { login_token: challenge, code } });
      const recovery = await call(t.app, "POST", "/api/auth/2fa/login", {
        body: { login_token: await loginToken(t.app, "logged2fa"), recovery_code: enrolled.recoveryCodes[0] },
      });
      expect(recovery.status).toBe(200);

      const refreshed = await call(t.app, "POST", "/api/auth/token/refresh", { body: { refresh_token: refreshToken } });
      remember("rotated refresh token", refreshed.body["refresh_token"]);
      const access = remember("rotated access token", refreshed.body["access_token"]);
      // Reuse detection logs an incident, still without the token.
      await call(t.app, "POST", "/api/auth/token/refresh", { body: { refresh_token: refreshToken } });

      t.clock.advance(30);
      const fresh = await call(t.app, "POST", "/api/auth/2fa/login", {
        body: { login_token: await loginToken(t.app, "logged2fa"), code: totpCode(enrolled.secret, t.clock) },
      });
      const token = remember("fresh access token", fresh.body["access_token"]);
      t.clock.advance(30);
      const newPassword = remember("new password", "a new password for the log test");
      const change = await call(t.app, "POST", "/api/user/password", {
        token,
        body: { current_password: strongPassword, new_password: newPassword, code: totpCode(enrolled.secret, t.clock) },
      });
      expect(change.status, JSON.stringify(change.body)).toBe(204);
      await call(t.app, "POST", "/api/user/password", {
        token,
        body: { current_password: "wrong current password", new_password: "another new password x" },
      });
      await call(t.app, "GET", "/api/user/me", { token: access });
      await call(t.app, "GET", "/api/user/me", { token: `${token}tampered` });
      // Malformed input, whose error path logs too.
      await send(t.app, {
        method: "POST",
        url: "/api/auth/login",
        payload: `{"username":"logged","password":"${strongPassword}"`,
        headers: { "content-type": "application/json" },
      });
      await send(t.app, { method: "POST", url: "/api/auth/register", body: { username: "x", password: newPassword } });
      await call(t.app, "POST", "/api/auth/logout", { token });

      const log = lines.join("");
      expect(log.length).toBeGreaterThan(1000);
      for (const [label, value] of secrets) {
        expect(value.length, label).toBeGreaterThan(5);
        expect(log.includes(value), `the log contains the ${label}`).toBe(false);
      }
      for (const code of enrolled.recoveryCodes) expect(log.includes(code.replaceAll("-", ""))).toBe(false);
      // TOTP codes are short: look for them as JSON values, not as substrings of timestamps.
      for (const six of [code, wrongCode]) expect(log).not.toMatch(new RegExp(`"${six}"`));
      expect(log).not.toMatch(/"authorization"|"cookie"|set-cookie|"password"|"refresh_token"|"login_token"/i);
      for (const line of lines) {
        const entry = JSON.parse(line) as Json;
        expect(typeof entry["level"]).toBe("number");
      }
    });
  });
}
