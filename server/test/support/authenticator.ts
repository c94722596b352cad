import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";

/*
 * A software WebAuthn authenticator for the suites: P-256 keys (COSE ES256), attestation "none", assertions
 * signed here. It answers the options the server hands out as a browser would, and can be told to lie (another
 * origin, another RP ID, no user verification, an old counter) so the suites can test every refusal.
 */

type CBOR = number | string | Uint8Array | CBOR[] | Map<number | string, CBOR>;

function head(major: number, length: number): number[] {
  if (length < 24) return [(major << 5) | length];
  if (length < 0x100) return [(major << 5) | 24, length];
  if (length < 0x10000) return [(major << 5) | 25, length >> 8, length & 0xff];
  return [(major << 5) | 26, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff];
}

/** A minimal CBOR encoder (RFC 8949): what attestation objects and COSE keys need. */
export function encodeCBOR(value: CBOR): Buffer {
  if (typeof value === "number") return Buffer.from(value >= 0 ? head(0, value) : head(1, -1 - value));
  if (typeof value === "string") {
    const bytes = Buffer.from(value, "utf8");
    return Buffer.concat([Buffer.from(head(3, bytes.length)), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([Buffer.from(head(2, value.length)), value]);
  if (Array.isArray(value)) return Buffer.concat([Buffer.from(head(4, value.length)), ...value.map(encodeCBOR)]);
  const parts: Buffer[] = [Buffer.from(head(5, value.size))];
  for (const [key, item] of value) parts.push(encodeCBOR(key), encodeCBOR(item));
  return Buffer.concat(parts);
}

const sha256 = (data: Uint8Array | string): Buffer => createHash("sha256").update(data).digest();
const b64url = (data: Uint8Array): string => Buffer.from(data).toString("base64url");

export interface SoftCredential {
  id: Buffer;
  privateKey: KeyObject;
  cose: Buffer;
  rpId: string;
  userHandle: string;
  counter: number;
}

export interface Ceremony {
  /** @default the authenticator's origin */
  origin?: string;
  /** The RP ID whose hash goes into authenticatorData. @default the options' rpId (or rp.id) */
  rpId?: string;
  /** Whether the user was verified (PIN, biometrics). @default true */
  userVerified?: boolean;
  /** @default "webauthn.get" for assertions, "webauthn.create" for attestations */
  type?: string;
  /** Assertions: which credential answers. @default the first allowed one, else the first stored */
  credential?: SoftCredential;
  /** Assertions: the counter to report instead of the next one. */
  counter?: number;
}

type Options = {
  challenge: string;
  rpId?: string;
  rp?: { id?: string };
  user?: { id: string };
  allowCredentials?: { id: string }[];
};

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];
  /** Counters advance by this on every assertion; 0 makes an authenticator that keeps no counter. */
  constructor(
    readonly origin = "http://tessera.test",
    readonly counterStep = 1,
  ) {}

  private clientData(type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }), "utf8");
  }

  /** navigator.credentials.create(): a new resident P-256 credential, attestation "none". */
  create(options: Options, ceremony: Ceremony = {}): Record<string, unknown> {
    const rpId = ceremony.rpId ?? options.rp?.id ?? "tessera.test";
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = publicKey.export({ format: "jwk" });
    const cose = encodeCBOR(
      new Map<number, CBOR>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(String(jwk.x), "base64url")],
        [-3, Buffer.from(String(jwk.y), "base64url")],
      ]),
    );
    const id = randomBytes(32);
    const credential: SoftCredential = {
      id,
      privateKey,
      cose,
      rpId: options.rp?.id ?? rpId,
      userHandle: options.user?.id ?? "",
      counter: 0,
    };
    const flags = 0x01 | (ceremony.userVerified === false ? 0 : 0x04) | 0x40;
    const authData = Buffer.concat([
      sha256(rpId),
      Buffer.from([flags]),
      Buffer.alloc(4),
      Buffer.alloc(16), // AAGUID: none
      Buffer.from([id.length >> 8, id.length & 0xff]),
      id,
      cose,
    ]);
    const attestationObject = encodeCBOR(
      new Map<string, CBOR>([
        ["fmt", "none"],
        ["attStmt", new Map()],
        ["authData", authData],
      ]),
    );
    const clientDataJSON = this.clientData(
      ceremony.type ?? "webauthn.create",
      options.challenge,
      ceremony.origin ?? this.origin,
    );
    this.credentials.push(credential);
    return {
      id: b64url(id),
      rawId: b64url(id),
      type: "public-key",
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        transports: ["internal"],
      },
    };
  }

  /** navigator.credentials.get(): an assertion over the options' challenge, signed with the credential's key. */
  get(options: Options, ceremony: Ceremony = {}): Record<string, unknown> {
    const allowed = (options.allowCredentials ?? []).map((c) => c.id);
    const credential =
      ceremony.credential ??
      this.credentials.find((c) => allowed.length === 0 || allowed.includes(b64url(c.id))) ??
      this.credentials[0];
    if (credential === undefined) throw new Error("no credential");
    const rpId = ceremony.rpId ?? options.rpId ?? credential.rpId;
    if (ceremony.counter === undefined) credential.counter += this.counterStep;
    const counter = ceremony.counter ?? credential.counter;
    const flags = 0x01 | (ceremony.userVerified === false ? 0 : 0x04);
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    const authData = Buffer.concat([sha256(rpId), Buffer.from([flags]), count]);
    const clientDataJSON = this.clientData(
      ceremony.type ?? "webauthn.get",
      options.challenge,
      ceremony.origin ?? this.origin,
    );
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
}
