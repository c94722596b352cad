import { sql, type ExpressionBuilder, type Expression, type Kysely, type SqlBool } from "kysely";
import type { Database } from "../../db/database.js";
import { adminRole } from "../../policy.js";
import type { UserRow } from "./user.repository.js";

/*
 * Finding users by what administrators filter on, and counting administrators (SPEC §2 "Admin and
 * policy"). `user.roles` is a comma-separated list of role names ([a-z][a-z0-9_-]*), so holding a role is
 * one of four LIKE shapes; `_` is escaped, as in every user-given pattern here.
 */

/** `text` as a LIKE pattern matching itself only (`!` escapes `%`, `_` and `!`). */
function literal(text: string): string {
  return text.replace(/[!%_]/g, (c) => `!${c}`);
}

const like = (column: string, pattern: string): Expression<SqlBool> =>
  sql<SqlBool>`${sql.ref(column)} like ${pattern} escape '!'`;

/** The user's comma-separated `roles` holds `role`. */
export function hasRole(eb: ExpressionBuilder<Database, "user">, role: string): Expression<SqlBool> {
  const name = literal(role);
  return eb.or([
    eb("user.roles", "=", role),
    like("user.roles", `${name},%`),
    like("user.roles", `%,${name}`),
    like("user.roles", `%,${name},%`),
  ]);
}

export interface UserFilter {
  /** Part of the username or the email address. */
  q?: string;
  role?: string;
  /** Two-factor on (true) or off (false). */
  mfa?: boolean;
  locked?: boolean;
}

function filtered(db: Kysely<Database>, filter: UserFilter) {
  let query = db.selectFrom("user");
  if (filter.q !== undefined && filter.q !== "") {
    const pattern = `%${literal(filter.q.toLowerCase())}%`;
    // The address shown for an account: its verified one, or the one it claims (not yet verified).
    const fields = ["user.username", "user.email", "user.email_claim"] as const;
    query = query.where((eb) => eb.or(fields.map((field) => like(field, pattern))));
  }
  if (filter.role !== undefined) {
    const role = filter.role;
    query = query.where((eb) => hasRole(eb, role));
  }
  if (filter.mfa !== undefined) query = query.where("user.mfa_enabled", "=", filter.mfa ? 1 : 0);
  if (filter.locked !== undefined) query = query.where("user.locked", "=", filter.locked ? 1 : 0);
  return query;
}

/** One page of users, oldest account first, and how many match in all. */
export async function searchUsers(
  db: Kysely<Database>,
  filter: UserFilter,
  page: { limit: number; offset: number },
): Promise<{ rows: UserRow[]; total: number }> {
  const [rows, count] = await Promise.all([
    filtered(db, filter)
      .selectAll("user")
      .orderBy("user.created_at", "asc")
      .orderBy("user.id", "asc")
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    filtered(db, filter)
      .select((eb) => eb.fn.countAll<number | string | bigint>().as("count"))
      .executeTakeFirst(),
  ]);
  return { rows, total: Number(count?.count ?? 0) };
}

/** Unlocked administrators other than `exceptId`: who could still administer if that account went. */
export async function countOtherActiveAdmins(db: Kysely<Database>, exceptId: string): Promise<number> {
  const row = await db
    .selectFrom("user")
    .select((eb) => eb.fn.countAll<number | string | bigint>().as("count"))
    .where((eb) => hasRole(eb, adminRole))
    .where("user.locked", "=", 0)
    .where("user.id", "!=", exceptId)
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}

/** How many accounts hold any of `roles` (all accounts when `roles` is null), and how many of them lack two-factor. */
export async function countCovered(
  db: Kysely<Database>,
  roles: readonly string[] | null,
): Promise<{ users: number; withoutSecondFactor: number }> {
  let query = db.selectFrom("user");
  if (roles !== null) query = query.where((eb) => eb.or(roles.map((role) => hasRole(eb, role))));
  const row = await query
    .select((eb) => [
      eb.fn.countAll<number | string | bigint>().as("users"),
      eb.fn
        .sum<number | string | bigint | null>(eb.case().when("user.mfa_enabled", "=", 0).then(1).else(0).end())
        .as("without"),
    ])
    .executeTakeFirst();
  return { users: Number(row?.users ?? 0), withoutSecondFactor: Number(row?.without ?? 0) };
}
