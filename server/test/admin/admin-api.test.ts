import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enrolledUser, register, uniqueName } from "../support/accounts.js";
import { adminSession } from "../support/admin.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { call, expectError, type Json, str } from "../support/http.js";
import { outlive } from "../support/reauth.js";

/*
 * The admin API as SPEC §2 "Admin and policy" lists it: users with search, filters, paging and a total; the
 * detail with factors (never secret material), sessions and events; roles; each change audited with the acting
 * administrator and the target.
 */

for (const dialect of testDialects()) {
  describe(`admin API [${dialect.name}]`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await appOn(dialect);
    });
    afterAll(async () => t.close());

    const users = (token: string, query: string): Promise<{ status: number; body: Json }> =>
      call(t.app, "GET", `/api/admin/users?${query}`, { token });
    const names = (body: Json): string[] => (body["users"] as Json[]).map((u) => str(u["username"]));

    it("searches username and email, filters by role, two-factor and lock, and pages with a total", async () => {
      const admin = await adminSession(t);
      const tag = uniqueName("zq").replace("-", "");
      const plain = (await register(t.app, `${tag}-plain`, { email: `${tag}-mail@example.org` })).userId;
      await enrolledUser(t.app, t.clock, `${tag}-tfa`);
      await register(t.app, `${tag}-ops`);
      await t.app.services.admin.grantRole(`${tag}-ops`, "ops");
      // "_" in a search is a character, not a LIKE wildcard.
      await register(t.app, `${tag}xunder`);
      expect(names((await users(admin.token, `q=${tag}`)).body)).toHaveLength(4);
      expect(names((await users(admin.token, `q=${tag}_`)).body)).toEqual([]);
      expect(names((await users(admin.token, `q=${tag}-MAIL`)).body)).toEqual([`${tag}-plain`]);
      expect(names((await users(admin.token, `q=${tag}&role=ops`)).body)).toEqual([`${tag}-ops`]);
      expect(names((await users(admin.token, `q=${tag}&mfa=on`)).body)).toEqual([`${tag}-tfa`]);
      await call(t.app, "POST", `/api/admin/users/${plain}/lock`, { token: admin.token });
      expect(names((await users(admin.token, `q=${tag}&locked=true`)).body)).toEqual([`${tag}-plain`]);
      expect(names((await users(admin.token, `q=${tag}&locked=false`)).body)).toHaveLength(3);
      const first = await users(admin.token, `q=${tag}&limit=3&page=1`);
      const second = await users(admin.token, `q=${tag}&limit=3&page=2`);
      expect(first.body).toMatchObject({ total: 4, page: 1, limit: 3 });
      expect(names(first.body)).toHaveLength(3);
      expect(names(second.body)).toHaveLength(1);
      expect(new Set([...names(first.body), ...names(second.body)]).size).toBe(4);
      for (const bad of ["mfa=yes", "locked=1", "role=Ops", "page=0", "limit=1000", `q=${"x".repeat(101)}`])
        expectError(await users(admin.token, bad), 422, "validation_failed");
    });

    it("shows a user's factors by kind and date, sessions and events, and never secret material", async () => {
      const admin = await adminSession(t);
      const { userId, secret, recoveryCodes } = await enrolledUser(t.app, t.clock, uniqueName("detail"));
      const res = await call(t.app, "GET", `/api/admin/users/${userId}`, { token: admin.token });
      expect(res.status).toBe(200);
      const factors = res.body["factors"] as Json[];
      expect(factors.map((f) => f["kind"])).toEqual(["totp", "recovery_codes"]);
      expect(factors[1]?.["count"]).toBe(10);
      expect((res.body["sessions"] as Json[]).length).toBe(1);
      expect((res.body["events"] as Json[]).map((e) => e["type"])).toContain("mfa_enabled");
      expect(res.text).not.toContain(secret);
      for (const code of recoveryCodes) expect(res.text).not.toContain(code);
      expect(res.text).not.toMatch(/ciphertext|code_hash|password_hash|token_hash/);
      expectError(await call(t.app, "GET", "/api/admin/users/nobody", { token: admin.token }), 404, "not_found");
    });

    it("sets roles, refuses names that could pass for another role, and shows them in /me and the token", async () => {
      const admin = await adminSession(t);
      const { userId, accessToken } = await register(t.app, uniqueName("roles"));
      const put = (roles: unknown): Promise<{ status: number; body: Json }> =>
        call(t.app, "PUT", `/api/admin/users/${userId}/roles`, { token: admin.token, body: { roles } });
      expect((await put(["ops", "finance_2", "ops"])).body).toEqual({ roles: ["finance_2", "ops"] });
      expect((await call(t.app, "GET", "/api/user/me", { token: accessToken })).body["roles"]).toEqual([
        "finance_2",
        "ops",
      ]);
      for (const bad of [
        ["Admin"],
        ["admin "],
        ["ad,min"],
        ["1ops"],
        ["ops\u0000"],
        ["ａdmin"],
        ["x".repeat(33)],
        "ops",
      ])
        expect((await put(bad)).status, JSON.stringify(bad)).toBe(422);
      expect((await put([])).body).toEqual({ roles: [] });
    });

    it("records every admin action with the acting admin and the target", async () => {
      const admin = await adminSession(t);
      const target = await register(t.app, uniqueName("target"));
      const base = `/api/admin/users/${target.userId}`;
      await call(t.app, "POST", `${base}/lock`, { token: admin.token });
      await call(t.app, "POST", `${base}/unlock`, { token: admin.token });
      await call(t.app, "POST", `${base}/revoke-sessions`, { token: admin.token });
      await call(t.app, "POST", `${base}/reset-2fa`, { token: admin.token });
      await call(t.app, "PUT", `${base}/roles`, { token: admin.token, body: { roles: ["ops"] } });
      const res = await call(t.app, "GET", `/api/admin/audit?user=${target.userId}`, { token: admin.token });
      const events = res.body["events"] as Json[];
      for (const type of [
        "account_locked",
        "account_unlocked",
        "sessions_revoked_by_admin",
        "mfa_reset_by_admin",
        "roles_changed",
      ]) {
        const event = events.find((e) => e["type"] === type);
        expect(event, type).toMatchObject({
          user_id: target.userId,
          actor_id: admin.userId,
          actor_username: admin.name,
        });
      }
      expect(await t.app.services.admin.userDetail(target.userId)).toMatchObject({ user: { roles: ["ops"] } });
      expect((await call(t.app, "DELETE", base, { token: admin.token })).status).toBe(204);
      const deleted = await call(t.app, "GET", "/api/admin/audit?type=account_deleted", { token: admin.token });
      expect((deleted.body["events"] as Json[])[0]).toMatchObject({
        actor_id: admin.userId,
        detail: { user_id: target.userId },
      });
      expectError(await call(t.app, "GET", base, { token: admin.token }), 404, "not_found");
    });

    it("asks an admin whose sign-in is older than REAUTH_MAX_AGE to re-authenticate (401)", async () => {
      const admin = await adminSession(t);
      outlive(t);
      expectError(await call(t.app, "GET", "/api/admin/users", { token: admin.token }), 401, "reauth_required");
      expectError(await call(t.app, "GET", "/api/admin/policy", { token: admin.token }), 401, "reauth_required");
    });
  });
}
