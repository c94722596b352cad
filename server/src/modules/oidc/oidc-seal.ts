import { createHmac } from "node:crypto";
import { aadFor, type Keyring } from "../../crypto/encryption.js";

/**
 * What the OIDC library stores, kept so that reading the database yields nothing usable. The id of an
 * authorization code, access or refresh token (and of a session or interaction, named by a cookie) is the
 * bearer secret itself: rows are keyed by its HMAC under a key derived from TESSERA_SECRET_KEY, as are
 * the uid and grant id they are looked up by. The documents (which repeat the id as `jti`) are encrypted
 * with the keyring like every other stored secret, bound to their row.
 */
export interface OidcSeal {
  /** The row key of a document's id, uid or grant id: HMAC-SHA-256, base64url (43 characters). */
  key(label: "id" | "uid" | "grant", value: string): string;
  seal(kind: string, rowId: string, document: object): string;
  /** The document, or undefined when it cannot be opened (a dropped key, a row moved or altered). */
  open(kind: string, rowId: string, sealed: string): object | undefined;
}

export function createOidcSeal(storageKey: Buffer, keyring: Keyring): OidcSeal {
  const aad = (kind: string, rowId: string): string => aadFor("oidc_payload", "payload", `${kind}:${rowId}`);
  return {
    key: (label, value) => createHmac("sha256", storageKey).update(`${label}\n${value}`).digest("base64url"),
    seal: (kind, rowId, document) => keyring.encrypt(Buffer.from(JSON.stringify(document), "utf8"), aad(kind, rowId)),
    open(kind, rowId, sealed) {
      try {
        return JSON.parse(keyring.decrypt(sealed, aad(kind, rowId)).toString("utf8")) as object;
      } catch {
        return undefined;
      }
    },
  };
}
