import { MysqlAdapter, PostgresAdapter, type Kysely } from "kysely";
import type { Database } from "./database.js";

/*
 * The one place Tessera reaches into Kysely's internals. `Kysely#getExecutor()` is marked
 * `@internal`: stable within the pinned 0.28 line, but free to change in any release.
 * test/db/kysely-internals.test.ts pins what is relied on here, so an upgrade that breaks it fails there.
 */

/**
 * An object that a database shares with every transaction opened on it, and with no other database
 * (its dialect adapter). Compiled queries and a SQLite database's held-connection runner are kept
 * per key (db/prepared.ts): Kysely gives a transaction no public link back to its database.
 */
export function executorKey(executor: Kysely<Database>): object {
  return executor.getExecutor().adapter;
}

/** Whether the database speaks MySQL (for the few statements whose syntax differs: an upsert). */
export function usesMysql(executor: Kysely<Database>): boolean {
  return executorKey(executor) instanceof MysqlAdapter;
}

/** Whether the database is PostgreSQL, whose transactions send statements ahead (db/pipeline.ts). */
export function usesPostgres(executor: Kysely<Database>): boolean {
  return executorKey(executor) instanceof PostgresAdapter;
}
