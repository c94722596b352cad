import type { Kysely } from "kysely";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import type { AuditService } from "../audit/audit.service.js";
import type { SessionService } from "../session/session.service.js";
import * as users from "../user/user.repository.js";
import { rolesOf, userViewFromRow, type UserView } from "../user/user.service.js";

export interface AdminService {
  listUsers(limit: number, offset: number): Promise<(UserView & { locked: boolean })[]>;
  setLocked(userId: string, locked: boolean, meta: RequestMeta): Promise<void>;
  grantRole(username: string, role: string): Promise<void>;
}

export function createAdminService(deps: {
  db: Kysely<Database>;
  sessions: SessionService;
  audit: AuditService;
}): AdminService {
  const { db, sessions, audit } = deps;
  return {
    async listUsers(limit, offset) {
      const rows = await users.listUsers(db, limit, offset);
      return rows.map((row) => ({ ...userViewFromRow(row), locked: row.locked === 1 }));
    },
    async setLocked(userId, locked, meta) {
      const user = await users.findUserById(db, userId);
      if (user === undefined) throw new AppError("not_found", "No such user.");
      await db.transaction().execute(async (trx) => {
        await users.setLocked(trx, userId, locked);
        if (locked) await sessions.revokeOthers(userId, null, trx);
        await audit.record({ type: locked ? "account_locked" : "account_unlocked", userId, meta }, trx);
      });
    },
    async grantRole(username, role) {
      const user = await users.findUserByUsername(db, username);
      if (user === undefined) throw new AppError("not_found", "No such user.");
      const roles = new Set(rolesOf(user));
      roles.add(role);
      await users.setRoles(db, user.id, [...roles]);
    },
  };
}
