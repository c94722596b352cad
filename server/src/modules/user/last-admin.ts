import type { Kysely } from "kysely";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import { adminRole } from "../../policy.js";
import { lockAdministration } from "./policy.repository.js";
import { countOtherActiveAdmins } from "./user-search.repository.js";
import { findUserById, type UserRow } from "./user.repository.js";
import { rolesOf } from "./user.service.js";

/**
 * Inside `trx`, before a change that takes administration away from `userId` (losing the role, a lock, a
 * deletion): throws 409 `last_admin` when they are the last unlocked administrator, else returns the user
 * as read under the administration lock, so two such changes cannot each remove "the other" last admin.
 * Throws not_found when there is no such user.
 */
export async function assertAnotherAdminRemains(trx: Kysely<Database>, userId: string): Promise<UserRow> {
  await lockAdministration(trx);
  const user = await findUserById(trx, userId);
  if (user === undefined) throw new AppError("not_found", "No such user.");
  if (user.locked === 0 && rolesOf(user).includes(adminRole) && (await countOtherActiveAdmins(trx, userId)) === 0)
    throw new AppError("last_admin");
  return user;
}
