import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new one.
// `policy`: one row (id 1), the two-factor policy (SPEC §2 "Admin and policy"). `require_2fa` is NULL until
// the first start writes REQUIRE_2FA into it; after that only an administrator changes it.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("policy")
    .addColumn("id", "integer", (col) => col.primaryKey())
    .addColumn("require_2fa", "varchar(1100)")
    .addColumn("updated_at", "bigint")
    .execute();
  await db.insertInto("policy").values({ id: 1, require_2fa: null, updated_at: null }).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("policy").execute();
}
