import { sql, type Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import type { Database } from "../../db/database.js";
import { usesPostgres } from "../../db/kysely-internals.js";
import { sendRawAhead } from "../../db/pipeline.js";
import { AppError } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import type { ClientIdentity } from "../attempt/known-clients.js";
import type { SecondFactorLockout } from "../second-factor/lockout.js";
import type { TOTPFactor } from "../second-factor/totp/totp.service.js";
import type { AuthMethod } from "../token/token.service.js";
import { hasSessionFromUserAgent } from "../session/session.repository.js";
import * as challenges from "./challenge.repository.js";
import type { ChallengeForLogin } from "./challenge.repository.js";
import type { LoginWrites, OpenedLogin } from "./opened-login.js";

/**
 * The second step of a login with a TOTP code, with its statements sent together where the database
 * allows (db/pipeline.ts: on PostgreSQL three round trips where the general step in login.service.ts
 * takes seven). Same order, same outcome, same rows kept on a refusal as the general step:
 *
 * 1. The account's attempt and one of the token's are counted before the code is read (both sent at
 *    once; when the lockout refuses, the token's attempt goes back, as if never taken).
 * 2. A wrong code is refused as the general step refuses it (audited, counted).
 * 3. For a right code, the use of its time step, of the token and the login's user UPDATE (which also
 *    clears the lockout) go out together, behind a savepoint. Should any of them refuse (a replay, or
 *    an account an administrator locked after the token was read; the token's row is already held since
 *    step 1), the transaction rolls back to the savepoint and runs them one by one as the general step
 *    does, which decides the refusal and keeps what the general step keeps (a step used by a code whose
 *    token then failed stays used). The code is matched once: the refusals use the step it matched,
 *    whatever the clock says by then.
 *
 * Rows are taken in the order of every second-step transaction: user, challenge, TOTP credential.
 */
export interface CodeAtOnce {
  /**
   * In the caller's transaction, which commits also when this refuses (db/transaction.ts): the opened
   * login, or undefined, having sent nothing, when the input is not a TOTP code (a recovery code, a
   * passkey) or the account has no TOTP credential.
   */
  step(
    trx: Kysely<Database>,
    found: ChallengeForLogin,
    input: {
      code?: string | undefined;
      recoveryCode?: string | undefined;
      webauthn?: unknown;
      client?: ClientIdentity;
    },
    firstFactor: AuthMethod,
    meta: RequestMeta,
  ): Promise<OpenedLogin | undefined>;
}

/** A reply awaited later, maybe after a failure elsewhere ended the transaction: never an unhandled rejection. */
function later<T>(reply: Promise<T>): Promise<T> {
  reply.catch(() => undefined);
  return reply;
}

/**
 * Sends the statements in order and tells whether every one answered true. `together` (PostgreSQL): all
 * go out at once; otherwise each once the one before answered true: MySQL rolls a deadlock victim's whole
 * transaction back, and a statement sent after that would run outside any.
 */
async function allTrue(together: boolean, sends: (() => Promise<boolean>)[]): Promise<boolean> {
  if (!together) {
    for (const send of sends) if (!(await send())) return false;
    return true;
  }
  let all = true;
  for (const reply of sends.map((send) => later(send()))) if (!(await reply)) all = false;
  return all;
}

const savepoint = "tessera_code_at_once";

export function createCodeAtOnce(deps: {
  clock: Clock;
  totp: TOTPFactor;
  lockout: SecondFactorLockout;
  writes: LoginWrites;
  maxAttempts: number;
}): CodeAtOnce {
  const { clock, totp, lockout, writes, maxAttempts } = deps;
  return {
    async step(trx, found, input, firstFactor, meta) {
      const { user, credential } = found;
      const { code, client } = input;
      if (code === undefined || input.recoveryCode !== undefined || input.webauthn !== undefined) return undefined;
      if (credential === null) return undefined;
      const now = clock.now();
      const id = found.challenge.id;
      const together = usesPostgres(trx);
      const counted = later(lockout.countAhead(user.id, now, trx));
      const taken = together ? later(challenges.takeAttemptAhead(trx, id, maxAttempts, now)) : undefined;
      if (!(await counted)) {
        if (taken !== undefined && (await taken)) await challenges.giveBackAttempt(trx, id);
        return lockout.refuse(user.id, now, meta, trx);
      }
      if (!(await (taken ?? challenges.takeAttemptAhead(trx, id, maxAttempts, now)))) {
        await lockout.takeBack(user.id, trx);
        throw new AppError("login_token_expired");
      }
      const step = totp.matchingStep(credential, code);
      if (step === null) {
        // A wrong code: refused (audited, and counted above) as the general step's check refuses it.
        await totp.useMatchedStep(user.id, credential.id, null, meta, trx);
        throw new AppError("invalid_otp");
      }
      const amr: AuthMethod[] = [firstFactor, totp.method];
      const options = { refusal: "login_token_expired", afterSecondFactor: true, client } as const;
      await sendRawAhead(trx, `savepoint ${savepoint}`);
      // On PostgreSQL the "new sign-in" check's first read goes with them (read before the new session exists).
      const seenUserAgent =
        together && user.email !== null ? later(hasSessionFromUserAgent(trx, user.id, meta.userAgent)) : undefined;
      const usedAndRecorded = await allTrue(together, [
        () => totp.claimStep(credential.id, step, trx),
        () => challenges.consumeAhead(trx, id, now),
        () => lockout.recordLoginAhead(user.id, now, trx),
      ]);
      if (usedAndRecorded) return writes.open(trx, user, amr, meta, { ...options, recorded: true, seenUserAgent });
      await sql.raw(`rollback to savepoint ${savepoint}`).execute(trx);
      // The step the code matched above, not a second look at the code: the clock has moved on meanwhile.
      await totp.useMatchedStep(user.id, credential.id, step, meta, trx);
      if (!(await challenges.consumeChallenge(trx, id, now))) throw new AppError("login_token_expired");
      return writes.open(trx, user, amr, meta, options);
    },
  };
}
