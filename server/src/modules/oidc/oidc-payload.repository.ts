import type { Kysely } from "kysely";
import type { Database, OidcPayloadTable } from "../../db/database.js";

export type OidcPayloadRow = OidcPayloadTable;

/** Replaces the document (kind, id): a delete and an insert in one transaction, alike on every dialect. */
export async function upsertPayload(db: Kysely<Database>, row: OidcPayloadRow): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom("oidc_payload").where("kind", "=", row.kind).where("id", "=", row.id).execute();
    await trx.insertInto("oidc_payload").values(row).execute();
  });
}

export async function findPayload(
  db: Kysely<Database>,
  where: { kind: string } & ({ id: string } | { uid: string }),
): Promise<OidcPayloadRow | undefined> {
  let query = db.selectFrom("oidc_payload").selectAll().where("kind", "=", where.kind);
  query = "id" in where ? query.where("id", "=", where.id) : query.where("uid", "=", where.uid);
  return query.executeTakeFirst();
}

/** Marks a document consumed unless it already is; false when it was (a second use, maybe in parallel). */
export async function consumePayload(db: Kysely<Database>, kind: string, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable("oidc_payload")
    .set({ consumed_at: now })
    .where("kind", "=", kind)
    .where("id", "=", id)
    .where("consumed_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function deletePayload(db: Kysely<Database>, kind: string, id: string): Promise<void> {
  await db.deleteFrom("oidc_payload").where("kind", "=", kind).where("id", "=", id).execute();
}

/** Every document of a grant, whatever its kind (codes, access and refresh tokens, the grant itself). */
export async function deleteByGrantId(db: Kysely<Database>, grantId: string): Promise<void> {
  await db.deleteFrom("oidc_payload").where("grant_id", "=", grantId).execute();
}

export async function deleteByClientId(db: Kysely<Database>, clientId: string): Promise<void> {
  await db.deleteFrom("oidc_payload").where("client_id", "=", clientId).execute();
}

/** An account's grants, tokens and sessions, when the account is deleted. */
export async function deleteByUserId(db: Kysely<Database>, userId: string): Promise<void> {
  await db.deleteFrom("oidc_payload").where("user_id", "=", userId).execute();
}

export async function deleteExpired(db: Kysely<Database>, now: number): Promise<number> {
  const result = await db.deleteFrom("oidc_payload").where("expires_at", "<", now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
