import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import { afterAll, beforeAll } from "vitest";
import { buildApp } from "../../src/app.js";
import { fixedClock, type FixedClock } from "../../src/clock.js";
import { loadConfig, type Config } from "../../src/config.js";
import { createKeyring, parseSecretKeys } from "../../src/crypto/encryption.js";
import { createDb } from "../../src/db/connect.js";
import { createLogger } from "../../src/logger.js";
import type { Database } from "../../src/db/database.js";
import { migrateToLatest } from "../../src/db/migrator.js";
import { createRedisClient, redisReady } from "../../src/redis.js";
import type { Notifier } from "../../src/modules/notify/notifier.js";
import type { TestDialect } from "./dialects.js";

/** 2023-11-29T22:11:43Z: a fixed instant, so TOTP steps, expiries and lockouts are deterministic. */
export const testEpochSeconds = 1_701_295_903;

export interface TestApp {
  app: FastifyInstance;
  db: Kysely<Database>;
  clock: FixedClock;
  config: Readonly<Config>;
  databaseUrl: string;
  secretKey: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** A database another TestApp already uses (two instances, one database). */
  databaseUrl: string;
  clock?: FixedClock;
  env?: Record<string, string>;
  secretKey?: string;
  redisUrl?: string;
  notifier?: Notifier;
  /**
   * Where the app's log lines go, and from which level (e.g. `{ level: "debug", stream }` to capture
   * them); silent by default.
   */
  logger?: { level: string; stream: { write(line: string): void } };
  /** A built web UI to serve (a directory with index.html); none by default. */
  webDist?: string;
  /** SQLite group commit (on by default, as in the server); off for two instances in one process, see DbOptions. */
  groupCommit?: boolean;
  /** SQLite files: checkpoint the WAL on a thread of its own under write load, as the server does. */
  checkpointThread?: boolean;
  /** Hears every statement sent to the database (test/support/statements.ts counts them). */
  onStatement?: (sql: string) => void;
}

export function newSecretKey(): string {
  return randomBytes(32).toString("base64");
}

/** Like better-auth's getTestInstance: real migrations, a fixed clock, requests through app.inject. */
export async function buildTestApp(options: TestAppOptions): Promise<TestApp> {
  const secretKey = options.secretKey ?? newSecretKey();
  const config = loadConfig(
    {
      DATA_DIR: mkdtempSync(join(tmpdir(), "tessera-data-")),
      DATABASE_URL: options.databaseUrl,
      PUBLIC_URL: "http://tessera.test",
      TESSERA_SECRET_KEY: secretKey,
      RATE_LIMIT: "off",
      // Cheaper argon2id than production keeps the suites fast; the production default is tested on its own.
      PASSWORD_HASH_MEMORY_KIB: "4096",
      PASSWORD_HASH_ITERATIONS: "1",
      ...(options.redisUrl === undefined ? {} : { REDIS_URL: options.redisUrl }),
      ...options.env,
    },
    { webDist: options.webDist ?? null },
  );
  const db = createDb(config.databaseUrl, {
    groupCommit: options.groupCommit !== false,
    checkpointThread: options.checkpointThread === true,
    // Migrated before the thread matters: the suites that ask for it write at once and expect it to start.
    checkpointQuietMs: 0,
    ...(options.onStatement === undefined ? {} : { onStatement: options.onStatement }),
  });
  await migrateToLatest(db);
  const keys = parseSecretKeys(config.secretKey ?? secretKey);
  const [primary] = keys;
  if (primary === undefined) throw new Error("no key");
  const clock = options.clock ?? fixedClock(testEpochSeconds);
  // The server's own client (no offline queue): the suite's first requests wait for its connection.
  const redis = config.redisUrl === null ? null : createRedisClient(config.redisUrl);
  if (redis !== null) await redisReady(redis);
  const app = await buildApp(config, {
    db,
    clock,
    keyring: createKeyring(keys),
    secretKey: primary,
    redis,
    ...(options.notifier === undefined ? {} : { notifier: options.notifier }),
    ...(options.logger === undefined
      ? {}
      : { log: createLogger(options.logger.level, options.logger.stream, { redact: false }) }),
  });
  await app.ready();
  return {
    app,
    db,
    clock,
    config,
    databaseUrl: config.databaseUrl,
    secretKey,
    async close() {
      await app.close();
      await db.destroy();
      redis?.disconnect();
    },
  };
}

/** One fresh database and app per suite; `after` closes both. */
export async function appOn(
  dialect: TestDialect,
  options: Omit<TestAppOptions, "databaseUrl"> = {},
): Promise<TestApp & { dropDatabase(): Promise<void> }> {
  const database = await dialect.createDatabase();
  const testApp = await buildTestApp({ ...options, databaseUrl: database.url });
  return {
    ...testApp,
    dropDatabase: database.drop,
    async close() {
      await testApp.close();
      await database.drop();
    },
  };
}

/**
 * Two instances on one fresh database (as behind a load balancer), with one secret key and one fixed
 * clock, for a describe block: built before its tests, closed after them. `bind` receives both.
 */
export function useTwoInstances(dialect: TestDialect, bind: (a: TestApp, b: TestApp) => void): void {
  let a: TestApp | undefined;
  let b: TestApp | undefined;
  beforeAll(async () => {
    // Two SQLite writers in one thread: group commit off (see DbOptions.groupCommit); separate processes keep it on.
    a = await appOn(dialect, { groupCommit: false });
    b = await buildTestApp({ databaseUrl: a.databaseUrl, secretKey: a.secretKey, clock: a.clock, groupCommit: false });
    bind(a, b);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });
}
