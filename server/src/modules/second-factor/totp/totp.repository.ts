import type { Kysely, Selectable } from "kysely";
import type { Database, TOTPCredentialTable } from "../../../db/database.js";
import { affectedRows, preparedQuery } from "../../../db/prepared.js";

export type TOTPCredentialRow = Selectable<TOTPCredentialTable>;
/** What checking a code needs of a confirmed credential. */
export type ActiveCredential = Pick<TOTPCredentialRow, "id" | "secret_ciphertext">;

const active = preparedQuery((db, p: { userId: string }) =>
  db.selectFrom("totp_credential").selectAll().where("user_id", "=", p.userId).where("confirmed_at", "is not", null),
);
const stepUsed = preparedQuery((db, p: { id: string; step: number }) =>
  db
    .updateTable("totp_credential")
    .set({ last_used_step: p.step })
    .where("id", "=", p.id)
    .where("last_used_step", "<", p.step),
);

export async function findActiveCredential(
  db: Kysely<Database>,
  userId: string,
): Promise<TOTPCredentialRow | undefined> {
  return (await active.execute(db, { userId })).rows[0];
}

export async function findPendingCredential(
  db: Kysely<Database>,
  userId: string,
  now: number,
): Promise<TOTPCredentialRow | undefined> {
  return db
    .selectFrom("totp_credential")
    .selectAll()
    .where("user_id", "=", userId)
    .where("confirmed_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
}

export async function deletePendingCredentials(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom("totp_credential").where("user_id", "=", userId).where("confirmed_at", "is", null).execute();
}

export async function deleteAllCredentials(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom("totp_credential").where("user_id", "=", userId).execute();
}

export async function insertCredential(db: Kysely<Database>, row: TOTPCredentialRow): Promise<void> {
  await db.insertInto("totp_credential").values(row).execute();
}

/** Confirms a pending secret and records the confirming step, so that code cannot be replayed (STYLE S13). */
export async function confirmCredential(db: Kysely<Database>, id: string, step: number, now: number): Promise<boolean> {
  const result = await db
    .updateTable("totp_credential")
    .set({ confirmed_at: now, expires_at: null, last_used_step: step })
    .where("id", "=", id)
    .where("confirmed_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/**
 * consumeStep for a statement sent ahead (db/pipeline.ts): the UPDATE goes out at once, the promise
 * tells later whether the step was still unused.
 */
export function claimStep(db: Kysely<Database>, id: string, step: number): Promise<boolean> {
  return stepUsed.sendForReply(db, { id, step }).then((result) => affectedRows(result) === 1n);
}

/** Replay guard (STYLE S9): only a step later than the last accepted one moves the marker, atomically. */
export async function consumeStep(db: Kysely<Database>, id: string, step: number): Promise<boolean> {
  return affectedRows(await stepUsed.execute(db, { id, step })) === 1n;
}

export async function listAllCredentials(
  db: Kysely<Database>,
): Promise<Pick<TOTPCredentialRow, "id" | "secret_ciphertext">[]> {
  return db.selectFrom("totp_credential").select(["id", "secret_ciphertext"]).execute();
}

export async function updateCiphertext(db: Kysely<Database>, id: string, ciphertext: string): Promise<void> {
  await db.updateTable("totp_credential").set({ secret_ciphertext: ciphertext }).where("id", "=", id).execute();
}

export async function deleteOtherCredentials(db: Kysely<Database>, userId: string, keepId: string): Promise<void> {
  await db.deleteFrom("totp_credential").where("user_id", "=", userId).where("id", "!=", keepId).execute();
}

export async function listConfirmedCredentials(
  db: Kysely<Database>,
  userId: string,
): Promise<Pick<TOTPCredentialRow, "id" | "created_at">[]> {
  return db
    .selectFrom("totp_credential")
    .select(["id", "created_at"])
    .where("user_id", "=", userId)
    .where("confirmed_at", "is not", null)
    .orderBy("created_at", "asc")
    .orderBy("id", "asc")
    .execute();
}
