import type { Kysely } from "kysely";
import type { Clock } from "../../../clock.js";
import { hashSecret } from "../../../crypto/hash.js";
import { timeOrderedId } from "../../../crypto/random.js";
import type { Database } from "../../../db/database.js";
import * as repo from "./passkey.repository.js";
import type { ChallengeBinding } from "./passkey.types.js";

export const challengeLifetimeInSeconds = 60 * 5; // 5 minutes: long enough to touch a key, short enough to go stale

/** What a challenge may be made for: a ceremony of sign-in, or a registration of this user. */
export type ChallengePurpose = ChallengeBinding | { purpose: "register"; userId: string };

/**
 * WebAuthn challenges kept server-side (SPEC "Passkeys"): stored hashed with what asked for them, used up once by
 * the assertion or attestation that signs them, within challengeLifetimeInSeconds.
 */
export interface ChallengeStore {
  store(challenge: string, binding: ChallengePurpose, executor: Kysely<Database>): Promise<void>;
  /** Uses up the challenge `clientDataJSON` carries, if it was made for `binding` and is live; its value, or null. */
  take(clientDataJSON: string, binding: ChallengePurpose, executor: Kysely<Database>): Promise<string | null>;
}

/** UTF-8 as WebAuthn decodes client data (a byte order mark is dropped), as the assertion check reads it. */
const utf8 = new TextDecoder();

/** The challenge the client signed, from clientDataJSON; null when it cannot be read. */
function signedChallenge(clientDataJSON: string): string | null {
  try {
    const data: unknown = JSON.parse(utf8.decode(Buffer.from(clientDataJSON, "base64url")));
    const challenge = typeof data === "object" && data !== null ? (data as { challenge?: unknown }).challenge : null;
    return typeof challenge === "string" && challenge.length > 0 && challenge.length <= 128 ? challenge : null;
  } catch {
    return null;
  }
}

const userOf = (binding: ChallengePurpose): string | null => ("userId" in binding ? binding.userId : null);
const loginOf = (binding: ChallengePurpose): string | null =>
  "loginChallengeId" in binding ? binding.loginChallengeId : null;

/** The store purges expired challenges at most this often (a bound on the table, not on any challenge's life). */
const purgeEveryMs = 1000;

export function createChallengeStore(clock: Clock): ChallengeStore {
  let purgedAt = Number.NEGATIVE_INFINITY;
  return {
    async store(challenge, binding, executor) {
      const now = clock.now();
      const row = {
        id: timeOrderedId(now),
        challenge_hash: hashSecret(challenge),
        purpose: binding.purpose,
        user_id: userOf(binding),
        login_challenge_id: loginOf(binding),
        created_at: now,
        expires_at: now + challengeLifetimeInSeconds * 1000,
        consumed_at: null,
      };
      // A transaction even for one INSERT: on SQLite it joins the group commit instead of committing alone.
      const write = async (trx: Kysely<Database>): Promise<void> => {
        if (now - purgedAt >= purgeEveryMs) {
          purgedAt = now;
          await repo.deleteExpiredChallenges(trx, now);
        }
        await repo.insertChallenge(trx, row);
      };
      await (executor.isTransaction ? write(executor) : executor.transaction().execute(write));
    },

    async take(clientDataJSON, binding, executor) {
      const challenge = signedChallenge(clientDataJSON);
      if (challenge === null) return null;
      const taken = await repo.consumeChallenge(executor, {
        challengeHash: hashSecret(challenge),
        purpose: binding.purpose,
        userId: userOf(binding),
        loginChallengeId: loginOf(binding),
        now: clock.now(),
      });
      return taken ? challenge : null;
    },
  };
}
