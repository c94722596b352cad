import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import { hashSecret } from "../../crypto/hash.js";
import { randomToken } from "../../crypto/random.js";
import type { Database } from "../../db/database.js";
import { isUniqueViolation } from "../../db/errors.js";

/** How long a client stays known after its last sign-in (SPEC: API clients by IP for 30 days). */
export const knownClientDays = 30;

/** What identifies a client to an account: the `tessera_client` cookie's token (browsers), and the IP address. */
export interface ClientIdentity {
  cookie?: string | undefined;
  ip: string | null;
}

/**
 * Clients that signed in to an account before (SPEC "Accounts and login"): each keeps an allowance of its
 * own, so failures from elsewhere can slow an account's strangers but never stop its owner.
 */
export interface KnownClients {
  /** A fresh token for the `tessera_client` cookie of a browser that has none yet. */
  newCookieToken(): string;
  /** After a successful sign-in: the browser (by its cookie) and the IP address are known for 30 days. */
  remember(userId: string, client: ClientIdentity): Promise<void>;
  /**
   * The key of this client's own allowance on the account, or null for a stranger. One query whether or
   * not the account exists (pass null), so its time tells nothing.
   */
  allowanceKey(userId: string | null, client: ClientIdentity): Promise<string | null>;
}

const cookieHash = (token: string): string => hashSecret(`cookie:${token}`);
const ipHash = (ip: string): string => hashSecret(`ip:${ip}`);

export function createKnownClients(deps: { db: Kysely<Database>; clock: Clock }): KnownClients {
  const { db, clock } = deps;
  const hashesOf = (client: ClientIdentity): string[] => [
    ...(client.cookie === undefined || client.cookie === "" ? [] : [cookieHash(client.cookie)]),
    ...(client.ip === null ? [] : [ipHash(client.ip)]),
  ];

  return {
    newCookieToken: () => randomToken(256),

    async remember(userId, client) {
      const now = clock.now();
      const expiresAt = now + knownClientDays * 24 * 60 * 60 * 1000;
      for (const clientHash of hashesOf(client)) {
        const renewed = await db
          .updateTable("known_client")
          .set({ expires_at: expiresAt })
          .where("user_id", "=", userId)
          .where("client_hash", "=", clientHash)
          .executeTakeFirst();
        if (renewed.numUpdatedRows > 0n) continue;
        try {
          await db
            .insertInto("known_client")
            .values({ user_id: userId, client_hash: clientHash, created_at: now, expires_at: expiresAt })
            .execute();
        } catch (error) {
          // Two sign-ins of one client at once: the other inserted it.
          if (!isUniqueViolation(error)) throw error;
        }
      }
    },

    async allowanceKey(userId, client) {
      const hashes = hashesOf(client);
      if (hashes.length === 0) return null;
      const rows = await db
        .selectFrom("known_client")
        .select("client_hash")
        .where("user_id", "=", userId ?? "")
        .where("client_hash", "in", hashes)
        .where("expires_at", ">", clock.now())
        .execute();
      // The cookie first: a known browser keeps its allowance on any network.
      const found = hashes.find((hash) => rows.some((row) => row.client_hash === hash));
      return found === undefined || userId === null ? null : `${userId}:${found.slice(0, 32)}`;
    },
  };
}

/** Rows of a deleted account. */
export async function deleteUserKnownClients(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom("known_client").where("user_id", "=", userId).execute();
}

/** Deletes up to `limit` clients no longer known (30 days without a sign-in); how many it deleted. */
export async function purgeExpiredKnownClients(db: Kysely<Database>, now: number, limit: number): Promise<number> {
  const rows = await db
    .selectFrom("known_client")
    .select(["user_id", "client_hash"])
    .where("expires_at", "<=", now)
    .limit(limit)
    .execute();
  for (const row of rows) {
    await db
      .deleteFrom("known_client")
      .where("user_id", "=", row.user_id)
      .where("client_hash", "=", row.client_hash)
      .where("expires_at", "<=", now)
      .execute();
  }
  return rows.length;
}
