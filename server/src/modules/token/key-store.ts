import { createPrivateKey, type KeyObject } from "node:crypto";
import { exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import { aadFor, type Keyring } from "../../crypto/encryption.js";
import { randomId } from "../../crypto/random.js";
import { changeBus } from "../../db/bus/change-bus.js";
import type { Database } from "../../db/database.js";
import { accessTokenType } from "./access-claims.js";
import * as repo from "./signing-key.repository.js";

export const signingAlgorithm = "EdDSA";

export interface LoadedKey {
  kid: string;
  publicJwk: JWK;
  publicKey: Awaited<ReturnType<typeof importJWK>>;
  privateKey: KeyObject;
  /** The JWS protected header, base64url: `alg`, `typ` (`at+jwt`) and this key's `kid`. */
  encodedHeader: string;
  createdAt: number;
}

export const base64url = (text: string): string => Buffer.from(text, "utf8").toString("base64url");

/**
 * The loaded keys are reloaded when the change bus (db/bus/) says `signing_key` changed, and in any case
 * once older than this: a notice lost on its way, or a key deleted by hand in SQL (which nobody announces),
 * still reaches this instance within a second.
 */
const keyMaxAgeMs = 1_000;
export interface KeyStore {
  /** The loaded keys, newest (the signing one) first. */
  keys(): LoadedKey[];
  /** Loads the keys unless the copy in memory is known to be current (or `force`); creates the first one. */
  ensureLoaded(force?: boolean): Promise<void>;
  /**
   * Whether a token naming an unknown `kid` may make us read the keys again now (a rotation the bus
   * has not brought yet): at most once a second, so forged kids cannot make every request a query.
   */
  mayReloadForUnknownKid(): boolean;
  createKey(): Promise<string>;
  /** Tells every instance (this one too) that the keys changed. */
  announceChange(): void;
}

/**
 * The signing keys, decrypted once and kept in memory. Another instance's rotation reaches this one
 * through the change bus (db/bus/): within a second, logged; `onChange` runs when it does.
 */
export function createKeyStore(deps: {
  db: Kysely<Database>;
  keyring: Keyring;
  clock: Clock;
  log?: { info(details: object, message: string): void } | undefined;
  onChange(): void;
}): KeyStore {
  const { db, keyring, clock, log } = deps;
  const bus = changeBus(db);
  let keys: LoadedKey[] = [];
  // performance.now(), not the injected clock: how old the copy in memory is, in real time.
  let loadedAt = -Infinity;
  let loadedAtByClock = -Infinity;
  let stale = true;
  let subscribed = false;
  let loading: Promise<void> | null = null;

  async function load(): Promise<void> {
    const startedAt = performance.now();
    stale = false;
    const rows = await repo.listSigningKeys(db);
    const before = keys.map((k) => k.kid);
    keys = await Promise.all(
      rows.map(async (row) => {
        const privateJwk: JWK = JSON.parse(
          keyring
            .decrypt(row.private_jwk_ciphertext, aadFor("signing_key", "private_jwk_ciphertext", row.id))
            .toString("utf8"),
        );
        const publicJwk: JWK = JSON.parse(row.public_jwk);
        return {
          kid: row.id,
          publicJwk,
          publicKey: await importJWK(publicJwk, signingAlgorithm),
          privateKey: createPrivateKey({ key: privateJwk, format: "jwk" }),
          encodedHeader: base64url(JSON.stringify({ alg: signingAlgorithm, typ: accessTokenType, kid: row.id })),
          createdAt: row.created_at,
        };
      }),
    );
    loadedAt = startedAt;
    loadedAtByClock = clock.now();
    const added = keys.map((k) => k.kid).filter((kid) => !before.includes(kid));
    const removed = before.filter((kid) => !keys.some((k) => k.kid === kid));
    if (before.length > 0 && added.length + removed.length > 0) {
      log?.info({ added, removed, signing: keys[0]?.kid }, "signing keys changed");
      // Found by the reload as well as announced: tokens verified under a removed key must not pass from a cache.
      deps.onChange();
    }
  }

  function fresh(): boolean {
    if (keys.length === 0 || stale) return false;
    return performance.now() - loadedAt < keyMaxAgeMs;
  }

  async function ensureLoaded(force = false): Promise<void> {
    if (!subscribed) {
      subscribed = true;
      bus.onChange((changed) => {
        if (changed !== "all" && !changed.has("signing_key")) return;
        stale = true;
        deps.onChange();
      });
    }
    if (!force && fresh()) return;
    loading ??= load().finally(() => {
      loading = null;
    });
    await loading;
    if (keys.length === 0) {
      await createKey();
      await load();
    }
  }

  async function createKey(): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(signingAlgorithm, { crv: "Ed25519", extractable: true });
    const id = randomId();
    const publicJwk = { ...(await exportJWK(publicKey)), kid: id, alg: signingAlgorithm, use: "sig" };
    const privateJwk = await exportJWK(privateKey);
    // The newest key signs; strictly after every stored key, even under a fixed clock or an instance whose clock lags.
    const [newest] = await repo.listSigningKeys(db);
    await repo.insertSigningKey(db, {
      id,
      algorithm: signingAlgorithm,
      public_jwk: JSON.stringify(publicJwk),
      private_jwk_ciphertext: keyring.encrypt(
        Buffer.from(JSON.stringify(privateJwk)),
        aadFor("signing_key", "private_jwk_ciphertext", id),
      ),
      created_at: Math.max(clock.now(), (newest?.created_at ?? 0) + 1),
    });
    return id;
  }

  return {
    keys: () => keys,
    ensureLoaded,
    mayReloadForUnknownKid: () => performance.now() - loadedAt > 1_000 || clock.now() - loadedAtByClock > 5_000,
    createKey,
    announceChange: () => bus.publish(["signing_key"]),
  };
}
