import type { ExpressionBuilder, Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import type { RequestMeta } from "../audit/audit.service.js";

/** @default 10 failures inside the window lock the second factor */
export const mfaFailuresPerWindow = 10;
export const mfaWindowInSeconds = 60 * 15; // 15 minutes
export const mfaFirstLockInSeconds = 60; // doubles with every lockout
export const mfaMaxLockInSeconds = 60 * 60 * 24; // 1 day
/** NIST SP 800-63B §5.2.2: never more than 100 consecutive failed attempts on one account. */
export const mfaMaxConsecutiveFailures = 100;
const lockedForever = Number.MAX_SAFE_INTEGER;

export interface MFALockout {
  /**
   * Counts an attempt *before* the code is checked (increment-then-check), so parallel guesses can
   * never exceed the limit; a success clears it again. Throws rate_limited while locked.
   * `meta` is the request that made the attempt: a lockout it starts is audited with its IP and user agent.
   */
  beginAttempt(userId: string, meta: RequestMeta): Promise<{ lockedNow: boolean }>;
  recordSuccess(userId: string): Promise<void>;
  reset(userId: string, executor?: Kysely<Database>): Promise<void>;
}

export function createMFALockout(deps: { db: Kysely<Database>; clock: Clock; onLocked(userId: string, lockedUntil: number, meta: RequestMeta): Promise<void> }): MFALockout {
  const { db, clock } = deps;
  return {
    async beginAttempt(userId, meta) {
      const now = clock.now();
      const windowStart = now - mfaWindowInSeconds * 1000;
      const unlocked = (eb: ExpressionBuilder<Database, "user">) => eb.or([eb("mfa_locked_until", "is", null), eb("mfa_locked_until", "<=", now)]);
      const windowOver = (eb: ExpressionBuilder<Database, "user">) => eb.or([eb("mfa_window_started_at", "is", null), eb("mfa_window_started_at", "<", windowStart)]);
      // One conditional UPDATE both checks and counts (STYLE S9): it matches only while the account is
      // unlocked and this attempt is inside both limits. Reading the counters back afterwards would see
      // parallel attempts' increments and refuse attempts that were still within the limit.
      // MySQL evaluates SET left to right with new values, so mfa_failed_count must come before the window column.
      const counted = await db.updateTable("user")
        .set((eb) => ({
          mfa_failed_count: eb.case().when(windowOver(eb)).then(1).else(eb("mfa_failed_count", "+", 1)).end(),
          mfa_window_started_at: eb.case().when(windowOver(eb)).then(now).else(eb.ref("mfa_window_started_at")).end(),
          mfa_consecutive_failures: eb("mfa_consecutive_failures", "+", 1),
        }))
        .where("id", "=", userId)
        .where(unlocked)
        .where((eb) => eb.or([windowOver(eb), eb("mfa_failed_count", "<", mfaFailuresPerWindow)]))
        .where("mfa_consecutive_failures", "<", mfaMaxConsecutiveFailures)
        .executeTakeFirst();
      if (counted.numUpdatedRows === 1n) return { lockedNow: false };

      // Refused: already locked, or one attempt past a limit, which starts the lock.
      const row = await db.selectFrom("user").select(["mfa_consecutive_failures", "mfa_lockouts", "mfa_locked_until"])
        .where("id", "=", userId).executeTakeFirst();
      if (row !== undefined && (row.mfa_locked_until === null || row.mfa_locked_until <= now)) {
        const lockedUntil = row.mfa_consecutive_failures >= mfaMaxConsecutiveFailures
          ? lockedForever
          : now + Math.min(mfaFirstLockInSeconds * 2 ** row.mfa_lockouts, mfaMaxLockInSeconds) * 1000;
        const locked = await db.updateTable("user")
          .set((eb) => ({ mfa_locked_until: lockedUntil, mfa_lockouts: eb("mfa_lockouts", "+", 1), mfa_failed_count: 0, mfa_window_started_at: null }))
          .where("id", "=", userId)
          .where(unlocked)
          // Still past a limit: a success in between (which clears the counters) must not be followed by a lock.
          .where((eb) => eb.or([
            eb("mfa_consecutive_failures", ">=", mfaMaxConsecutiveFailures),
            eb.and([eb("mfa_window_started_at", ">=", windowStart), eb("mfa_failed_count", ">=", mfaFailuresPerWindow)]),
          ]))
          .executeTakeFirst();
        if (locked.numUpdatedRows === 1n) await deps.onLocked(userId, lockedUntil, meta);
      }
      throw await lockedError(userId);
    },

    async recordSuccess(userId) {
      await this.reset(userId);
    },

    async reset(userId, executor = db) {
      await executor.updateTable("user")
        .set({ mfa_failed_count: 0, mfa_window_started_at: null, mfa_consecutive_failures: 0, mfa_locked_until: null, mfa_lockouts: 0 })
        .where("id", "=", userId).execute();
    },
  };

  async function lockedError(userId: string): Promise<AppError> {
    const row = await db.selectFrom("user").select("mfa_locked_until").where("id", "=", userId).executeTakeFirst();
    const until = row?.mfa_locked_until ?? clock.now() + mfaFirstLockInSeconds * 1000;
    const retryAfter = until === lockedForever ? 60 * 60 * 24 : Math.max(1, Math.ceil((until - clock.now()) / 1000));
    return new AppError("rate_limited", "Too many wrong codes. Two-factor sign-in is locked for now.", retryAfter);
  }
}
