import { describe, expect, it } from "vitest";
import { enrolledUser, fullLogin, login, register, uniqueName } from "../support/accounts.js";
import { adminSession, setPolicy } from "../support/admin.js";
import { appOn, buildTestApp, useTwoInstances, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { call, expectError } from "../support/http.js";
import { otherInstanceWindow } from "../support/instances.js";

/*
 * Attack: outrunning an administrator behind a load balancer. A session keeps working on the instance that did
 * not see the change: after the policy starts requiring two-factor, after a lock. Pins SPEC §2 "Admin and
 * policy": a policy change takes effect on the next request of every session (not at next login), and a lock
 * ends the user's sessions at once and refuses every sign-in (password, refresh), on every instance: on the
 * one that made it at once, on another once `otherInstanceWindow` has passed (1 ms on a SQLite file, the
 * change bus's 1 s on PostgreSQL and MySQL: README "Several instances").
 */

for (const dialect of testDialects()) {
  describe(`policy and locks across two instances [${dialect.name}]`, () => {
    let a: TestApp;
    let b: TestApp;
    useTwoInstances(dialect, (first, second) => {
      a = first;
      b = second;
    });

    it("holds a live session on B in enrolment within the instances' window after A requires two-factor", async () => {
      const admin = await adminSession(a);
      const { accessToken } = await register(a.app, uniqueName("live"));
      // Warm B's session lookup (the SQLite read cache) before the change.
      expect((await call(b.app, "GET", "/api/user/audit", { token: accessToken })).status).toBe(200);
      await setPolicy(a, admin.token, "all");
      await otherInstanceWindow(dialect);
      expectError(await call(b.app, "GET", "/api/user/audit", { token: accessToken }), 403, "enrollment_required");
      expect((await call(b.app, "GET", "/api/user/me", { token: accessToken })).status).toBe(200);
      await setPolicy(a, admin.token, "off");
      await otherInstanceWindow(dialect);
      expect((await call(b.app, "GET", "/api/user/audit", { token: accessToken })).status).toBe(200);
    });

    it("holds a live session of a covered role in enrolment on B when A sets role:NAME, no other", async () => {
      const admin = await adminSession(a);
      const ops = uniqueName("ops");
      const opsToken = (await register(a.app, ops)).accessToken;
      await a.app.services.admin.grantRole(ops, "ops");
      const other = (await register(a.app, uniqueName("other"))).accessToken;
      expect((await call(b.app, "GET", "/api/user/audit", { token: opsToken })).status).toBe(200);
      await setPolicy(a, admin.token, "role:ops,finance");
      await otherInstanceWindow(dialect);
      expectError(await call(b.app, "GET", "/api/user/audit", { token: opsToken }), 403, "enrollment_required");
      expect((await call(b.app, "GET", "/api/user/audit", { token: other })).status).toBe(200);
      await setPolicy(a, admin.token, "off");
    });

    it("ends a locked user's sessions on A at once and on B within the window; refuses password, refresh", async () => {
      const admin = await adminSession(a);
      const name = uniqueName("locked");
      const { userId, secret } = await enrolledUser(a.app, a.clock, name);
      const onA = await fullLogin(a, name, secret);
      a.clock.advance(30);
      const onB = await fullLogin(b, name, secret);
      for (const [app, token] of [
        [a.app, onA.accessToken],
        [b.app, onB.accessToken],
      ] as const)
        expect((await call(app, "GET", "/api/user/me", { token })).status).toBe(200);
      const lock = await call(a.app, "POST", `/api/admin/users/${userId}/lock`, { token: admin.token });
      expect(lock.status, JSON.stringify(lock.body)).toBe(204);
      for (const token of [onA.accessToken, onB.accessToken])
        expectError(await call(a.app, "GET", "/api/user/me", { token }), 401, "unauthorized");
      await otherInstanceWindow(dialect);
      for (const token of [onA.accessToken, onB.accessToken])
        expectError(await call(b.app, "GET", "/api/user/me", { token }), 401, "unauthorized");
      for (const refresh of [onA.refreshToken, onB.refreshToken])
        expectError(
          await call(b.app, "POST", "/api/auth/token/refresh", { body: { refresh_token: refresh } }),
          401,
          "unauthorized",
        );
      expectError(await login(b.app, name), 403, "forbidden");
      // Unlocked, the account signs in again (and only then).
      expect((await call(a.app, "POST", `/api/admin/users/${userId}/unlock`, { token: admin.token })).status).toBe(204);
      a.clock.advance(30);
      expect((await fullLogin(b, name, secret)).accessToken).not.toBe("");
    });

    it("refuses on B a session that was live before A locked it, also with a token B verified and cached", async () => {
      const admin = await adminSession(a);
      const name = uniqueName("cached");
      const { userId, accessToken } = await register(a.app, name);
      for (let i = 0; i < 3; i++)
        expect((await call(b.app, "GET", "/api/user/me", { token: accessToken })).status).toBe(200);
      await call(a.app, "POST", `/api/admin/users/${userId}/lock`, { token: admin.token });
      await otherInstanceWindow(dialect);
      expectError(await call(b.app, "GET", "/api/user/me", { token: accessToken }), 401, "unauthorized");
    });
  });

  describe(`REQUIRE_2FA seeds the policy once [${dialect.name}]`, () => {
    let a: TestApp;
    useTwoInstances(dialect, (first) => {
      a = first;
    });

    it("takes REQUIRE_2FA as the policy of a fresh database", async () => {
      const fresh = await appOn(dialect, { env: { REQUIRE_2FA: "role:ops,finance" } });
      try {
        expect((await fresh.app.services.policy.get()).require_2fa).toBe("role:ops,finance");
      } finally {
        await fresh.close();
      }
    });

    it("keeps the stored policy when an instance starts later with another REQUIRE_2FA", async () => {
      expect((await a.app.services.policy.get()).require_2fa).toBe("off");
      await a.app.services.policy.set(null, "admins", { ip: null, userAgent: "test" });
      const later = await buildTestApp({
        databaseUrl: a.databaseUrl,
        secretKey: a.secretKey,
        clock: a.clock,
        groupCommit: false,
        env: { REQUIRE_2FA: "all" },
      });
      try {
        expect((await later.app.services.policy.get()).require_2fa).toBe("admins");
      } finally {
        await later.close();
      }
    });
  });
}
