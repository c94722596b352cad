import type { Redis } from "ioredis";
import type { Kysely } from "kysely";
import type { Config } from "./config.js";
import { createKeyring, type Keyring, type SecretKey } from "./crypto/encryption.js";
import { loadSecretKeys } from "./crypto/secret-key-file.js";
import { changeBus } from "./db/bus/change-bus.js";
import { createDb } from "./db/connect.js";
import type { Database } from "./db/database.js";
import { migrateToLatest } from "./db/migrator.js";
import { createRedisClient } from "./redis.js";

export interface Runtime {
  db: Kysely<Database>;
  keyring: Keyring;
  secretKey: SecretKey;
  redis: Redis | null;
  generatedKey: boolean;
  close(): Promise<void>;
}

/** Opens what the server and the CLI share: the keys, the database (migrated) and Redis if configured. */
export async function openRuntime(
  config: Readonly<Config>,
  options: { migrate: boolean; checkpointThread?: boolean },
): Promise<Runtime> {
  const { keys, generated } = loadSecretKeys(config.secretKey, config.dataDir);
  const [primary] = keys;
  if (primary === undefined) throw new Error("TESSERA_SECRET_KEY: no key");
  let db: Kysely<Database> | undefined;
  try {
    db = createDb(config.databaseUrl, {
      checkpointThread: options.checkpointThread === true,
      ...(config.databasePoolSize === null ? {} : { poolSize: config.databasePoolSize }),
    });
    if (options.migrate) await migrateToLatest(db);
  } catch (error) {
    await db?.destroy().catch(() => undefined);
    // Name the variable (SPEC §1), never the URL itself: it may carry a password.
    // The driver's error is not attached as `cause`: its message or fields may carry the URL's password.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(`DATABASE_URL: cannot open the database: ${describeError(error)}`);
  }
  const redis = config.redisUrl === null ? null : createRedisClient(config.redisUrl);
  return {
    db,
    keyring: createKeyring(keys),
    secretKey: primary,
    redis,
    generatedKey: generated,
    async close() {
      // What the bus still has to send (a CLI's rotation, lock…) goes out while the database is open.
      await changeBus(db).close();
      await db.destroy();
      if (redis !== null) redis.disconnect();
    },
  };
}

/** A one-line reason; connection failures to several addresses arrive as an AggregateError with an empty message. */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.message === "") return error.errors.map(describeError).join("; ");
  if (error instanceof Error) return error.message || ("code" in error ? String(error.code) : error.name);
  return String(error);
}
