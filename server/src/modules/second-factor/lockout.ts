import type { ExpressionBuilder, Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import type { Database } from "../../db/database.js";
import { affectedRows, preparedQuery } from "../../db/prepared.js";
import { AppError } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import type { AuditService } from "../audit/audit.service.js";
import { shiftedLoginTimes } from "../user/user.repository.js";

/*
 * The one lockout of every second factor, held in the lockout columns of `user` (`mfa_failed_count`
 * … `mfa_lockouts`, names frozen with the schema). This file is the only writer of those columns.
 */

/** @default 10 failures inside the window lock the second factor */
export const failuresPerWindow = 10;
export const windowInSeconds = 60 * 15; // 15 minutes
export const firstLockInSeconds = 60; // doubles with every lockout
export const maxLockInSeconds = 60 * 60 * 24; // 1 day
/** NIST SP 800-63B §5.2.2: never more than 100 consecutive failed attempts on one account. */
export const maxConsecutiveFailures = 100;
const lockedForever = Number.MAX_SAFE_INTEGER;

/** The lockout columns of a user with no failures and no lock: a new account's, and after a success. */
export const clearedLockout = {
  mfa_failed_count: 0,
  mfa_window_started_at: null,
  mfa_consecutive_failures: 0,
  mfa_locked_until: null,
  mfa_lockouts: 0,
} as const;

type UserExpressions = ExpressionBuilder<Database, "user">;
const unlocked = (eb: UserExpressions, now: number) =>
  eb.or([eb("mfa_locked_until", "is", null), eb("mfa_locked_until", "<=", now)]);
const windowOver = (eb: UserExpressions, windowStart: number) =>
  eb.or([eb("mfa_window_started_at", "is", null), eb("mfa_window_started_at", "<", windowStart)]);

// One conditional UPDATE both checks and counts (STYLE S9): it matches only while the account is
// unlocked and this attempt is inside both limits. Reading the counters back afterwards would see
// parallel attempts' increments and refuse attempts that were still within the limit.
// MySQL evaluates SET left to right with new values, so mfa_failed_count must come before the
// window column.
const countAttempt = preparedQuery((db, p: { userId: string; now: number; windowStart: number }) =>
  db
    .updateTable("user")
    .set((eb) => ({
      mfa_failed_count: eb
        .case()
        .when(windowOver(eb, p.windowStart))
        .then(1)
        .else(eb("mfa_failed_count", "+", 1))
        .end(),
      // eb.val: a bare value in then() is inlined into the SQL text, not passed as a parameter.
      mfa_window_started_at: eb
        .case()
        .when(windowOver(eb, p.windowStart))
        .then(eb.val(p.now))
        .else(eb.ref("mfa_window_started_at"))
        .end(),
      mfa_consecutive_failures: eb("mfa_consecutive_failures", "+", 1),
    }))
    .where("id", "=", p.userId)
    .where((eb) => unlocked(eb, p.now))
    .where((eb) => eb.or([windowOver(eb, p.windowStart), eb("mfa_failed_count", "<", failuresPerWindow)]))
    .where("mfa_consecutive_failures", "<", maxConsecutiveFailures),
);

const clearCounters = preparedQuery((db, p: { userId: string }) =>
  db.updateTable("user").set(clearedLockout).where("id", "=", p.userId),
);

/** A login that passed a second factor: its login time and the cleared lockout, in one UPDATE. */
const loginClearingLockout = preparedQuery((db, p: { id: string; now: number }) =>
  db
    .updateTable("user")
    .set((eb) => ({ ...shiftedLoginTimes(eb, p.now), ...clearedLockout }))
    .where("id", "=", p.id)
    .where("locked", "=", 0),
);

export interface SecondFactorLockout {
  /**
   * Counts an attempt *before* the code is checked (increment-then-check), so parallel guesses can
   * never exceed the limit; a success clears it again. Throws rate_limited while locked.
   * `meta` is the request that made the attempt: a lockout it starts is audited with its IP and user agent.
   * Inside a transaction, pass it as `executor` and commit it also when this throws (the count and a
   * lock must persist).
   */
  beginAttempt(userId: string, meta: RequestMeta, executor?: Kysely<Database>): Promise<void>;
  /** A success: clears the counters and any lock. */
  reset(userId: string, executor?: Kysely<Database>): Promise<void>;
  /**
   * Uncounts the attempt beginAttempt counted, in the same transaction, when it turned out to be no
   * attempt at all (its login challenge had died meanwhile).
   */
  takeBack(userId: string, executor: Kysely<Database>): Promise<void>;
  /**
   * A login that passed a second factor, in its transaction: shifts the login times (as
   * user.repository's recordLogin) and clears the lockout. False when the user is gone or locked.
   */
  recordLogin(userId: string, now: number, executor: Kysely<Database>): Promise<boolean>;
  /**
   * beginAttempt in two halves, for a transaction that sends its statements ahead (db/pipeline.ts):
   * `countAhead` sends the counting UPDATE and resolves whether it counted (false: the lockout
   * refuses); `refuse` then does what beginAttempt does on a refusal (starts the lock when this
   * attempt is the one past a limit) and throws rate_limited.
   */
  countAhead(userId: string, now: number, executor: Kysely<Database>): Promise<boolean>;
  refuse(userId: string, now: number, meta: RequestMeta, executor: Kysely<Database>): Promise<never>;
  /** recordLogin, sent ahead: the statements after it go out before its reply is in. */
  recordLoginAhead(userId: string, now: number, executor: Kysely<Database>): Promise<boolean>;
}

export function createSecondFactorLockout(deps: {
  db: Kysely<Database>;
  clock: Clock;
  audit: AuditService;
}): SecondFactorLockout {
  const { clock, audit } = deps;
  const lockout: SecondFactorLockout = {
    async beginAttempt(userId, meta, db = deps.db) {
      const now = clock.now();
      const windowStart = now - windowInSeconds * 1000;
      const counted = await countAttempt.execute(db, { userId, now, windowStart });
      if (affectedRows(counted) !== 1n) await lockout.refuse(userId, now, meta, db);
    },

    countAhead(userId, now, executor) {
      const windowStart = now - windowInSeconds * 1000;
      return countAttempt
        .sendForReply(executor, { userId, now, windowStart })
        .then((result) => affectedRows(result) === 1n);
    },

    // Refused: already locked, or one attempt past a limit, which starts the lock.
    async refuse(userId, now, meta, db) {
      const windowStart = now - windowInSeconds * 1000;
      const row = await db
        .selectFrom("user")
        .select(["mfa_consecutive_failures", "mfa_lockouts", "mfa_locked_until"])
        .where("id", "=", userId)
        .executeTakeFirst();
      if (row !== undefined && (row.mfa_locked_until === null || row.mfa_locked_until <= now)) {
        const lockedUntil =
          row.mfa_consecutive_failures >= maxConsecutiveFailures
            ? lockedForever
            : now + Math.min(firstLockInSeconds * 2 ** row.mfa_lockouts, maxLockInSeconds) * 1000;
        const locked = await db
          .updateTable("user")
          .set((eb) => ({
            mfa_locked_until: lockedUntil,
            mfa_lockouts: eb("mfa_lockouts", "+", 1),
            mfa_failed_count: 0,
            mfa_window_started_at: null,
          }))
          .where("id", "=", userId)
          .where((eb) => unlocked(eb, now))
          // Still past a limit: a success in between (which clears the counters) must not be followed by a lock.
          .where((eb) =>
            eb.or([
              eb("mfa_consecutive_failures", ">=", maxConsecutiveFailures),
              eb.and([eb("mfa_window_started_at", ">=", windowStart), eb("mfa_failed_count", ">=", failuresPerWindow)]),
            ]),
          )
          .executeTakeFirst();
        if (locked.numUpdatedRows === 1n) {
          const until = new Date(Math.min(lockedUntil, 8.64e15)).toISOString(); // 8.64e15: the largest Date
          await audit.record({ type: "mfa_locked", userId, meta, detail: { locked_until: until } }, db);
        }
      }
      throw await lockedError(userId, db);
    },

    async reset(userId, executor = deps.db) {
      await clearCounters.execute(executor, { userId });
    },

    async takeBack(userId, executor) {
      await executor
        .updateTable("user")
        .set((eb) => ({
          mfa_failed_count: eb("mfa_failed_count", "-", 1),
          mfa_consecutive_failures: eb("mfa_consecutive_failures", "-", 1),
        }))
        .where("id", "=", userId)
        .where("mfa_failed_count", ">", 0)
        .where("mfa_consecutive_failures", ">", 0)
        .execute();
    },

    async recordLogin(userId, now, executor) {
      return affectedRows(await loginClearingLockout.execute(executor, { id: userId, now })) === 1n;
    },

    recordLoginAhead(userId, now, executor) {
      return loginClearingLockout
        .sendForReply(executor, { id: userId, now })
        .then((result) => affectedRows(result) === 1n);
    },
  };

  return lockout;

  async function lockedError(userId: string, db: Kysely<Database>): Promise<AppError> {
    const row = await db.selectFrom("user").select("mfa_locked_until").where("id", "=", userId).executeTakeFirst();
    const until = row?.mfa_locked_until ?? clock.now() + firstLockInSeconds * 1000;
    const retryAfter = until === lockedForever ? 60 * 60 * 24 : Math.max(1, Math.ceil((until - clock.now()) / 1000));
    return new AppError("rate_limited", "Too many wrong codes. Two-factor sign-in is locked for now.", retryAfter);
  }
}
