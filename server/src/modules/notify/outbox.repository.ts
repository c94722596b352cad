import type { Kysely } from "kysely";
import type { DialectName } from "../../db/connect.js";
import type { Database } from "../../db/database.js";

export interface ClaimedRow {
  id: string;
  body_ciphertext: string;
  created_at: number;
  /** Tries so far, this one included. */
  attempts: number;
}

export async function insert(
  db: Kysely<Database>,
  row: { id: string; body_ciphertext: string; created_at: number; next_attempt_at: number },
): Promise<void> {
  await db
    .insertInto("mail_outbox")
    .values({ ...row, attempts: 0, claimed_by: null, sent_at: null, failed_at: null, last_error: null })
    .execute();
}

/**
 * Takes up to `batchSize` due messages for `workerId` until `leaseUntil`; no two workers get one row.
 * PostgreSQL and MySQL lock the candidates with FOR UPDATE SKIP LOCKED (another worker's claim in
 * progress is passed over, not waited for); SQLite has one writer at a time, and each row is taken by a
 * conditional UPDATE that a row claimed meanwhile fails.
 */
export async function claimDue(
  db: Kysely<Database>,
  dialect: DialectName,
  p: { workerId: string; now: number; leaseUntil: number; batchSize: number },
): Promise<ClaimedRow[]> {
  const due = (trx: Kysely<Database>) =>
    trx
      .selectFrom("mail_outbox")
      .select("id")
      .where("sent_at", "is", null)
      .where("failed_at", "is", null)
      .where("next_attempt_at", "<=", p.now)
      .orderBy("next_attempt_at")
      .limit(p.batchSize);
  const take = (trx: Kysely<Database>, ids: string[]) =>
    trx
      .updateTable("mail_outbox")
      .set((eb) => ({ claimed_by: p.workerId, next_attempt_at: p.leaseUntil, attempts: eb("attempts", "+", 1) }))
      .where("id", "in", ids)
      .where("sent_at", "is", null)
      .where("failed_at", "is", null)
      .where("next_attempt_at", "<=", p.now)
      .execute();
  let claimed: string[];
  if (dialect === "sqlite") {
    const ids = (await due(db).execute()).map((row) => row.id);
    claimed = [];
    for (const id of ids) {
      const [result] = await take(db, [id]);
      if (result !== undefined && result.numUpdatedRows === 1n) claimed.push(id);
    }
  } else {
    claimed = await db.transaction().execute(async (trx) => {
      const ids = (await due(trx).forUpdate().skipLocked().execute()).map((row) => row.id);
      if (ids.length > 0) await take(trx, ids);
      return ids;
    });
  }
  if (claimed.length === 0) return [];
  const rows = await db
    .selectFrom("mail_outbox")
    .select(["id", "body_ciphertext", "created_at", "attempts"])
    .where("id", "in", claimed)
    .where("claimed_by", "=", p.workerId)
    .execute();
  return rows.flatMap((row) =>
    row.body_ciphertext === null ? [] : [{ ...row, body_ciphertext: row.body_ciphertext }],
  );
}

export async function markSent(
  db: Kysely<Database>,
  id: string,
  workerId: string,
  now: number,
  keepBody: boolean,
): Promise<void> {
  await db
    .updateTable("mail_outbox")
    .set({ sent_at: now, claimed_by: null, last_error: null, ...(keepBody ? {} : { body_ciphertext: null }) })
    .where("id", "=", id)
    .where("claimed_by", "=", workerId)
    .execute();
}

export async function scheduleRetry(
  db: Kysely<Database>,
  id: string,
  workerId: string,
  at: number,
  lastError: string,
): Promise<void> {
  await db
    .updateTable("mail_outbox")
    .set({ next_attempt_at: at, claimed_by: null, last_error: lastError.slice(0, 255) })
    .where("id", "=", id)
    .where("claimed_by", "=", workerId)
    .execute();
}

export async function markFailed(
  db: Kysely<Database>,
  id: string,
  workerId: string,
  now: number,
  lastError: string,
): Promise<void> {
  await db
    .updateTable("mail_outbox")
    .set({ failed_at: now, claimed_by: null, body_ciphertext: null, last_error: lastError.slice(0, 255) })
    .where("id", "=", id)
    .where("claimed_by", "=", workerId)
    .execute();
}

/** When the next waiting message is due (or its current send's lease ends); undefined when none waits. */
export async function nextDue(db: Kysely<Database>): Promise<number | undefined> {
  const row = await db
    .selectFrom("mail_outbox")
    .select((eb) => eb.fn.min("next_attempt_at").as("next"))
    .where("sent_at", "is", null)
    .where("failed_at", "is", null)
    .executeTakeFirst();
  return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
}

export async function waiting(db: Kysely<Database>): Promise<{ count: number; oldest: number | null }> {
  const row = await db
    .selectFrom("mail_outbox")
    .select((eb) => [eb.fn.countAll().as("count"), eb.fn.min("created_at").as("oldest")])
    .where("sent_at", "is", null)
    .where("failed_at", "is", null)
    .executeTakeFirst();
  return {
    count: Number(row?.count ?? 0),
    oldest: row?.oldest === null || row?.oldest === undefined ? null : Number(row.oldest),
  };
}

export async function lastSent(
  db: Kysely<Database>,
  limit: number,
): Promise<{ id: string; body_ciphertext: string; sent_at: number }[]> {
  const rows = await db
    .selectFrom("mail_outbox")
    .select(["id", "body_ciphertext", "sent_at"])
    .where("sent_at", "is not", null)
    .where("body_ciphertext", "is not", null)
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
  return rows.flatMap((row) =>
    row.body_ciphertext === null || row.sent_at === null
      ? []
      : [{ id: row.id, body_ciphertext: row.body_ciphertext, sent_at: row.sent_at }],
  );
}

/** Sent and failed messages older than `before` (a week) go. */
export async function deleteOld(db: Kysely<Database>, before: number): Promise<void> {
  await db.deleteFrom("mail_outbox").where("sent_at", "<", before).execute();
  await db.deleteFrom("mail_outbox").where("failed_at", "<", before).execute();
}
