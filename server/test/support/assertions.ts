import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import type { AssertionResponse } from "../../src/modules/second-factor/passkey/passkey.schemas.js";
import { encodeCBOR } from "./authenticator.js";

/*
 * Assertions built by hand for the verifier's own tests (test/second-factor/passkey-assertion.security.test.ts): keys
 * of several COSE algorithms, and every part of an assertion open to forgery (client data, flags, RP ID hash,
 * counter, extensions, signature, ids).
 */

export const rpId = "tessera.test";
export const origins = ["https://tessera.test", "https://other.tessera.test"];
export const challenge = Buffer.from("a challenge of thirty-two bytes!!").toString("base64url");
const sha256 = (data: Uint8Array | string): Buffer => createHash("sha256").update(data).digest();
export const b64 = (data: Uint8Array): string => Buffer.from(data).toString("base64url");

export interface Key {
  name: string;
  privateKey: KeyObject;
  cose: Buffer;
  sign: (data: Buffer, key: KeyObject) => Buffer;
}

export function keyOf(name: string): Key {
  if (name === "ES256" || name === "ES384") {
    const curve = name === "ES256" ? "P-256" : "P-384";
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: curve });
    const jwk = publicKey.export({ format: "jwk" });
    const cose = new Map<number, number | Buffer>([
      [1, 2],
      [3, name === "ES256" ? -7 : -35],
      [-1, name === "ES256" ? 1 : 2],
      [-2, Buffer.from(String(jwk.x), "base64url")],
      [-3, Buffer.from(String(jwk.y), "base64url")],
    ]);
    const hash = name === "ES256" ? "sha256" : "sha384";
    return { name, privateKey, cose: encodeCBOR(cose), sign: (data, key) => sign(hash, data, key) };
  }
  if (name === "EdDSA") {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const x = Buffer.from(String(publicKey.export({ format: "jwk" }).x), "base64url");
    const cose = new Map<number, number | Buffer>([
      [1, 1],
      [3, -8],
      [-1, 6],
      [-2, x],
    ]);
    return { name, privateKey, cose: encodeCBOR(cose), sign: (data, key) => sign(null, data, key) };
  }
  // "RS256-e3": an RSA key with exponent 3, which Tessera leaves to the library.
  const publicExponent = name === "RS256-e3" ? 3 : 65537;
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048, publicExponent });
  const jwk = publicKey.export({ format: "jwk" });
  const cose = new Map<number, number | Buffer>([
    [1, 3],
    [3, -257],
    [-1, Buffer.from(String(jwk.n), "base64url")],
    [-2, Buffer.from(String(jwk.e), "base64url")],
  ]);
  return { name, privateKey, cose: encodeCBOR(cose), sign: (data, key) => sign("sha256", data, key) };
}

export interface Forgery {
  clientData?: Record<string, unknown>;
  clientDataRaw?: Buffer;
  flags?: number;
  rpId?: string;
  counter?: number;
  extensions?: Buffer;
  authData?: (authData: Buffer) => Buffer;
  signature?: (signature: Buffer) => string;
  signer?: KeyObject;
  rawId?: string;
  type?: string;
}

export const UP = 0x01;
export const UV = 0x04;
export const BE = 0x08;
export const BS = 0x10;
export const ED = 0x80;

export function assertion(key: Key, forgery: Forgery = {}): AssertionResponse {
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(forgery.counter ?? 0);
  let authData: Buffer = Buffer.concat([
    sha256(forgery.rpId ?? rpId),
    Buffer.from([forgery.flags ?? UP | UV]),
    counter,
    forgery.extensions ?? Buffer.alloc(0),
  ]);
  authData = forgery.authData?.(authData) ?? authData;
  const clientData =
    forgery.clientDataRaw ??
    Buffer.from(
      JSON.stringify({
        type: "webauthn.get",
        challenge,
        origin: origins[0],
        crossOrigin: false,
        ...forgery.clientData,
      }),
    );
  const signature = key.sign(Buffer.concat([authData, sha256(clientData)]), forgery.signer ?? key.privateKey);
  const id = b64(Buffer.from(`credential-${key.name}`));
  return {
    id,
    rawId: forgery.rawId ?? id,
    type: (forgery.type ?? "public-key") as "public-key",
    clientExtensionResults: {},
    response: {
      clientDataJSON: b64(clientData),
      authenticatorData: b64(authData),
      signature: forgery.signature?.(signature) ?? b64(signature),
    },
  } as AssertionResponse;
}
