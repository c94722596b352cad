import { Redis } from "ioredis";
import type { Kysely } from "kysely";
import type { Config } from "./config.js";
import { createKeyring, type Keyring, type SecretKey } from "./crypto/encryption.js";
import { loadSecretKeys } from "./crypto/secret-key-file.js";
import { createDb } from "./db/connect.js";
import type { Database } from "./db/database.js";
import { migrateToLatest } from "./db/migrator.js";

export interface Runtime {
  db: Kysely<Database>;
  keyring: Keyring;
  secretKey: SecretKey;
  redis: Redis | null;
  generatedKey: boolean;
  close(): Promise<void>;
}

/** Opens what the server and the CLI share: the keys, the database (migrated) and Redis if configured. */
export async function openRuntime(config: Readonly<Config>, options: { migrate: boolean }): Promise<Runtime> {
  const { keys, generated } = loadSecretKeys(config.secretKey, config.dataDir);
  const [primary] = keys;
  if (primary === undefined) throw new Error("TESSERA_SECRET_KEY: no key");
  const db = createDb(config.databaseUrl);
  if (options.migrate) await migrateToLatest(db);
  const redis = config.redisUrl === null ? null : new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
  return {
    db, keyring: createKeyring(keys), secretKey: primary, redis, generatedKey: generated,
    async close() {
      await db.destroy();
      if (redis !== null) redis.disconnect();
    },
  };
}
