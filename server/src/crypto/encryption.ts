import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/** One AES-256 key and the id stored beside every ciphertext it makes. */
export interface SecretKey {
  id: string;
  key: Buffer;
}

/** Encrypts under the first key; decrypts under any key, chosen by the id in the ciphertext. */
export interface Keyring {
  readonly primaryKeyId: string;
  encrypt(plaintext: Uint8Array, aad: string): string;
  decrypt(ciphertext: string, aad: string): Buffer;
  /** True when the ciphertext is not under the primary key (`tessera keys reencrypt` moves it). */
  needsReencryption(ciphertext: string): boolean;
}

const format = "v1";
const ivBytes = 12; // NIST SP 800-38D §8.2: 96-bit IVs for GCM
const tagBytes = 16;

/** Builds the additional authenticated data that binds a ciphertext to its row (Authelia's scheme). */
export function aadFor(table: string, column: string, rowId: string): string {
  return `${table}:${column}:${rowId}`;
}

export function createKeyring(keys: readonly SecretKey[]): Keyring {
  const [primary] = keys;
  if (primary === undefined) throw new RangeError("a keyring needs at least one key");
  const byId = new Map(keys.map((entry) => [entry.id, entry.key]));
  return {
    primaryKeyId: primary.id,
    encrypt(plaintext, aad) {
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv("aes-256-gcm", primary.key, iv);
      cipher.setAAD(Buffer.from(aad, "utf8"));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const packed = Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
      return `${format}:${primary.id}:${packed}`;
    },
    decrypt(ciphertext, aad) {
      const [version, keyId, packed] = ciphertext.split(":");
      const key = keyId === undefined ? undefined : byId.get(keyId);
      if (version !== format || key === undefined || packed === undefined) {
        throw new Error(`cannot decrypt: unknown key id or format`);
      }
      const raw = Buffer.from(packed, "base64url");
      const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, ivBytes));
      decipher.setAAD(Buffer.from(aad, "utf8"));
      decipher.setAuthTag(raw.subarray(raw.length - tagBytes));
      return Buffer.concat([decipher.update(raw.subarray(ivBytes, raw.length - tagBytes)), decipher.final()]);
    },
    needsReencryption(ciphertext) {
      return ciphertext.split(":")[1] !== primary.id;
    },
  };
}

/** A stable id for a key given without one: the start of its SHA-256, so it never reveals the key. */
export function keyIdOf(key: Buffer): string {
  return `k${createHash("sha256").update(key).digest("hex").slice(0, 10)}`;
}

/**
 * Parses `TESSERA_SECRET_KEY`: one base64 key, or `id1:key1,id2:key2` (the first encrypts).
 * Throws with a message that names the variable but never echoes the key material.
 */
export function parseSecretKeys(value: string): SecretKey[] {
  const keys = value.split(",").map((part, index) => {
    const trimmed = part.trim();
    const separator = trimmed.indexOf(":");
    const id = separator === -1 ? null : trimmed.slice(0, separator);
    const encoded = separator === -1 ? trimmed : trimmed.slice(separator + 1);
    const key = Buffer.from(encoded, "base64");
    if (key.length !== 32 || !/^[A-Za-z0-9+/_-]+=*$/.test(encoded)) {
      throw new Error(`TESSERA_SECRET_KEY: key ${index + 1} must be 32 bytes in base64`);
    }
    if (id !== null && !/^[A-Za-z0-9_-]{1,32}$/.test(id)) {
      throw new Error(`TESSERA_SECRET_KEY: key id ${index + 1} must be 1-32 letters, digits, - or _`);
    }
    return { id: id ?? keyIdOf(key), key };
  });
  if (new Set(keys.map((k) => k.id)).size !== keys.length)
    throw new Error("TESSERA_SECRET_KEY: key ids must be unique");
  return keys;
}
