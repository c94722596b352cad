import type { Kysely } from "kysely";
import { AppError } from "../errors.js";
import type { Database } from "./database.js";
import { dbEventsOf } from "./events.js";
import { retryingConflicts } from "./outage.js";

/**
 * Runs `work` in one transaction that also commits when `work` refuses with an AppError, and
 * throws that refusal after the commit. For checks whose refusals write too: a counted attempt,
 * a lock or an audited failure must persist, and one commit is cheaper than one per statement.
 * Any other error rolls the transaction back as usual; a deadlock or serialization victim is run
 * again (db/outage.ts), so `work` must not have effects outside the transaction; each retry is
 * reported through db/events.ts (logged and counted by the app).
 */
export async function transactionKeepingRefusals<T>(
  db: Kysely<Database>,
  work: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  const events = dbEventsOf(db);
  const outcome = await retryingConflicts(
    () =>
      db.transaction().execute(async (trx): Promise<{ value: T } | { refusal: AppError }> => {
        try {
          return { value: await work(trx) };
        } catch (error) {
          if (error instanceof AppError) return { refusal: error };
          throw error;
        }
      }),
    (error) => events.emit("conflict_retry", error),
  );
  if ("refusal" in outcome) throw outcome.refusal;
  return outcome.value;
}
