import { sql, type Kysely, type Selectable } from "kysely";
import type { Clock } from "../../clock.js";
import { hashSecret } from "../../crypto/hash.js";
import { randomToken } from "../../crypto/random.js";
import type { Database, KnownClientTable } from "../../db/database.js";
import { usesMysql } from "../../db/kysely-internals.js";
import { preparedQuery } from "../../db/prepared.js";

/** How long a client stays known after its last sign-in (SPEC: API clients by IP for 30 days). */
export const knownClientDays = 30;

/**
 * A sign-in renews a known client for `knownClientDays` plus this, and only once less than `knownClientDays`
 * is left: a client is known for at least 30 days after its last sign-in (at most 31), and the sign-ins of
 * one day write its row once. Every other sign-in only reads the row: the login's commit writes fewer pages.
 */
const renewalSlackMs = 24 * 60 * 60 * 1000;

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
  /**
   * After a successful sign-in: the browser (by its cookie) and the IP address are known for 30 days (up to
   * 31: see renewalSlackMs).
   * One statement; pass the login's transaction as `executor` to commit it with the login.
   */
  remember(userId: string, client: ClientIdentity, executor?: Kysely<Database>): Promise<void>;
  /**
   * The key of this client's own allowance on the account, or null for a stranger. One query whether or
   * not the account exists (pass null), so its time tells nothing.
   */
  allowanceKey(userId: string | null, client: ClientIdentity): Promise<string | null>;
}

const cookieHash = (token: string): string => hashSecret(`cookie:${token}`);
const ipHash = (ip: string): string => hashSecret(`ip:${ip}`);

type KnownClientRow = Selectable<KnownClientTable>;

/**
 * Inserts the rows, or renews those the account knows already whose expiry comes before `renewBefore`
 * (a row that needs no renewal is left unwritten): one statement whatever the dialect.
 */
function upsert(db: Kysely<Database>, rows: KnownClientRow[], expiresAt: number, renewBefore: number) {
  const insert = db.insertInto("known_client").values(rows);
  return usesMysql(db)
    ? // MySQL writes no row whose columns keep their values.
      insert.onDuplicateKeyUpdate({
        expires_at: sql<number>`if(${sql.ref("expires_at")} < ${renewBefore}, ${expiresAt}, ${sql.ref("expires_at")})`,
      })
    : insert.onConflict((conflict) =>
        conflict
          .columns(["user_id", "client_hash"])
          .doUpdateSet({ expires_at: expiresAt })
          .where("known_client.expires_at", "<", renewBefore),
      );
}
const row = (p: KnownClientRow): KnownClientRow => ({
  user_id: p.user_id,
  client_hash: p.client_hash,
  created_at: p.created_at,
  expires_at: p.expires_at,
});
type Renewal = KnownClientRow & { renew_before: number };
const upsertOne = preparedQuery((db, p: Renewal) => upsert(db, [row(p)], p.expires_at, p.renew_before));
const upsertTwo = preparedQuery((db, p: Renewal & { second_hash: string }) =>
  upsert(db, [row(p), { ...row(p), client_hash: p.second_hash }], p.expires_at, p.renew_before),
);

export function createKnownClients(deps: { db: Kysely<Database>; clock: Clock }): KnownClients {
  const { db, clock } = deps;
  const hashesOf = (client: ClientIdentity): string[] => [
    ...(client.cookie === undefined || client.cookie === "" ? [] : [cookieHash(client.cookie)]),
    ...(client.ip === null ? [] : [ipHash(client.ip)]),
  ];

  return {
    newCookieToken: () => randomToken(256),

    async remember(userId, client, executor = db) {
      const now = clock.now();
      const renew_before = now + knownClientDays * 24 * 60 * 60 * 1000;
      const expires_at = renew_before + renewalSlackMs;
      const [first, second] = hashesOf(client);
      if (first === undefined) return;
      const values = { user_id: userId, client_hash: first, created_at: now, expires_at, renew_before };
      if (second === undefined) await upsertOne.send(executor, values);
      else await upsertTwo.send(executor, { ...values, second_hash: second });
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
