import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import type { Database } from "../../db/database.js";
import { retryingConflicts } from "../../db/outage.js";
import { AppError, type ErrorCode } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import type { ClientIdentity, KnownClients } from "../attempt/known-clients.js";
import type { AuditService } from "../audit/audit.service.js";
import type { Notifier } from "../notify/notifier.js";
import type { SecondFactorLockout } from "../second-factor/lockout.js";
import { hasDeviceFromUserAgent } from "../second-factor/trusted-device/trusted-device.repository.js";
import { hasAnySession, hasSessionFromUserAgent } from "../session/session.repository.js";
import type { OpenedSession, SessionService, TokenPair } from "../session/session.service.js";
import type { AuthMethod } from "../token/token.service.js";
import { recordLogin, type UserRow } from "../user/user.repository.js";
import { userViewFromRow, type UserView } from "../user/user.service.js";

/** A login whose rows are written (in the caller's transaction) but whose tokens are not yet signed. */
export interface OpenedLogin {
  opened: OpenedSession;
  now: number;
  fromNewDevice: boolean;
}

/** The end of every login, whichever factors it took: its writes, then its tokens. */
export interface LoginWrites {
  /**
   * A login's writes, in the caller's transaction: the login time (user row first, as the password,
   * reset, lock and deletion transactions take it, so none of them and a login can deadlock), the
   * session and the audit event. Refuses with `options.refusal` when the account was deleted or
   * locked since it was read. After a second factor the same UPDATE clears the lockout. `client`
   * becomes a known client of the account in the same transaction (attempt/known-clients.ts).
   */
  open(
    trx: Kysely<Database>,
    user: UserRow,
    amr: AuthMethod[],
    meta: RequestMeta,
    options: {
      refusal: ErrorCode;
      afterSecondFactor?: boolean;
      client?: ClientIdentity | undefined;
      /** The login's user UPDATE already ran, and matched, in the caller (lockout.recordLoginAhead). */
      recorded?: true;
      /** The first read of the "new sign-in" check, already sent by the caller (hasSessionFromUserAgent). */
      seenUserAgent?: Promise<boolean> | undefined;
    },
  ): Promise<OpenedLogin>;
  /**
   * After the commit: signs the access token (on SQLite a transaction holds the only connection)
   * and tells the owner of a new device.
   */
  finish(
    user: UserRow,
    login: OpenedLogin,
    meta: RequestMeta,
    /** policy.require_2fa as read with `user`, for a login that read both before its transaction. */
    policy?: { requireTwoFactor: string | null },
  ): Promise<{ tokens: TokenPair; user: UserView }>;
  /** open and finish, in a transaction of its own: a login that needs no other write. */
  issue(
    user: UserRow,
    amr: AuthMethod[],
    meta: RequestMeta,
    client?: ClientIdentity,
  ): Promise<{ tokens: TokenPair; user: UserView }>;
}

export function createLoginWrites(deps: {
  db: Kysely<Database>;
  clock: Clock;
  sessions: SessionService;
  lockout: SecondFactorLockout;
  audit: AuditService;
  notifier: Notifier;
  knownClients: KnownClients;
}): LoginWrites {
  const { db, clock, sessions, lockout, audit, notifier, knownClients } = deps;

  /**
   * For the "new sign-in" notice: true when the account has signed in before, but never from this
   * user agent (no session and no remembered device with it). Read before the new session is
   * stored; two indexed lookups by user id, three for the first login from a new browser.
   */
  async function isNewUserAgent(
    trx: Kysely<Database>,
    userId: string,
    userAgent: string | null,
    seen = hasSessionFromUserAgent(trx, userId, userAgent),
  ): Promise<boolean> {
    if (await seen) return false;
    if (await hasDeviceFromUserAgent(trx, userId, userAgent)) return false;
    // The very first session of an account (made outside register, e.g. by the CLI) is not a "new device".
    return hasAnySession(trx, userId);
  }

  const writes: LoginWrites = {
    async open(trx, user, amr, meta, options) {
      const now = clock.now();
      const recorded =
        options.recorded === true
          ? true
          : options.afterSecondFactor === true
            ? await lockout.recordLogin(user.id, now, trx)
            : await recordLogin(trx, user.id, now);
      if (!recorded) throw new AppError(options.refusal);
      // Read before the new session exists; skipped for accounts without an address to notify.
      const fromNewDevice =
        user.email !== null && (await isNewUserAgent(trx, user.id, meta.userAgent, options.seenUserAgent));
      const opened = await sessions.openSession(user.id, amr, meta, trx);
      await audit.record({ type: "login_succeeded", userId: user.id, meta, detail: { amr: amr.join(" ") } }, trx);
      // The notice commits with the login it tells of.
      if (fromNewDevice) await notifier.notify(user, "new_device_login", meta, trx);
      if (options.client !== undefined) await knownClients.remember(user.id, options.client, trx);
      return { opened, now, fromNewDevice };
    },

    async finish(user, login, _meta, policy) {
      const subject = policy && {
        roles: user.roles,
        mfa_enabled: user.mfa_enabled,
        require_2fa: policy.requireTwoFactor,
      };
      const tokens = await sessions.tokensFor(login.opened, subject);
      // The login shifted the times in one UPDATE; mirror it rather than read the row again.
      return {
        tokens,
        user: userViewFromRow({ ...user, previous_login_at: user.last_login_at, last_login_at: login.now }),
      };
    },

    async issue(user, amr, meta, client) {
      // Run again if MySQL picks it as a deadlock victim (the known client's upsert takes index gaps).
      const login = await retryingConflicts(() =>
        db
          .transaction()
          .execute((trx) => writes.open(trx, user, amr, meta, { refusal: "invalid_credentials", client })),
      );
      return writes.finish(user, login, meta);
    },
  };
  return writes;
}
