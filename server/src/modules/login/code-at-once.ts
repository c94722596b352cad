import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import type { Database } from "../../db/database.js";
import { dbEventsOf } from "../../db/events.js";
import { usesPostgres } from "../../db/kysely-internals.js";
import { isRetryableConflict } from "../../db/outage.js";
import { AppError } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import type { ClientIdentity } from "../attempt/known-clients.js";
import type { SecondFactorLockout } from "../second-factor/lockout.js";
import type { TOTPFactor } from "../second-factor/totp/totp.service.js";
import type { AuthMethod } from "../token/token.service.js";
import * as challenges from "./challenge.repository.js";
import type { ChallengeForLogin } from "./challenge.repository.js";
import type { LoginWrites, OpenedLogin } from "./opened-login.js";

/**
 * The second step of a login whose TOTP code is right, in one transaction whose checks do not wait
 * for each other. The code is checked first, in memory; then the login's user UPDATE (only while the
 * lockout allows an attempt), the claim of the code's time step and the consumption of the login
 * challenge (taking one of its attempts) go out together, with the new session's rows behind them
 * (db/pipeline.ts: on PostgreSQL one round trip instead of five). Rows are taken in the order every
 * second-step transaction takes them: user, then the challenge's and the credential's.
 *
 * All three must match, else the transaction rolls back and the caller runs the step the usual way
 * (login.service.ts), which counts the attempt and gives the refusal it deserves: a locked-out
 * account, a replayed code, a challenge used up or spent in parallel meanwhile. So a right code
 * changes nothing a wrong one would not have, except when it logs in.
 */
export interface CodeAtOnce {
  /**
   * The opened login, or null when the input is no TOTP code (a recovery code, a passkey), the account
   * has no TOTP credential, the code is wrong or any check refused: then nothing was written.
   */
  tryLogin(
    found: ChallengeForLogin,
    input: {
      code?: string | undefined;
      recoveryCode?: string | undefined;
      webauthn?: unknown;
      client?: ClientIdentity;
    },
    firstFactor: AuthMethod,
    meta: RequestMeta,
  ): Promise<OpenedLogin | null>;
}

/** Thrown inside the transaction to roll it back: a check did not match. */
class Refused extends Error {}

/** A reply awaited later, maybe after the transaction failed elsewhere: never an unhandled rejection. */
function later<T>(reply: Promise<T>): Promise<T> {
  reply.catch(() => undefined);
  return reply;
}

export function createCodeAtOnce(deps: {
  db: Kysely<Database>;
  clock: Clock;
  totp: TOTPFactor;
  lockout: SecondFactorLockout;
  writes: LoginWrites;
  maxAttempts: number;
}): CodeAtOnce {
  const { db, clock, totp, lockout, writes, maxAttempts } = deps;
  return {
    async tryLogin(found, input, firstFactor, meta) {
      const { user, credential } = found;
      const { code, client } = input;
      if (code === undefined || input.recoveryCode !== undefined || input.webauthn !== undefined) return null;
      const step = credential === null ? null : totp.matchingStep(credential, code);
      if (credential === null || step === null) return null;
      try {
        return await db.transaction().execute(async (trx) => {
          const now = clock.now();
          // Elsewhere than on PostgreSQL each is awaited before the next is sent: MySQL rolls a deadlock
          // victim's whole transaction back, and a statement sent after that would run outside any.
          const together = usesPostgres(trx);
          const recorded = later(lockout.recordLoginIfUnlocked(user.id, now, trx));
          if (!together && !(await recorded)) throw new Refused();
          const consumed = later(challenges.consumeWithAttempt(trx, found.challenge.id, maxAttempts, now));
          if (!together && !(await consumed)) throw new Refused();
          const claimed = later(totp.claimStep(credential.id, step, trx));
          if (!together && !(await claimed)) throw new Refused();
          const login = await writes.open(trx, user, [firstFactor, "otp"], meta, {
            refusal: "login_token_expired",
            afterSecondFactor: true,
            client,
            recorded,
          });
          if (!(await consumed) || !(await claimed)) throw new Refused();
          return login;
        });
      } catch (error) {
        if (error instanceof Refused || error instanceof AppError) return null;
        // A deadlock or serialization victim is rolled back too: the usual step runs it again.
        if (!isRetryableConflict(error)) throw error;
        dbEventsOf(db).emit("conflict_retry", error);
        return null;
        throw error;
      }
    },
  };
}
