import type { Kysely } from "kysely";
import type { Database, OidcClientTable } from "../../db/database.js";

export type OidcClientRow = OidcClientTable;

export async function insertClient(db: Kysely<Database>, row: OidcClientRow): Promise<void> {
  await db.insertInto("oidc_client").values(row).execute();
}

export async function findClient(db: Kysely<Database>, clientId: string): Promise<OidcClientRow | undefined> {
  return db.selectFrom("oidc_client").selectAll().where("client_id", "=", clientId).executeTakeFirst();
}

export async function listClients(db: Kysely<Database>): Promise<OidcClientRow[]> {
  return db.selectFrom("oidc_client").selectAll().orderBy("created_at").orderBy("client_id").execute();
}

/** True when a row was deleted. */
export async function deleteClient(db: Kysely<Database>, clientId: string): Promise<boolean> {
  const result = await db.deleteFrom("oidc_client").where("client_id", "=", clientId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
