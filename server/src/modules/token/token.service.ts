import { createPrivateKey, sign, type KeyObject } from "node:crypto";
import { exportJWK, generateKeyPair, importJWK, jwtVerify, type JWK, type JWTPayload } from "jose";
import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import { aadFor, type Keyring } from "../../crypto/encryption.js";
import { randomId } from "../../crypto/random.js";
import type { Database } from "../../db/database.js";
import { accessTokenType, claimsFrom, type AccessClaims } from "./access-claims.js";
import * as repo from "./signing-key.repository.js";

export { isAuthMethod, type AccessClaims, type AuthMethod } from "./access-claims.js";

export const signingAlgorithm = "EdDSA";

interface LoadedKey {
  kid: string;
  publicJwk: JWK;
  publicKey: Awaited<ReturnType<typeof importJWK>>;
  privateKey: KeyObject;
  /** The JWS protected header, base64url: `alg`, `typ` (`at+jwt`) and this key's `kid`. */
  encodedHeader: string;
  createdAt: number;
}

const base64url = (text: string): string => Buffer.from(text, "utf8").toString("base64url");

/**
 * RFC 7515 compact serialization with RFC 8037 EdDSA: header.payload.signature, each base64url.
 * node:crypto signs with a callback on libuv's thread pool, so the Ed25519 signature (the costliest
 * step of a login after the database) is not computed on the event loop.
 */
function signCompactJWS(key: LoadedKey, payload: object): Promise<string> {
  const signingInput = `${key.encodedHeader}.${base64url(JSON.stringify(payload))}`;
  return new Promise((resolve, reject) => {
    sign(null, Buffer.from(signingInput, "ascii"), key.privateKey, (error, signature) => {
      if (error === null) resolve(`${signingInput}.${signature.toString("base64url")}`);
      else reject(error);
    });
  });
}

const keyCacheSeconds = 60; // other instances pick up a rotated key within a minute
const verifiedCacheLimit = 10_000;

export interface TokenService {
  issueAccessToken(claims: Omit<AccessClaims, "iat" | "exp" | "jti">): Promise<{ token: string; expiresIn: number }>;
  /** Returns the claims of a valid token signed by one of our keys (type, issuer and audience ours), or null. */
  verifyAccessToken(token: string): Promise<AccessClaims | null>;
  jwks(): Promise<{ keys: JWK[] }>;
  /**
   * The signing keys with their private parts, newest first, for the OpenID Connect provider, which signs ID
   * tokens with the same keys (one JWKS). Never published.
   */
  privateJwks(): Promise<JWK[]>;
  /** Adds a new signing key; older keys keep verifying until their tokens have expired. */
  rotate(): Promise<string>;
  reencrypt(): Promise<number>;
}

export function createTokenService(deps: {
  db: Kysely<Database>;
  keyring: Keyring;
  clock: Clock;
  issuer: string;
  /** The `aud` of every access token (TOKEN_AUDIENCE). */
  audience: string;
  accessTokenTtlSeconds: number;
}): TokenService {
  const { db, keyring, clock, issuer, audience, accessTokenTtlSeconds } = deps;
  let keys: LoadedKey[] = [];
  let loadedAt = -Infinity;
  let loading: Promise<void> | null = null;
  // Verified tokens are cached until they expire: an authenticated request costs one map lookup
  // here, and the session row is still checked on every request, so revocation stays immediate.
  const verified = new Map<string, AccessClaims>();

  async function load(): Promise<void> {
    const rows = await repo.listSigningKeys(db);
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
    loadedAt = clock.now();
  }

  async function ensureLoaded(force = false): Promise<void> {
    if (!force && clock.now() - loadedAt < keyCacheSeconds * 1000 && keys.length > 0) return;
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
    async issueAccessToken(claims) {
      await ensureLoaded();
      const [current] = keys;
      if (current === undefined) throw new Error("no signing key");
      const iat = Math.floor(clock.now() / 1000);
      // RFC 9068 §2.2 plus the session's own claims (SPEC "Tokens").
      const payload: AccessClaims & { iss: string; aud: string } = {
        iss: issuer,
        sub: claims.sub,
        aud: audience,
        jti: randomId(),
        sid: claims.sid,
        iat,
        exp: iat + accessTokenTtlSeconds,
        auth_time: claims.auth_time,
        amr: claims.amr,
        aal: claims.aal,
        ...(claims.roles === undefined ? {} : { roles: claims.roles }),
        ...(claims.enrollment_required === true ? { enrollment_required: true } : {}),
      };
      const token = await signCompactJWS(current, payload);
      return { token, expiresIn: accessTokenTtlSeconds };
    },

    async verifyAccessToken(token) {
      const nowSeconds = Math.floor(clock.now() / 1000);
      const cached = verified.get(token);
      if (cached !== undefined) {
        if (cached.exp > nowSeconds) return cached;
        verified.delete(token);
        return null;
      }
      await ensureLoaded();
      let payload: JWTPayload;
      try {
        payload = (
          await jwtVerify(
            token,
            async (header) => {
              let key = keys.find((k) => k.kid === header.kid);
              if (key === undefined) {
                // Another instance may have rotated; reload once before giving up.
                await ensureLoaded(clock.now() - loadedAt > 5000);
                key = keys.find((k) => k.kid === header.kid);
              }
              if (key === undefined) throw new Error("unknown kid");
              return key.publicKey;
            },
            // RFC 9068 §4: the type, the issuer and the audience are checked, not only the signature.
            {
              issuer,
              audience,
              typ: accessTokenType,
              algorithms: [signingAlgorithm],
              currentDate: new Date(clock.now()),
            },
          )
        ).payload;
      } catch {
        return null;
      }
      const claims = claimsFrom(payload);
      if (claims === null) return null;
      if (verified.size >= verifiedCacheLimit) verified.clear();
      verified.set(token, claims);
      return claims;
    },

    async jwks() {
      await ensureLoaded();
      return { keys: keys.map((k) => k.publicJwk) };
    },

    async privateJwks() {
      await ensureLoaded();
      return keys.map((k) => ({
        ...(k.privateKey.export({ format: "jwk" }) as JWK),
        kid: k.kid,
        alg: signingAlgorithm,
        use: "sig",
      }));
    },

    async rotate() {
      await ensureLoaded();
      const id = await createKey();
      // A key superseded longer ago than an access token lives can no longer verify anything.
      const cutoff = clock.now() - accessTokenTtlSeconds * 1000;
      const stale = keys
        .filter((k, index) => index > 0 && (keys[index - 1]?.createdAt ?? Infinity) < cutoff)
        .map((k) => k.kid);
      await repo.deleteSigningKeysCreatedBefore(db, stale);
      await ensureLoaded(true);
      return id;
    },

    async reencrypt() {
      let count = 0;
      for (const row of await repo.listSigningKeys(db)) {
        if (!keyring.needsReencryption(row.private_jwk_ciphertext)) continue;
        const aad = aadFor("signing_key", "private_jwk_ciphertext", row.id);
        await repo.updateSigningKeyCiphertext(
          db,
          row.id,
          keyring.encrypt(keyring.decrypt(row.private_jwk_ciphertext, aad), aad),
        );
        count += 1;
      }
      return count;
    },
  };
}
