import { AppError } from "../../errors.js";
import type { CounterStore } from "./limiter.js";

export interface AccountLimit {
  /** How many hits a key may take inside the window. */
  max: number;
  windowInSeconds: number;
}

/** Per-account (or per-address) limits on top of the per-IP ones: failures against one name add up across IPs. */
export interface AccountLimiter {
  /** Throws rate_limited once the key has used its allowance. */
  check(scope: string, key: string, limit: AccountLimit): Promise<void>;
  /** Counts one hit (a failure, a sent link). */
  hit(scope: string, key: string, limit: AccountLimit): Promise<void>;
  /** check, then hit: for actions that count every time (link requests). */
  consume(scope: string, key: string, limit: AccountLimit): Promise<void>;
  /** consume without the error: false once the allowance is used up (for work done after the reply). */
  take(scope: string, key: string, limit: AccountLimit): Promise<boolean>;
  /**
   * Counts an attempt *before* it is checked, so parallel attempts cannot all pass a limit that only
   * failures should use up; `release` takes it back when the attempt did not fail. Throws rate_limited.
   */
  reserve(scope: string, key: string, limit: AccountLimit): Promise<void>;
  release(scope: string, key: string): Promise<void>;
}

export function createAccountLimiter(store: CounterStore, enabled: boolean): AccountLimiter {
  const name = (scope: string, key: string): string => `${scope}:${key}`;
  return {
    async check(scope, key, limit) {
      if (!enabled) return;
      const { count, resetInSeconds } = await store.peek(name(scope, key));
      if (count >= limit.max) throw new AppError("rate_limited", undefined, Math.max(1, resetInSeconds));
    },
    async hit(scope, key, limit) {
      if (!enabled) return;
      await store.hit(name(scope, key), limit.windowInSeconds);
    },
    async consume(scope, key, limit) {
      if (!enabled) return;
      const { count, resetInSeconds } = await store.hit(name(scope, key), limit.windowInSeconds);
      if (count > limit.max) throw new AppError("rate_limited", undefined, Math.max(1, resetInSeconds));
    },
    async take(scope, key, limit) {
      if (!enabled) return true;
      const { count } = await store.hit(name(scope, key), limit.windowInSeconds);
      return count <= limit.max;
    },
    async reserve(scope, key, limit) {
      if (!enabled) return;
      const { count, resetInSeconds } = await store.hit(name(scope, key), limit.windowInSeconds);
      if (count > limit.max) {
        await store.release(name(scope, key));
        throw new AppError("rate_limited", undefined, Math.max(1, resetInSeconds));
      }
    },
    async release(scope, key) {
      if (!enabled) return;
      await store.release(name(scope, key));
    },
  };
}

/** Mails one address may get an hour that its owner did not ask for, notices included (SPEC "Accounts and login"). */
export const unrequestedMailsPerAddress: AccountLimit = { max: 5, windowInSeconds: 60 * 60 }; // 1 hour

export const loginFailuresPerAccount: AccountLimit = { max: 20, windowInSeconds: 60 * 15 }; // 15 minutes
