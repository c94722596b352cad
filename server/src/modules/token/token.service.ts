import { sign } from "node:crypto";
import { jwtVerify, type JWK, type JWTPayload } from "jose";
import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import { aadFor, type Keyring } from "../../crypto/encryption.js";
import { randomId } from "../../crypto/random.js";
import type { Database } from "../../db/database.js";
import { accessTokenType, claimsFrom, type AccessClaims } from "./access-claims.js";
import { base64url, createKeyStore, signingAlgorithm, type LoadedKey } from "./key-store.js";
import * as repo from "./signing-key.repository.js";

export { isAuthMethod, type AccessClaims, type AuthMethod } from "./access-claims.js";

export { signingAlgorithm };

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

const verifiedCacheLimit = 10_000;

export interface TokenService {
  issueAccessToken(claims: Omit<AccessClaims, "iat" | "exp" | "jti">): Promise<{ token: string; expiresIn: number }>;
  /** Returns the claims of a valid token signed by one of our keys (type, issuer and audience ours), or null. */
  verifyAccessToken(token: string): Promise<AccessClaims | null>;
  jwks(): Promise<{ keys: JWK[] }>;
  /**
   * Empties the cache of verified tokens (a long-idle server lets go of it); each is verified again at its
   * next use. Returns how many it held.
   */
  forgetVerified(): number;
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
  /** Where a change of the signing keys is logged. */
  log?: { info(details: object, message: string): void };
}): TokenService {
  const { db, keyring, clock, issuer, audience, accessTokenTtlSeconds, log } = deps;
  // Verified tokens are cached until they expire: an authenticated request costs one map lookup
  // here, and the session row is still checked on every request, so revocation stays immediate.
  const verified = new Map<string, AccessClaims>();
  // A token verified under a key since removed must not pass from the cache either.
  const store = createKeyStore({ db, keyring, clock, log, onChange: () => verified.clear() });
  const { ensureLoaded } = store;

  return {
    async issueAccessToken(claims) {
      await ensureLoaded();
      const [current] = store.keys();
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
              let key = store.keys().find((k) => k.kid === header.kid);
              if (key === undefined) {
                // Another instance may have rotated; reload once before giving up.
                await ensureLoaded(store.mayReloadForUnknownKid());
                key = store.keys().find((k) => k.kid === header.kid);
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

    forgetVerified() {
      const held = verified.size;
      verified.clear();
      return held;
    },

    async jwks() {
      await ensureLoaded();
      return { keys: store.keys().map((k) => k.publicJwk) };
    },

    async privateJwks() {
      await ensureLoaded();
      return store.keys().map((k) => ({
        ...(k.privateKey.export({ format: "jwk" }) as JWK),
        kid: k.kid,
        alg: signingAlgorithm,
        use: "sig",
      }));
    },

    async rotate() {
      await ensureLoaded();
      const id = await store.createKey();
      const keys = store.keys();
      // A key superseded longer ago than an access token lives can no longer verify anything.
      const cutoff = clock.now() - accessTokenTtlSeconds * 1000;
      const superseded = keys
        .filter((k, index) => index > 0 && (keys[index - 1]?.createdAt ?? Infinity) < cutoff)
        .map((k) => k.kid);
      await repo.deleteSigningKeysCreatedBefore(db, superseded);
      // The other instances reload within a second (on PostgreSQL and MySQL the write itself is heard too).
      store.announceChange();
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
