import type { Kysely } from "kysely";
import type { Database, SigningKeyTable } from "../../db/database.js";

export type SigningKeyRow = SigningKeyTable;

export async function listSigningKeys(db: Kysely<Database>): Promise<SigningKeyRow[]> {
  return db.selectFrom("signing_key").selectAll().orderBy("created_at", "desc").orderBy("id", "desc").execute();
}

export async function insertSigningKey(db: Kysely<Database>, row: SigningKeyRow): Promise<void> {
  await db.insertInto("signing_key").values(row).execute();
}

export async function updateSigningKeyCiphertext(db: Kysely<Database>, id: string, ciphertext: string): Promise<void> {
  await db.updateTable("signing_key").set({ private_jwk_ciphertext: ciphertext }).where("id", "=", id).execute();
}

export async function deleteSigningKeysCreatedBefore(db: Kysely<Database>, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.deleteFrom("signing_key").where("id", "in", ids).execute();
}
