// A software WebAuthn authenticator for the passkey scenarios: P-256 keys (COSE ES256), attestation
// "none", user verification on, assertions signed here. It keeps no signature counter (always 0, as
// synced platform passkeys do), so any number of connections may sign with one credential in any order.
// The server suites have a fuller one (server/test/support/authenticator.ts) that can also lie.
import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";

const sha256 = (data) => createHash("sha256").update(data).digest();
const b64url = (data) => Buffer.from(data).toString("base64url");

function head(major, length) {
  if (length < 24) return [(major << 5) | length];
  if (length < 0x100) return [(major << 5) | 24, length];
  return [(major << 5) | 25, length >> 8, length & 0xff];
}

/** The little CBOR (RFC 8949) an attestation object and a COSE key need: small ints, strings, bytes, maps. */
function cbor(value) {
  if (typeof value === "number") return Buffer.from(value >= 0 ? head(0, value) : head(1, -1 - value));
  if (typeof value === "string") {
    const bytes = Buffer.from(value, "utf8");
    return Buffer.concat([Buffer.from(head(3, bytes.length)), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([Buffer.from(head(2, value.length)), value]);
  const parts = [Buffer.from(head(5, value.size))];
  for (const [key, item] of value) parts.push(cbor(key), cbor(item));
  return Buffer.concat(parts);
}

export class SoftAuthenticator {
  /** @param {string} origin what the "browser" puts in clientDataJSON */
  constructor(origin) {
    this.origin = origin;
    /** @type {{ id: Buffer, privateKey: import("node:crypto").KeyObject, rpId: string, userHandle: string }[]} */
    this.credentials = [];
  }

  clientData(type, challenge) {
    return Buffer.from(JSON.stringify({ type, challenge, origin: this.origin, crossOrigin: false }), "utf8");
  }

  /** navigator.credentials.create(): a new resident credential for `options` (creation options JSON). */
  create(options) {
    const rpId = options.rp?.id ?? new URL(this.origin).hostname;
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = publicKey.export({ format: "jwk" });
    const cose = cbor(
      new Map([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x, "base64url")],
        [-3, Buffer.from(jwk.y, "base64url")],
      ]),
    );
    const id = randomBytes(32);
    this.credentials.push({ id, privateKey, rpId, userHandle: options.user?.id ?? "" });
    const flags = 0x01 | 0x04 | 0x40; // user present, user verified, attested credential data
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([flags]),
      Buffer.alloc(4), // counter 0
      Buffer.alloc(16), // AAGUID: none
      Buffer.from([0, id.length]),
      id,
      cose,
    ]);
    const attestationObject = cbor(
      new Map([
        ["fmt", "none"],
        ["attStmt", new Map()],
        ["authData", authData],
      ]),
    );
    return {
      id: b64url(id),
      rawId: b64url(id),
      type: "public-key",
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
      response: {
        clientDataJSON: b64url(this.clientData("webauthn.create", options.challenge)),
        attestationObject: b64url(attestationObject),
        transports: ["internal"],
      },
    };
  }

  /** navigator.credentials.get(): an assertion over `options.challenge` by an allowed credential (or the first). */
  get(options, credential = this.pick(options)) {
    const authData = Buffer.concat([
      sha256(options.rpId ?? credential.rpId),
      Buffer.from([0x01 | 0x04]),
      Buffer.alloc(4),
    ]);
    const clientDataJSON = this.clientData("webauthn.get", options.challenge);
    const signature = sign("sha256", Buffer.concat([authData, sha256(clientDataJSON)]), credential.privateKey);
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: "public-key",
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: credential.userHandle,
      },
    };
  }

  pick(options) {
    const allowed = new Set((options.allowCredentials ?? []).map((c) => c.id));
    const credential = this.credentials.find((c) => allowed.size === 0 || allowed.has(b64url(c.id)));
    if (credential === undefined) throw new Error("the authenticator holds no credential the options allow");
    return credential;
  }
}
