import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deviceCookieOf, strongPassword, totpCode, uniqueName, wrongCode } from "../support/accounts.js";
import { type Json, type Reply, send, str } from "../support/http.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";

/*
 * Attack: reading secrets out of the audit log, and acting without a trace. The audit table is read
 * by administrators and kept for a long time, so a TOTP secret, a code, a recovery code or a token
 * written there would let anyone with read access sign in; and a lockout or a recovery code used
 * without IP and user agent cannot be investigated. Pins SPEC §2 "GET /api/user/audit → the user's
 * own security events (… two-factor on/off, recovery code used, … session revoked, lockout), with time, IP,
 * user agent" and §3 "A copy of the database alone logs nobody in".
 */

const ip = "198.51.100.23";
const userAgent = "AuditTest/1.0 (two-factor)";

for (const dialect of testDialects()) {
  describe(`two-factor audit trail [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    /** Every request of the flow comes from one address and browser, so each event can be checked for both. */
    const request = (
      method: "GET" | "POST" | "DELETE",
      url: string,
      options: { token?: string; body?: Json; cookies?: Record<string, string> } = {},
    ): Promise<Reply> =>
      send(t.app, {
        method,
        url,
        remoteAddress: ip,
        cookies: options.cookies ?? {},
        headers: {
          "user-agent": userAgent,
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        },
        ...(options.body === undefined ? {} : { payload: options.body }),
      });

    it("records every two-factor event with IP and user agent, and never a secret, code or token", async () => {
      const name = uniqueName("audited");
      const secrets: string[] = [strongPassword];
      const keep = (reply: Reply): Reply => {
        for (const key of ["access_token", "refresh_token", "login_token"])
          if (typeof reply.body[key] === "string") secrets.push(str(reply.body[key]));
        const cookie = deviceCookieOf(reply);
        if (cookie !== undefined) secrets.push(cookie, cookie.split(".")[0] ?? cookie);
        return reply;
      };
      const submitted = (code: string): string => {
        secrets.push(code);
        return code;
      };
      const loginToken = async (): Promise<string> => {
        const res = keep(
          await request("POST", "/api/auth/login", { body: { username: name, password: strongPassword } }),
        );
        expect(res.body["mfa_required"]).toBe(true);
        return str(res.body["login_token"]);
      };

      const signup = keep(
        await request("POST", "/api/auth/register", {
          body: { username: name, password: strongPassword, enable_mfa: true },
        }),
      );
      expect(signup.status).toBe(201);
      const secret = str((signup.body["mfa_setup"] as Json)["secret"]);
      secrets.push(secret, str((signup.body["mfa_setup"] as Json)["otpauth_url"]));
      const confirm = keep(
        await request("POST", "/api/auth/2fa/verify-setup", {
          token: str(signup.body["access_token"]),
          body: { code: submitted(totpCode(secret, t.clock)) },
        }),
      );
      expect(confirm.status).toBe(200);
      const firstCodes = confirm.body["recovery_codes"] as string[];
      secrets.push(...firstCodes, ...firstCodes.map((c) => c.replaceAll("-", "")));
      t.clock.advance(30);

      const first = keep(
        await request("POST", "/api/auth/2fa/login", {
          body: { login_token: await loginToken(), code: submitted(totpCode(secret, t.clock)), remember_device: true },
        }),
      );
      expect(first.status).toBe(200);
      // Eleven wrong codes: ten are checked and logged as failures, the eleventh starts the lockout.
      let challenge = "";
      for (let i = 0; i < 11; i++) {
        if (i % 5 === 0) challenge = await loginToken(); // a login token takes at most five codes
        const res = await request("POST", "/api/auth/2fa/login", {
          body: { login_token: challenge, code: submitted(wrongCode(secret, t.clock, i)) },
        });
        expect(res.status).toBe(i < 10 ? 401 : 429);
      }
      t.clock.advance(60);
      const viaRecovery = keep(
        await request("POST", "/api/auth/2fa/login", {
          body: { login_token: await loginToken(), recovery_code: submitted(firstCodes[0] ?? "") },
        }),
      );
      expect(viaRecovery.status).toBe(200);
      const token = str(viaRecovery.body["access_token"]);

      t.clock.advance(30);
      const regenerated = keep(
        await request("POST", "/api/auth/2fa/recovery-codes", {
          token,
          body: { password: strongPassword, code: submitted(totpCode(secret, t.clock)) },
        }),
      );
      expect(regenerated.status).toBe(200);
      const secondCodes = regenerated.body["recovery_codes"] as string[];
      secrets.push(...secondCodes, ...secondCodes.map((c) => c.replaceAll("-", "")));

      const sessions = await request("GET", "/api/auth/sessions", { token });
      const otherSession = (sessions.body["sessions"] as Json[]).find((s) => s["current"] === false);
      expect(otherSession).toBeDefined();
      expect((await request("DELETE", `/api/auth/sessions/${str(otherSession?.["id"])}`, { token })).status).toBe(204);

      t.clock.advance(30);
      const disabled = await request("POST", "/api/auth/2fa/disable", {
        token,
        body: { password: strongPassword, code: submitted(secondCodes[0] ?? "") },
      });
      expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);

      const audit = await request("GET", "/api/user/audit", { token });
      expect(audit.status).toBe(200);
      const events = audit.body["events"] as Json[];
      const required = [
        "register",
        "mfa_enabled",
        "login_succeeded",
        "mfa_failed",
        "mfa_locked",
        "recovery_code_used",
        "recovery_codes_regenerated",
        "session_revoked",
        "mfa_disabled",
      ];
      for (const type of required) {
        const matching = events.filter((e) => e["type"] === type);
        expect(matching.length, `an audit event of type ${type}`).toBeGreaterThan(0);
        for (const event of matching) {
          expect({ type, ip: event["ip"], user_agent: event["user_agent"] }).toEqual({
            type,
            ip,
            user_agent: userAgent,
          });
          expect(typeof event["created_at"]).toBe("string");
        }
      }
      expect(events.filter((e) => e["type"] === "mfa_failed")).toHaveLength(10);

      // The whole table, every text column of every row: no secret, code or token in any of them.
      const rows = await t.db
        .selectFrom("audit_event")
        .select(["id", "user_id", "type", "ip", "user_agent", "detail"])
        .execute();
      expect(rows.length).toBeGreaterThanOrEqual(required.length);
      const text = rows.map((row) => JSON.stringify(row)).join("\n");
      for (const value of new Set(secrets)) {
        expect(value.length).toBeGreaterThanOrEqual(6);
        expect(text.includes(value), `the audit table contains a secret value (${value.length} chars)`).toBe(false);
      }
    });

    it("keeps another user's events out of /api/user/audit", async () => {
      const name = uniqueName("private");
      const res = await request("POST", "/api/auth/register", { body: { username: name, password: strongPassword } });
      const audit = await request("GET", "/api/user/audit", { token: str(res.body["access_token"]) });
      expect((audit.body["events"] as Json[]).map((e) => e["type"])).toEqual(["register"]);
    });
  });
}
