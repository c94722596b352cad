import type { Kysely } from "kysely";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import { loginFailuresPerAccount, type AccountLimiter } from "../attempt/account-limits.js";
import type { AuditService } from "../audit/audit.service.js";
import { passwordProblems, type PasswordHasher } from "./password.js";
import * as repo from "./user.repository.js";

export interface UserView {
  id: string;
  username: string;
  email: string | null;
  email_verified: boolean;
  mfa_enabled: boolean;
  created_at: string;
  last_login_at: string | null;
  previous_login_at: string | null;
  roles: string[];
}

export function userViewFromRow(row: repo.UserProfile): UserView {
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: row.id,
    username: row.username,
    // The verified address; without one, the claimed address unverified. The view never depends on
    // what other accounts hold, so it reveals nothing about them (SPEC "Email").
    email: row.email ?? row.email_claim,
    email_verified: row.email !== null,
    mfa_enabled: row.mfa_enabled === 1,
    created_at: new Date(row.created_at).toISOString(),
    last_login_at: iso(row.last_login_at),
    previous_login_at: iso(row.previous_login_at),
    roles: rolesOf(row),
  };
}

export function rolesOf(row: Pick<repo.UserRow, "roles">): string[] {
  return row.roles.split(",").filter((role) => role !== "");
}

// A session cached by the session lookup keeps one user object, so its view is built once, not per request.
const views = new WeakMap<repo.UserProfile, UserView>();

/** The view of a user read with its session; shared between requests, so never to be changed. */
export function cachedUserView(user: repo.UserProfile): UserView {
  let view = views.get(user);
  if (view === undefined) {
    view = userViewFromRow(user);
    views.set(user, view);
  }
  return view;
}

/** NFKC + lower case, so "Alice" and "ａｌｉｃｅ" are one account. */
export function normalizeUsername(username: string): string {
  return username.normalize("NFKC").trim().toLowerCase();
}

export function normalizeEmail(email: string): string {
  return email.normalize("NFKC").trim().toLowerCase();
}

/** A name typed at login: an email address or a username, each normalised as such. */
export function normalizeLoginName(name: string): string {
  return name.includes("@") ? normalizeEmail(name) : normalizeUsername(name);
}

/** Throws validation_failed listing every reason a new password is refused. */
export function assertPasswordAcceptable(
  password: string,
  field: string,
  context: { username?: string; email?: string | null },
): void {
  const problems = passwordProblems(password, context);
  if (problems.length > 0) {
    throw new AppError(
      "validation_failed",
      `The password ${problems.join("; ")}.`,
      undefined,
      problems.map((message) => ({ field, message: `password ${message}` })),
    );
  }
}

export interface UserService {
  /** The password half of a re-check, under the per-account limit; for changes that need no code. */
  checkPassword(userId: string, password: string, meta: RequestMeta): Promise<repo.UserRow>;
}

export function createUserService(deps: {
  db: Kysely<Database>;
  hasher: PasswordHasher;
  audit: AuditService;
  limits: AccountLimiter;
}): UserService {
  const { db, hasher, audit, limits } = deps;
  return {
    async checkPassword(userId, password, meta) {
      const user = await repo.findUserById(db, userId);
      if (user === undefined) throw new AppError("unauthorized");
      // Re-checking the password is a password guess too: a stolen access token must not become an
      // unlimited oracle. Failures count per account as on login, reserved before the check.
      await limits.reserve("reauth", userId, loginFailuresPerAccount);
      const { valid } = await hasher.verify(user.password_hash, password);
      if (!valid) {
        await audit.record({ type: "login_failed", userId, meta, detail: { reason: "wrong_password_reauth" } });
        throw new AppError("invalid_credentials", "The password is not correct.");
      }
      await limits.release("reauth", userId);
      return user;
    },
  };
}
