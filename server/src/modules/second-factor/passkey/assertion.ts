import { createHash, createPublicKey, verify, type KeyObject } from "node:crypto";
import type * as Helpers from "@simplewebauthn/server/helpers";
import type { AssertionResponse } from "./passkey.schemas.js";

/**
 * Verification of a WebAuthn assertion (WebAuthn Level 2 §7.2), with the checks and the order of
 * `verifyAuthenticationResponse` from @simplewebauthn/server, whose helpers parse the authenticator data and
 * the COSE key. What differs is the signature: the library imports the key through WebCrypto at every
 * ceremony, which costs about 0.6 ms of the main thread; here the key is imported once into a node KeyObject
 * and the signature checked synchronously (about 0.08 ms). Keys of the three algorithms registration offers
 * (ES256, EdDSA, RS256) take that path; any other key goes to the library's own `verifySignature`.
 * test/second-factor/passkey-assertion.security.test.ts holds both to the same verdict on valid and altered assertions.
 */

export interface AssertionExpectations {
  /** The challenge the server stored for this ceremony (base64url). */
  challenge: string;
  origins: readonly string[];
  rpId: string;
  requireUserVerification: boolean;
  /** The credential's COSE public key, base64url, as stored at registration. */
  publicKey: string;
}

export interface VerifiedAssertion {
  counter: number;
  userVerified: boolean;
  backedUp: boolean;
}

/** Thrown for every refusal; the message says which check failed (for tests, never for the client). */
export class AssertionRefused extends Error {
  override name = "AssertionRefused";
}

/** The library's helpers load with the first ceremony, not at start (idle memory, SPEC §5). */
let helpers: Promise<typeof Helpers> | null = null;
const loadHelpers = (): Promise<typeof Helpers> =>
  (helpers ??= import("@simplewebauthn/server/helpers").catch((error: unknown) => {
    helpers = null; // a failed load is tried again at the next ceremony
    throw error;
  }));

/** Unpadded base64url, as WebAuthn's JSON encodes bytes (the library refuses padded values too). */
const base64url = /^[A-Za-z0-9_-]*$/;
const refuse = (why: string): never => {
  throw new AssertionRefused(why);
};

interface ClientData {
  type?: unknown;
  challenge?: unknown;
  origin?: unknown;
  crossOrigin?: unknown;
  topOrigin?: unknown;
  tokenBinding?: unknown;
}

/** UTF-8 decoding as the WebAuthn spec and the library do it (a byte order mark is dropped). */
const utf8 = new TextDecoder();

function clientData(clientDataJSON: Buffer): ClientData {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(clientDataJSON));
  } catch {
    return refuse("clientDataJSON is not JSON");
  }
  return typeof parsed === "object" && parsed !== null
    ? (parsed as ClientData)
    : refuse("clientDataJSON is not an object");
}

/** A verifying key in node's form for the COSE keys registration offers; null sends the key to the library. */
type FastKey = { key: KeyObject; hash: "sha256" | null };
/** Keys kept imported, least recently used dropped first; no stored key longer than a 4096-bit RSA one. */
const keyCacheSize = 4096;
const maxCachedKeyLength = 800;
const keys = new Map<string, FastKey | null>();

/**
 * Empties the cache of imported keys (a long-idle server lets go of them); each is imported again at its
 * next use. Returns how many it held.
 */
export function forgetImportedKeys(): number {
  const held = keys.size;
  keys.clear();
  return held;
}

function fastKey(publicKey: string, cose: Map<number, unknown>): FastKey | null {
  if (publicKey.length > maxCachedKeyLength) return null;
  let cached = keys.get(publicKey);
  if (cached !== undefined) {
    keys.delete(publicKey);
  } else {
    cached = importFast(cose);
    if (keys.size >= keyCacheSize) keys.delete(keys.keys().next().value as string);
  }
  keys.set(publicKey, cached);
  return cached;
}

function importFast(cose: Map<number, unknown>): FastKey | null {
  const [kty, alg] = [cose.get(1), cose.get(3)];
  const b64 = (label: number): string | null => {
    const value = cose.get(label);
    return value instanceof Uint8Array ? Buffer.from(value).toString("base64url") : null;
  };
  try {
    if (kty === 2 && alg === -7 && cose.get(-1) === 1) {
      const [x, y] = [b64(-2), b64(-3)];
      if (x === null || y === null) return null;
      return { key: createPublicKey({ format: "jwk", key: { kty: "EC", crv: "P-256", x, y } }), hash: "sha256" };
    }
    if (kty === 1 && alg === -8 && cose.get(-1) === 6) {
      const x = b64(-2);
      if (x === null) return null;
      return { key: createPublicKey({ format: "jwk", key: { kty: "OKP", crv: "Ed25519", x } }), hash: null };
    }
    if (kty === 3 && alg === -257) {
      const [n, e] = [b64(-1), b64(-2)];
      // Only the keys authenticators make: e = 65537 and 2048 to 4096 bits. An odd exponent or size could make a
      // synchronous verification slow enough to stall the event loop; the library checks those on the thread pool.
      if (n === null || e !== "AQAB") return null;
      const key = createPublicKey({ format: "jwk", key: { kty: "RSA", n, e } });
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      return bits >= 2048 && bits <= 4096 ? { key, hash: "sha256" } : null;
    }
  } catch {
    // A key node cannot import (e.g. a point off the curve) is the library's to refuse.
  }
  return null;
}

function verifyFast(fast: FastKey, signed: Buffer, signature: Buffer): boolean {
  try {
    return verify(fast.hash, signed, fast.key, signature);
  } catch {
    return false;
  }
}

/** Verifies `response` against what the server expects; throws AssertionRefused when anything fails. */
export async function verifyAssertion(
  response: AssertionResponse,
  expected: AssertionExpectations,
): Promise<VerifiedAssertion> {
  const { id, rawId, type } = response;
  const assertion = response.response;
  if (!id) refuse("missing credential id");
  if (id !== rawId) refuse("id and rawId differ");
  if (type !== "public-key") refuse("credential type is not public-key");
  if (typeof assertion.clientDataJSON !== "string" || !base64url.test(assertion.clientDataJSON))
    refuse("clientDataJSON is not base64url");
  const clientDataBytes = Buffer.from(assertion.clientDataJSON, "base64url");
  const data = clientData(clientDataBytes);
  if (data.type !== "webauthn.get") refuse("not an authentication");
  if (data.challenge !== expected.challenge) refuse("another challenge");
  // Tessera is never framed by another site: a cross-origin ceremony naming its top origin is refused.
  if (data.topOrigin) refuse(data.crossOrigin ? "cross-origin ceremony" : "top origin without cross-origin");
  if (typeof data.origin !== "string" || !expected.origins.includes(data.origin)) refuse("another origin");
  if (!base64url.test(assertion.authenticatorData)) refuse("authenticatorData is not base64url");
  if (!base64url.test(assertion.signature)) refuse("signature is not base64url");
  if (assertion.userHandle && typeof assertion.userHandle !== "string") refuse("userHandle is not a string");
  if (data.tokenBinding) {
    const status = typeof data.tokenBinding === "object" ? (data.tokenBinding as { status?: unknown }).status : null;
    if (typeof status !== "string" || !["present", "supported", "notSupported"].includes(status))
      refuse("bad tokenBinding");
  }

  const { parseAuthenticatorData, decodeCredentialPublicKey, verifySignature } = await loadHelpers();
  const authData = Buffer.from(assertion.authenticatorData, "base64url");
  let parsed;
  try {
    parsed = parseAuthenticatorData(authData);
  } catch {
    return refuse("authenticatorData cannot be parsed");
  }
  const rpIdHash = createHash("sha256").update(expected.rpId, "utf8").digest();
  if (!rpIdHash.equals(parsed.rpIdHash)) refuse("another RP ID");
  if (!parsed.flags.up) refuse("user not present");
  if (expected.requireUserVerification && !parsed.flags.uv) refuse("user not verified");
  if (parsed.flags.bs && !parsed.flags.be) refuse("a single-device credential claims a backup");

  const signed = Buffer.concat([authData, createHash("sha256").update(clientDataBytes).digest()]);
  const signature = Buffer.from(assertion.signature, "base64url");
  const publicKey = Buffer.from(expected.publicKey, "base64url");
  const cose = decodeCredentialPublicKey(publicKey) as unknown as Map<number, unknown>;
  if (typeof cose.get(3) !== "number") refuse("the stored key names no algorithm");
  const fast = fastKey(expected.publicKey, cose);
  const valid =
    fast === null
      ? await verifySignature({ signature, data: signed, credentialPublicKey: publicKey })
      : verifyFast(fast, signed, signature);
  if (!valid) refuse("bad signature");
  return { counter: parsed.counter, userVerified: parsed.flags.uv, backedUp: parsed.flags.bs };
}
