import type { FastifyBaseLogger } from "fastify";
import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import type { Database } from "../../db/database.js";
import { purgeExpiredKnownClients } from "../attempt/known-clients.js";
import { purgeExpiredLinks } from "../email/link-token.repository.js";
import { purgeExpiredChallenges } from "../login/challenge.repository.js";
import { purgeExpiredDevices } from "../second-factor/trusted-device/trusted-device.repository.js";
import { purgeExpiredSessions } from "../session/session.repository.js";

/** Rows deleted per statement: short transactions, so a purge never holds the database for long. */
export const purgeBatchSize = 500;
/** How often the server purges: every 10 minutes (`tessera purge` does it at once). */
export const purgeIntervalInMs = 10 * 60 * 1000;

export type PurgeCounts = Record<
  "login_challenge" | "link_token" | "session" | "trusted_device" | "known_client",
  number
>;

/**
 * Expired rows of every kind (SPEC §3): login challenges, emailed links, sessions with their refresh
 * tokens, trusted devices and known clients. Each table is emptied in bounded batches, yielding to other
 * work between them; each module's repository deletes its own rows.
 */
export interface Purger {
  run(): Promise<PurgeCounts>;
  /** Purges every `purgeIntervalInMs` until stop(); the timer never keeps the process alive. */
  start(): void;
  stop(): Promise<void>;
}

type PurgeBatch = (db: Kysely<Database>, now: number, limit: number) => Promise<number>;

const batches: [keyof PurgeCounts, PurgeBatch][] = [
  ["login_challenge", purgeExpiredChallenges],
  ["link_token", purgeExpiredLinks],
  ["session", purgeExpiredSessions],
  ["trusted_device", purgeExpiredDevices],
  ["known_client", purgeExpiredKnownClients],
];

export function createPurger(deps: { db: Kysely<Database>; clock: Clock; log: FastifyBaseLogger }): Purger {
  const { db, clock, log } = deps;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<PurgeCounts> | null = null;

  async function purgeAll(): Promise<PurgeCounts> {
    const counts: PurgeCounts = { login_challenge: 0, link_token: 0, session: 0, trusted_device: 0, known_client: 0 };
    const now = clock.now();
    for (const [table, purge] of batches) {
      for (;;) {
        const deleted = await purge(db, now, purgeBatchSize);
        counts[table] += deleted;
        if (deleted < purgeBatchSize) break;
        await new Promise((resolve) => setImmediate(resolve)); // let requests in between batches
      }
    }
    return counts;
  }

  const purger: Purger = {
    async run() {
      // One purge at a time per process: a slow one is joined, not doubled.
      running ??= purgeAll().finally(() => {
        running = null;
      });
      return running;
    },
    start() {
      if (timer !== null) return;
      timer = setInterval(() => {
        purger.run().then(
          (counts) => log.debug({ purged: counts }, "expired rows purged"),
          (error: unknown) => log.warn({ err: error }, "purging expired rows failed; will try again"),
        );
      }, purgeIntervalInMs);
      timer.unref();
    },
    async stop() {
      if (timer !== null) clearInterval(timer);
      timer = null;
      await running?.catch(() => undefined);
    },
  };
  return purger;
}
