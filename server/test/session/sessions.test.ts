import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appOn, type TestApp } from "../support/app.js";
import { login, register } from "../support/accounts.js";
import { call, expectError, type Json, str } from "../support/http.js";
import { testDialects } from "../support/dialects.js";

const sidOf = (accessToken: string): string => String(decodeJwt(accessToken)["sid"]);

for (const dialect of testDialects()) {
  describe(`refresh, logout and sessions [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    const refresh = (refreshToken: string): ReturnType<typeof call> =>
      call(t.app, "POST", "/api/auth/token/refresh", { body: { refresh_token: refreshToken } });

    it("rotates a refresh token: a new pair for the same session, and the old refresh token is dead", async () => {
      const { accessToken, refreshToken } = await register(t.app, "rotator");
      t.clock.advance(5);
      const res = await refresh(refreshToken);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(["access_token", "expires_in", "refresh_token", "token_type"]);
      const next = str(res.body["refresh_token"]);
      expect(next).not.toBe(refreshToken);
      expect(sidOf(str(res.body["access_token"]))).toBe(sidOf(accessToken));
      expect((await call(t.app, "GET", "/api/user/me", { token: str(res.body["access_token"]) })).status).toBe(200);
      // Chained rotation keeps working.
      const again = await refresh(next);
      expect(again.status).toBe(200);
      // The first token, used once already and past its 10-second grace, is refused.
      t.clock.advance(12);
      expectError(await refresh(refreshToken), 401, "unauthorized");
    });

    it("names each session by its creation time first: later sign-ins sort after earlier ones", async () => {
      const { accessToken: first } = await register(t.app, "ordered");
      t.clock.advance(1);
      const second = await login(t.app, "ordered");
      expect(second.status).toBe(200);
      const [a, b] = [sidOf(first), sidOf(str(second.body["access_token"]))];
      expect(a).toMatch(/^[0-9a-z]{9}[A-Za-z0-9_-]{22}$/);
      expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(-1);
      // Both sessions are stored under those IDs.
      const rows = await t.db.selectFrom("session").select("id").where("id", "in", [a, b]).execute();
      expect(rows).toHaveLength(2);
    });

    it("refuses an unknown refresh token with 401", async () => {
      expectError(await refresh("A".repeat(43)), 401, "unauthorized");
    });

    it("revokes the whole session when a used refresh token comes back", async () => {
      const { refreshToken: first } = await register(t.app, "victim");
      const rotated = await refresh(first);
      expect(rotated.status).toBe(200);
      const newestRefresh = str(rotated.body["refresh_token"]);
      const newestAccess = str(rotated.body["access_token"]);
      expect((await call(t.app, "GET", "/api/user/me", { token: newestAccess })).status).toBe(200);

      // The attacker replays the stolen, already used token once the 10-second grace has passed.
      t.clock.advance(12);
      expectError(await refresh(first), 401, "unauthorized");

      expectError(await call(t.app, "GET", "/api/user/me", { token: newestAccess }), 401, "unauthorized");
      expectError(await refresh(newestRefresh), 401, "unauthorized");
      const session = await t.db
        .selectFrom("session")
        .select("revoked_at")
        .where("id", "=", sidOf(newestAccess))
        .executeTakeFirstOrThrow();
      expect(session.revoked_at).toBe(t.clock.now());
      const audit = await t.db
        .selectFrom("audit_event")
        .select("type")
        .where("type", "=", "refresh_token_reused")
        .execute();
      expect(audit.length).toBeGreaterThan(0);
    });

    it("parallel reuse by tabs: parallel refreshes of one token get one pair and the session lives", async () => {
      const { refreshToken } = await register(t.app, "parallel");
      const results = await Promise.all(Array.from({ length: 5 }, () => refresh(refreshToken)));
      for (const res of results) expect(res.status, JSON.stringify(res.body)).toBe(200);
      const pairs = new Set(results.map((r) => `${str(r.body["access_token"])} ${str(r.body["refresh_token"])}`));
      expect(pairs.size).toBe(1);
      const next = str(results[0]?.body["refresh_token"]);
      expect(next).not.toBe(refreshToken);
      // The session lives: the shared pair works and rotates on.
      expect((await call(t.app, "GET", "/api/user/me", { token: str(results[0]?.body["access_token"]) })).status).toBe(
        200,
      );
      expect((await refresh(next)).status).toBe(200);
    });

    it("replay within the grace answers the same pair; replay after 12 s revokes the session", async () => {
      const { refreshToken } = await register(t.app, "graceful");
      const first = await refresh(refreshToken);
      expect(first.status).toBe(200);
      t.clock.advance(9);
      const again = await refresh(refreshToken);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      t.clock.advance(3);
      expectError(await refresh(refreshToken), 401, "unauthorized");
      const access = str(first.body["access_token"]);
      expectError(await call(t.app, "GET", "/api/user/me", { token: access }), 401, "unauthorized");
      expectError(await refresh(str(first.body["refresh_token"])), 401, "unauthorized");
    });

    it("keeps the successor pair encrypted, and only for the grace", async () => {
      const { refreshToken } = await register(t.app, "sealed");
      const first = await refresh(refreshToken);
      const next = str(first.body["refresh_token"]);
      const rows = await t.db.selectFrom("refresh_token").select("successor_ciphertext").execute();
      const stored = rows.map((r) => r.successor_ciphertext ?? "").join(" ");
      expect(stored).toMatch(/v1:/);
      expect(stored).not.toContain(next);
      expect(stored).not.toContain(str(first.body["access_token"]).split(".")[1]);
      // The next rotation, past the grace, forgets the stored pair of the first.
      t.clock.advance(11);
      expect((await refresh(next)).status).toBe(200);
      const sid = sidOf(str(first.body["access_token"]));
      const kept = await t.db
        .selectFrom("refresh_token")
        .select("successor_ciphertext")
        .where("session_id", "=", sid)
        .where("successor_ciphertext", "is not", null)
        .execute();
      expect(kept).toHaveLength(1);
    });

    it("leaves the user's other sessions alive when one session's refresh token is replayed", async () => {
      const { refreshToken } = await register(t.app, "twosessions");
      const other = await login(t.app, "twosessions");
      await refresh(refreshToken);
      t.clock.advance(12);
      await refresh(refreshToken);
      expect((await call(t.app, "GET", "/api/user/me", { token: str(other.body["access_token"]) })).status).toBe(200);
    });

    it("logs out: the session's access token is refused at once and its refresh token is dead", async () => {
      const { accessToken, refreshToken } = await register(t.app, "leaving");
      expect((await call(t.app, "GET", "/api/user/me", { token: accessToken })).status).toBe(200);
      const res = await call(t.app, "POST", "/api/auth/logout", { token: accessToken });
      expect(res.status).toBe(204);
      expectError(await call(t.app, "GET", "/api/user/me", { token: accessToken }), 401, "unauthorized");
      expectError(await refresh(refreshToken), 401, "unauthorized");
      expectError(await call(t.app, "POST", "/api/auth/logout", { token: accessToken }), 401, "unauthorized");
    });

    it("refuses a logout with no credentials with 401", async () => {
      expectError(await call(t.app, "POST", "/api/auth/logout"), 401, "unauthorized");
    });

    it("lists the active sessions, marking the current one", async () => {
      const { accessToken } = await register(t.app, "lister");
      await login(t.app, "lister");
      const res = await call(t.app, "GET", "/api/auth/sessions", {
        token: accessToken,
        headers: { "user-agent": "vitest-agent" },
      });
      expect(res.status).toBe(200);
      const sessions = res.body["sessions"] as Json[];
      expect(sessions).toHaveLength(2);
      expect(sessions.filter((s) => s["current"] === true).map((s) => s["id"])).toEqual([sidOf(accessToken)]);
      for (const session of sessions) {
        expect(Object.keys(session).sort()).toEqual([
          "aal",
          "amr",
          "created_at",
          "current",
          "id",
          "ip",
          "last_used_at",
          "user_agent",
        ]);
        expect(session).toMatchObject({ aal: 1, amr: ["pwd"] });
      }
      expect(res.body["trusted_devices"]).toEqual([]);
    });

    it("revokes another session by its sid: that session's token is refused at once", async () => {
      const { accessToken } = await register(t.app, "revoker");
      const other = await login(t.app, "revoker");
      const otherToken = str(other.body["access_token"]);
      const res = await call(t.app, "DELETE", `/api/auth/sessions/${sidOf(otherToken)}`, { token: accessToken });
      expect(res.status).toBe(204);
      expectError(await call(t.app, "GET", "/api/user/me", { token: otherToken }), 401, "unauthorized");
      expectError(await refresh(str(other.body["refresh_token"])), 401, "unauthorized");
      expect((await call(t.app, "GET", "/api/user/me", { token: accessToken })).status).toBe(200);
      const list = await call(t.app, "GET", "/api/auth/sessions", { token: accessToken });
      expect((list.body["sessions"] as Json[]).map((s) => s["id"])).toEqual([sidOf(accessToken)]);
      // Revoking it twice: it is gone.
      expectError(
        await call(t.app, "DELETE", `/api/auth/sessions/${sidOf(otherToken)}`, { token: accessToken }),
        404,
        "not_found",
      );
    });

    it("answers 404 for an unknown session id", async () => {
      const { accessToken } = await register(t.app, "unknownsid");
      expectError(
        await call(t.app, "DELETE", "/api/auth/sessions/does-not-exist", { token: accessToken }),
        404,
        "not_found",
      );
    });

    it("answers 404 for another user's session id and leaves it alive", async () => {
      const mallory = await register(t.app, "mallory");
      const bob = await register(t.app, "bob");
      expectError(
        await call(t.app, "DELETE", `/api/auth/sessions/${sidOf(bob.accessToken)}`, { token: mallory.accessToken }),
        404,
        "not_found",
      );
      expect((await call(t.app, "GET", "/api/user/me", { token: bob.accessToken })).status).toBe(200);
    });

    it("refuses the session routes without a token", async () => {
      expectError(await call(t.app, "GET", "/api/auth/sessions"), 401, "unauthorized");
      expectError(await call(t.app, "DELETE", "/api/auth/sessions/whatever"), 401, "unauthorized");
    });
  });
}
