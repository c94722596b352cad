/*
 * Dead rows must not pile up (SPEC §3 "expired rows (challenges, links, sessions, trusted devices) are
 * purged in the background"): an attacker who starts logins, asks for links or opens sessions by the
 * thousand leaves nothing behind once they expire, and the purge never deletes a live row.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { purgeBatchSize } from "../../src/modules/ops/purge.service.js";
import { appOn, type TestApp } from "../support/app.js";
import { enrolledUser, loginToken, register, secondFactorLogin, totpCode, uniqueName } from "../support/accounts.js";
import { send } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

for (const dialect of testDialects()) {
  describe(`purge of expired rows [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    const count = async (table: "login_challenge" | "link_token" | "session" | "trusted_device" | "known_client") =>
      Number(
        (
          await t.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );

    it("an attacker's pile of abandoned logins and dead sessions is purged in batches; live rows stay", async () => {
      const name = uniqueName("purge");
      const { secret } = await enrolledUser(t.app, t.clock, name);
      // More abandoned challenges than one batch holds.
      for (let i = 0; i < purgeBatchSize + 20; i++) await loginToken(t.app, name);
      const remembered = await secondFactorLogin(t.app, {
        login_token: await loginToken(t.app, name),
        code: totpCode(secret, t.clock),
        remember_device: true,
      });
      expect(remembered.status).toBe(200);
      await send(t.app, { method: "POST", url: "/api/auth/magic-link", body: { email: "nobody@example.org" } });
      // 31 days on: every challenge, session, device and known client of so far is dead.
      t.clock.advance(31 * 24 * 60 * 60);
      const live = await register(t.app, uniqueName("live"));
      const liveChallenge = await loginToken(t.app, name);
      const before = { challenges: await count("login_challenge"), sessions: await count("session") };
      const purged = await t.app.services.purger.run();
      expect(purged.login_challenge).toBe(before.challenges - 1);
      expect(purged.login_challenge).toBeGreaterThan(purgeBatchSize);
      expect(purged.trusted_device).toBe(1);
      expect(purged.known_client).toBeGreaterThan(0);
      expect(purged.session).toBe(before.sessions - 1);
      expect(await count("login_challenge")).toBe(1);
      expect(await count("session")).toBe(1);
      expect(await count("trusted_device")).toBe(0);
      expect(await count("known_client")).toBe(0);
      const refreshTokens = await t.db.selectFrom("refresh_token").select("session_id").execute();
      expect(new Set(refreshTokens.map((r) => r.session_id)).size).toBe(1);
      // The live ones still work.
      const me = await send(t.app, { method: "GET", url: "/api/user/me", token: live.accessToken });
      expect(me.status).toBe(200);
      const done = await secondFactorLogin(t.app, { login_token: liveChallenge, code: totpCode(secret, t.clock) });
      expect(done.status).toBe(200);
      expect(await t.app.services.purger.run()).toEqual({
        login_challenge: 0,
        link_token: 0,
        session: 0,
        trusted_device: 0,
        known_client: 0,
      });
    });
  });
}
