import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import type { AuditService, RequestMeta } from "../audit/audit.service.js";
import type { SessionUser } from "../session/session.repository.js";
import type { SessionService } from "../session/session.service.js";
import type { Notifier } from "../email/notifier.js";
import { passwordProblems, type PasswordHasher } from "./password.js";
import { deleteUserChallenges } from "../challenge/challenge.repository.js";
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

export function userViewFromRow(row: SessionUser): UserView {
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    email_verified: row.email_verified === 1,
    mfa_enabled: row.mfa_enabled === 1,
    created_at: new Date(row.created_at).toISOString(),
    last_login_at: iso(row.last_login_at),
    previous_login_at: iso(row.previous_login_at),
    roles: row.roles.split(",").filter((role) => role !== ""),
  };
}

// A session cached by the session lookup keeps one user object, so its view is built once, not per request.
const views = new WeakMap<SessionUser, UserView>();

/** The view of a user read with its session; shared between requests, so never to be changed. */
export function cachedUserView(user: SessionUser): UserView {
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

/** Checks a password and, when the account has 2FA on, a current code — for sensitive account changes. */
export interface ReauthVerifier {
  reauthenticate(
    userId: string,
    input: { password: string; code?: string | undefined },
    meta: RequestMeta,
  ): Promise<repo.UserRow>;
}

export interface UserService {
  me(userId: string): Promise<UserView>;
  changePassword(
    auth: { userId: string; sessionId: string },
    input: { current_password: string; new_password: string; code?: string | undefined },
    meta: RequestMeta,
  ): Promise<void>;
  deleteAccount(
    userId: string,
    input: { password: string; code?: string | undefined },
    meta: RequestMeta,
  ): Promise<void>;
  deleteAccountNow(userId: string, meta: RequestMeta): Promise<void>;
}

export function createUserService(deps: {
  db: Kysely<Database>;
  clock: Clock;
  hasher: PasswordHasher;
  sessions: SessionService;
  audit: AuditService;
  reauth: ReauthVerifier;
  notifier: Notifier;
  revokeTrustedDevices(userId: string, executor: Kysely<Database>): Promise<void>;
}): UserService {
  const { db, hasher, sessions, audit, reauth, notifier } = deps;
  const service: UserService = {
    async me(userId) {
      const row = await repo.findUserById(db, userId);
      if (row === undefined) throw new AppError("unauthorized");
      return userViewFromRow(row);
    },

    async changePassword(auth, input, meta) {
      const user = await reauth.reauthenticate(
        auth.userId,
        { password: input.current_password, code: input.code },
        meta,
      );
      assertPasswordAcceptable(input.new_password, "new_password", { username: user.username, email: user.email });
      const passwordHash = await hasher.hash(input.new_password);
      await db.transaction().execute(async (trx) => {
        await repo.updateUser(trx, user.id, { password_hash: passwordHash });
        await sessions.revokeOthers(user.id, auth.sessionId, trx);
        await deps.revokeTrustedDevices(user.id, trx);
        await deleteUserChallenges(trx, user.id);
        await audit.record({ type: "password_changed", userId: user.id, meta }, trx);
      });
      notifier.notify(user, "password_changed", meta);
    },

    async deleteAccount(userId, input, meta) {
      await reauth.reauthenticate(userId, input, meta);
      await service.deleteAccountNow(userId, meta);
    },

    async deleteAccountNow(userId, meta) {
      await db.transaction().execute(async (trx) => {
        await repo.deleteUserCascade(trx, userId);
        await audit.record({ type: "account_deleted", userId: null, meta, detail: { user_id: userId } }, trx);
      });
    },
  };
  return service;
}
