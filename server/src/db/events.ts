/*
 * Trouble below Kysely that no answer shows: a pooled connection that errors (killed by the server, a
 * network cut), the SQLite checkpoint thread dying, a transaction run again after a deadlock. db/
 * reports it here; the app logs and counts it (plugins/metrics.ts) without db/ knowing about either.
 */
import type { Kysely } from "kysely";
import type { Database } from "./database.js";

export type DbTrouble = "pool_error" | "checkpoint_thread_died" | "conflict_retry";
export type DbTroubleListener = (kind: DbTrouble, error: unknown) => void;

export interface DbEvents {
  emit(kind: DbTrouble, error: unknown): void;
  /** Hears every later event; returns the function that stops it. */
  on(listener: DbTroubleListener): () => void;
}

export function createDbEvents(): DbEvents {
  const listeners = new Set<DbTroubleListener>();
  return {
    emit(kind, error) {
      for (const listener of listeners) {
        try {
          listener(kind, error);
        } catch {
          // A listener's failure must not become the driver's (an "error" handler that throws crashes).
        }
      }
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

const registry = new WeakMap<Kysely<Database>, DbEvents>();

export function attachDbEvents(db: Kysely<Database>, events: DbEvents): Kysely<Database> {
  registry.set(db, events);
  return db;
}

/** The events of a database made by createDb; one that never fires for any other (a test's own Kysely). */
export function dbEventsOf(db: Kysely<Database>): DbEvents {
  return registry.get(db) ?? createDbEvents();
}
