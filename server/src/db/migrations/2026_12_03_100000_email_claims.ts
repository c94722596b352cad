import type { Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new one.
// An address is an identity only once verified (SPEC "Email"): `user.email` now holds a verified address
// only (still unique), and an address not yet verified is a claim in `user.email_claim`, which several
// accounts may hold at once. Unverified addresses of existing accounts become their claims.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("user").addColumn("email_claim", "varchar(254)").execute();
  await db.schema.createIndex("user_email_claim_idx").on("user").column("email_claim").execute();
  // email_claim is set first: MySQL evaluates SET left to right with the new values.
  await db
    .updateTable("user")
    .set((eb) => ({ email_claim: eb.ref("email"), email: null }))
    .where("email", "is not", null)
    .where("email_verified", "<>", 1)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  // A claim goes back into `email` where no other account holds that address (`email` is unique).
  const claims = await db
    .selectFrom("user")
    .select(["id", "email_claim"])
    .where("email", "is", null)
    .where("email_claim", "is not", null)
    .execute();
  for (const { id, email_claim } of claims as { id: string; email_claim: string }[]) {
    const taken = await db.selectFrom("user").select("id").where("email", "=", email_claim).executeTakeFirst();
    if (taken === undefined)
      await db.updateTable("user").set({ email: email_claim, email_verified: 0 }).where("id", "=", id).execute();
  }
  try {
    await db.schema.dropIndex("user_email_claim_idx").execute(); // SQLite cannot drop an indexed column
  } catch {
    // MySQL wants `DROP INDEX … ON user`; it drops the index with the column anyway.
  }
  await db.schema.alterTable("user").dropColumn("email_claim").execute();
}
