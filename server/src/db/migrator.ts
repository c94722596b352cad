import type { Kysely, Migration, MigrationProvider, MigrationResultSet } from "kysely";
import { Migrator } from "kysely";
import type { Database } from "./database.js";
import * as initial from "./migrations/2026_11_24_000000_initial.js";
import * as sessionAuthTime from "./migrations/2026_12_02_100000_session_auth_time.js";
import * as emailClaims from "./migrations/2026_12_03_100000_email_claims.js";
import * as knownClient from "./migrations/2026_12_03_100100_known_client.js";
import * as expiryIndexes from "./migrations/2026_12_03_100200_expiry_indexes.js";
import * as passkeys from "./migrations/2026_12_03_200000_passkeys.js";
import * as policy from "./migrations/2026_12_03_300000_policy.js";
import * as auditActor from "./migrations/2026_12_03_300100_audit_actor.js";
import * as oidc from "./migrations/2026_12_03_400000_oidc.js";
import * as refreshSuccessor from "./migrations/2026_12_03_600000_refresh_successor.js";
import * as mailOutbox from "./migrations/2026_12_03_600001_mail_outbox.js";
import * as changeVersion from "./migrations/2026_12_05_2_000000_change_version.js";
import * as oidcPayloadSealed from "./migrations/2026_12_05_4_000000_oidc_payload_sealed.js";

/** Migrations are listed here (not read from disk) so the compiled and the test builds find the same set. */
const migrations: Record<string, Migration> = {
  "2026_11_24_000000_initial": initial,
  "2026_12_02_100000_session_auth_time": sessionAuthTime,
  "2026_12_03_100000_email_claims": emailClaims,
  "2026_12_03_100100_known_client": knownClient,
  "2026_12_03_100200_expiry_indexes": expiryIndexes,
  "2026_12_03_200000_passkeys": passkeys,
  "2026_12_03_300000_policy": policy,
  "2026_12_03_300100_audit_actor": auditActor,
  "2026_12_03_400000_oidc": oidc,
  "2026_12_03_600000_refresh_successor": refreshSuccessor,
  "2026_12_03_600001_mail_outbox": mailOutbox,
  "2026_12_05_2_000000_change_version": changeVersion,
  "2026_12_05_4_000000_oidc_payload_sealed": oidcPayloadSealed,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export function createMigrator(db: Kysely<Database>): Migrator {
  return new Migrator({
    db,
    provider,
    migrationTableName: "tessera_migration",
    migrationLockTableName: "tessera_migration_lock",
  });
}

/** Applies every pending migration; throws on the first failure so callers can exit non-zero. */
export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationResultSet> {
  const result = await createMigrator(db).migrateToLatest();
  if (result.error !== undefined) {
    throw result.error instanceof Error ? result.error : new Error(String(result.error));
  }
  return result;
}
