import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import { adminRole, isRoleName } from "../../policy.js";
import type { RequestMeta } from "../../request-meta.js";
import type { AccountService } from "../account/account.service.js";
import type { AuditEventView } from "../audit/audit.events.js";
import type { AuditService } from "../audit/audit.service.js";
import type { OidcService } from "../oidc/oidc.service.js";
import type { SecondFactorEnrollment } from "../second-factor/enrollment.service.js";
import type { SecondFactorService } from "../second-factor/second-factor.service.js";
import type { SessionService, SessionView } from "../session/session.service.js";
import { assertAnotherAdminRemains } from "../user/last-admin.js";
import { lockAdministration } from "../user/policy.repository.js";
import { searchUsers, type UserFilter } from "../user/user-search.repository.js";
import * as users from "../user/user.repository.js";
import { rolesOf, userViewFromRow, type UserView } from "../user/user.service.js";

export type AdminUserView = UserView & { locked: boolean };

/** One kind of second factor a user holds: never secret material, only what it is, its name and dates. */
export interface FactorView {
  kind: string;
  name: string | null;
  created_at: string;
  /** How many (recovery codes: the unused ones). */
  count: number;
}

export interface UserDetail {
  user: AdminUserView;
  factors: FactorView[];
  sessions: SessionView[];
  events: AuditEventView[];
}

/** Who acts: the signed-in administrator (API) or null (the CLI, run by the operator). */
export type Actor = { id: string } | null;

/** What an administrator does to accounts (SPEC §2 "Admin and policy"); every change is audited with its actor. */
export interface AdminService {
  listUsers(
    filter: UserFilter,
    page: { limit: number; offset: number },
  ): Promise<{ users: AdminUserView[]; total: number }>;
  userDetail(userId: string): Promise<UserDetail>;
  /** A lock ends every session at once and refuses every sign-in; 409 last_admin for the last administrator. */
  setLocked(actor: Actor, userId: string, locked: boolean, meta: RequestMeta): Promise<void>;
  revokeSessions(actor: Actor, userId: string, meta: RequestMeta): Promise<number>;
  resetSecondFactor(actor: Actor, userId: string, meta: RequestMeta): Promise<void>;
  /** Replaces the roles; 422 for a bad name, 409 last_admin when it would leave no administrator. */
  setRoles(actor: Actor, userId: string, roles: readonly string[], meta: RequestMeta): Promise<string[]>;
  deleteUser(actor: Actor, userId: string, meta: RequestMeta): Promise<void>;
  /** The CLI's `user grant-admin` and `create-admin`. */
  grantRole(username: string, role: string): Promise<void>;
}

// What a factor's `method` (its amr value) is called in the admin view.
const factorKinds: Record<string, string> = { otp: "totp", recovery: "recovery_codes", hwk: "passkey" };

export function createAdminService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  sessions: SessionService;
  audit: AuditService;
  secondFactor: SecondFactorService;
  enrollment: SecondFactorEnrollment;
  account: AccountService;
  /** Lock, "revoke sessions" and a two-factor reset end the user's grants to other applications too. */
  oidc: Pick<OidcService, "deleteUserRows">;
}): AdminService {
  const { db, sessions, audit, secondFactor, enrollment, account, oidc } = deps;
  const viewOf = (row: users.UserRow): AdminUserView => ({ ...userViewFromRow(row), locked: row.locked === 1 });
  const iso = (ms: number): string => new Date(ms).toISOString();

  async function existing(userId: string): Promise<users.UserRow> {
    const user = await users.findUserById(db, userId);
    if (user === undefined) throw new AppError("not_found", "No such user.");
    return user;
  }

  async function factorsOf(userId: string): Promise<FactorView[]> {
    const views: FactorView[] = [];
    for (const { method, credentials } of await secondFactor.listFactorsByMethod(userId)) {
      const kind = factorKinds[method] ?? method;
      if (method === "recovery") {
        const [oldest] = credentials;
        if (oldest !== undefined)
          views.push({ kind, name: null, created_at: iso(oldest.createdAt), count: credentials.length });
        continue;
      }
      for (const credential of credentials)
        views.push({ kind, name: credential.name ?? null, created_at: iso(credential.createdAt), count: 1 });
    }
    return views;
  }

  return {
    async listUsers(filter, page) {
      const { rows, total } = await searchUsers(db, filter, page);
      return { users: rows.map(viewOf), total };
    },

    async userDetail(userId) {
      const user = await existing(userId);
      const [factors, list, events] = await Promise.all([
        factorsOf(userId),
        sessions.listFor(userId, null),
        audit.list({ userId, limit: 50 }),
      ]);
      return { user: viewOf(user), factors, sessions: list, events };
    },

    async setLocked(actor, userId, locked, meta) {
      await db.transaction().execute(async (trx) => {
        await (locked ? assertAnotherAdminRemains(trx, userId) : existingIn(trx, userId));
        await users.setLocked(trx, userId, locked);
        if (locked) await sessions.revokeOthers(userId, null, trx);
        if (locked) await oidc.deleteUserRows(trx, userId);
        const type = locked ? "account_locked" : "account_unlocked";
        await audit.record({ type, userId, actorId: actor?.id ?? null, meta }, trx);
      });
    },

    async revokeSessions(actor, userId, meta) {
      await existing(userId);
      return db.transaction().execute(async (trx) => {
        const count = await sessions.revokeOthers(userId, null, trx);
        await oidc.deleteUserRows(trx, userId);
        const detail = { sessions: count };
        await audit.record(
          { type: "sessions_revoked_by_admin", userId, actorId: actor?.id ?? null, meta, detail },
          trx,
        );
        return count;
      });
    },

    async resetSecondFactor(actor, userId, meta) {
      await enrollment.resetByAdmin(userId, meta, actor?.id ?? null);
      await oidc.deleteUserRows(db, userId);
    },

    async setRoles(actor, userId, roles, meta) {
      const bad = roles.filter((role) => !isRoleName(role));
      if (bad.length > 0 || roles.length > 32)
        throw new AppError(
          "validation_failed",
          "Role names are 1 to 32 characters: a lower-case letter, then lower-case letters, digits, _ or -.",
          undefined,
          bad.map(() => ({ field: "roles", message: "not a valid role name" })),
        );
      const next = [...new Set(roles)].sort();
      await db.transaction().execute(async (trx) => {
        const user = next.includes(adminRole)
          ? await existingIn(trx, userId)
          : await assertAnotherAdminRemains(trx, userId);
        await users.setRoles(trx, user.id, next);
        const detail = { from: rolesOf(user).join(","), to: next.join(",") };
        await audit.record({ type: "roles_changed", userId, actorId: actor?.id ?? null, meta, detail }, trx);
      });
      return next;
    },

    deleteUser: (actor, userId, meta) => account.deleteAccountNow(userId, meta, actor?.id ?? null),

    async grantRole(username, role) {
      const user = await users.findUserByUsername(db, username);
      if (user === undefined) throw new AppError("not_found", "No such user.");
      const roles = new Set(rolesOf(user));
      roles.add(role);
      await users.setRoles(db, user.id, [...roles]);
    },
  };
}

async function existingIn(trx: Kysely<Database>, userId: string): Promise<users.UserRow> {
  await lockAdministration(trx);
  const user = await users.findUserById(trx, userId);
  if (user === undefined) throw new AppError("not_found", "No such user.");
  return user;
}
