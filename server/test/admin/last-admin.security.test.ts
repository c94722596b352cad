import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { strongPassword, totpCode } from "../support/accounts.js";
import { adminSession } from "../support/admin.js";
import { appOn, type TestApp } from "../support/app.js";
import { testDialects } from "../support/dialects.js";
import { call, expectError } from "../support/http.js";

/*
 * Attack: locking everyone out of administration. The only administrator removes their own role, locks or
 * deletes themselves (through the admin API, or by deleting their own account), or two administrators remove
 * each other at the same moment. Pins SPEC §2 "an admin cannot remove the last admin": 409 last_admin, and at
 * least one unlocked administrator always remains.
 */

const meta = { ip: null, userAgent: "last-admin test" };

for (const dialect of testDialects()) {
  describe(`the last administrator [${dialect.name}]`, () => {
    let t: TestApp;
    beforeEach(async () => {
      t = await appOn(dialect);
    });
    afterEach(async () => t.close());

    const activeAdmins = async (): Promise<number> =>
      (await t.app.services.admin.listUsers({ role: "admin", locked: false }, { limit: 10, offset: 0 })).total;

    it("refuses to take the role from, lock or delete the only administrator", async () => {
      const admin = await adminSession(t);
      const self = `/api/admin/users/${admin.userId}`;
      expectError(
        await call(t.app, "PUT", `${self}/roles`, { token: admin.token, body: { roles: ["ops"] } }),
        409,
        "last_admin",
      );
      expectError(await call(t.app, "POST", `${self}/lock`, { token: admin.token }), 409, "last_admin");
      expectError(await call(t.app, "DELETE", self, { token: admin.token }), 409, "last_admin");
      expectError(
        await call(t.app, "DELETE", "/api/user", {
          token: admin.token,
          body: { password: strongPassword, code: totpCode(admin.secret, t.clock, 1) },
        }),
        409,
        "last_admin",
      );
      expect(await activeAdmins()).toBe(1);
      // Keeping the role while adding another is fine.
      const ok = await call(t.app, "PUT", `${self}/roles`, { token: admin.token, body: { roles: ["admin", "ops"] } });
      expect(ok.body).toEqual({ roles: ["admin", "ops"] });
    });

    it("does not count a locked administrator as one who remains", async () => {
      const first = await adminSession(t);
      const second = await adminSession(t);
      await t.app.services.admin.setLocked({ id: first.userId }, second.userId, true, meta);
      expectError(
        await call(t.app, "PUT", `/api/admin/users/${first.userId}/roles`, { token: first.token, body: { roles: [] } }),
        409,
        "last_admin",
      );
      await t.app.services.admin.setLocked({ id: first.userId }, second.userId, false, meta);
      await t.app.services.admin.setRoles({ id: second.userId }, first.userId, [], meta);
      expect(await activeAdmins()).toBe(1);
    });

    it("leaves one administrator when two remove each other's role at the same moment", async () => {
      const a = await adminSession(t);
      const b = await adminSession(t);
      const results = await Promise.allSettled([
        t.app.services.admin.setRoles({ id: a.userId }, b.userId, [], meta),
        t.app.services.admin.setRoles({ id: b.userId }, a.userId, [], meta),
        t.app.services.admin.setLocked({ id: a.userId }, a.userId, true, meta),
      ]);
      // Whatever order the database takes them in, the one that would leave no administrator is refused:
      // b may take a's role first, and then a (no longer an administrator) may lock itself.
      const refused = results.filter((r) => r.status === "rejected");
      expect(refused.length).toBeGreaterThanOrEqual(1);
      for (const r of refused) expect((r.reason as { code?: string }).code).toBe("last_admin");
      expect(await activeAdmins()).toBe(1);
    });
  });
}
