import type { Kysely } from "kysely";
import type { Adapter, AdapterPayload, ClientMetadata, errors as OidcErrors } from "oidc-provider";
import type { Database } from "../../db/database.js";
import * as clients from "./oidc-client.repository.js";
import * as payloads from "./oidc-payload.repository.js";
import type { OidcSeal } from "./oidc-seal.js";

/** Client metadata beyond the standard's: Tessera's own switches, read by the interaction policy. */
export interface TesseraClientMetadata extends ClientMetadata {
  tessera_first_party?: boolean;
  tessera_require_2fa?: boolean;
}

/** How a registered application looks to the OIDC library: code flow with PKCE, EdDSA ID tokens, exact URIs. */
export function clientMetadataOf(row: clients.OidcClientRow): TesseraClientMetadata {
  const confidential = row.secret_hash !== null;
  return {
    client_id: row.client_id,
    client_name: row.name,
    // The library compares the presented secret with this, through Client.prototype.compareClientSecret,
    // which oidc-provider.ts makes hash the presented secret first: the database holds no usable secret.
    ...(confidential ? { client_secret: row.secret_hash ?? "" } : {}),
    token_endpoint_auth_method: confidential ? "client_secret_basic" : "none",
    redirect_uris: JSON.parse(row.redirect_uris) as string[],
    post_logout_redirect_uris: JSON.parse(row.post_logout_redirect_uris) as string[],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    id_token_signed_response_alg: "EdDSA",
    require_auth_time: true,
    tessera_first_party: row.first_party === 1,
    tessera_require_2fa: row.require_2fa === 1,
  };
}

/** The kinds whose second use means theft: the whole grant is revoked, as the library does for a replayed code. */
const singleUse = new Set(["AuthorizationCode", "RefreshToken", "DeviceCode", "BackchannelAuthenticationRequest"]);

/** Expired documents are deleted at most this often, by the write that finds the last sweep old enough. */
const purgeIntervalMs = 10 * 60 * 1000;

/**
 * oidc-provider's storage interface on our database (every dialect): one row per document in
 * `oidc_payload`, the registered applications from `oidc_client`. Times are the library's (the real
 * clock), since it decides expiry itself. Ids, uids and grant ids are stored as keyed hashes and the
 * documents encrypted (oidc-seal.ts): a copy of the table holds no code, token or session a client could use.
 */
export function createOidcAdapter(
  db: Kysely<Database>,
  errors: typeof OidcErrors,
  seal: OidcSeal,
): new (name: string) => Adapter {
  let lastPurge = Date.now();
  return class KyselyOidcAdapter implements Adapter {
    constructor(private readonly kind: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.kind === "Client") throw new Error("applications are registered through Tessera, not stored here");
      const userId = typeof payload.accountId === "string" ? payload.accountId.slice(0, 32) : null;
      // A grant is its own grant_id: revoking it deletes it too, so a token saved after the revocation is dead.
      const grantId = payload.grantId ?? (this.kind === "Grant" ? id : null);
      const rowId = seal.key("id", id);
      await payloads.upsertPayload(db, {
        kind: this.kind,
        id: rowId,
        payload: seal.seal(this.kind, rowId, payload),
        grant_id: grantId === null ? null : seal.key("grant", grantId),
        uid: payload.uid === undefined ? null : seal.key("uid", payload.uid),
        client_id: payload.clientId ?? null,
        user_id: userId,
        expires_at: expiresIn > 0 ? Date.now() + expiresIn * 1000 : null,
        consumed_at: null,
      });
      if (Date.now() - lastPurge >= purgeIntervalMs) {
        lastPurge = Date.now();
        // Expired codes, tokens, sessions and interactions are already invisible (documentOf); this frees their rows.
        await payloads.deleteExpired(db, lastPurge);
      }
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.kind === "Client") {
        const row = await clients.findClient(db, id);
        return row === undefined ? undefined : (clientMetadataOf(row) as AdapterPayload);
      }
      return this.documentOf(await payloads.findPayload(db, { kind: this.kind, id: seal.key("id", id) }));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.documentOf(await payloads.findPayload(db, { kind: this.kind, uid: seal.key("uid", uid) }));
    }

    async findByUserCode(): Promise<AdapterPayload | undefined> {
      return undefined; // the device flow is off
    }

    async consume(id: string): Promise<void> {
      const rowId = seal.key("id", id);
      if (await payloads.consumePayload(db, this.kind, rowId, Date.now())) return;
      // Another request consumed it first (a code or refresh token used twice, maybe at the same moment):
      // the library only checked before, so the second use is refused here and the grant revoked.
      if (singleUse.has(this.kind)) {
        const row = await payloads.findPayload(db, { kind: this.kind, id: rowId });
        if (row?.grant_id != null) await payloads.deleteByGrantId(db, row.grant_id);
      }
      throw new errors.InvalidGrant("grant already used");
    }

    async destroy(id: string): Promise<void> {
      await payloads.deletePayload(db, this.kind, seal.key("id", id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await payloads.deleteByGrantId(db, seal.key("grant", grantId));
    }

    private documentOf(row: payloads.OidcPayloadRow | undefined): AdapterPayload | undefined {
      if (row === undefined) return undefined;
      if (row.expires_at !== null && row.expires_at <= Date.now()) return undefined;
      const document = seal.open(this.kind, row.id, row.payload) as AdapterPayload | undefined;
      if (document === undefined) return undefined;
      return row.consumed_at === null ? document : { ...document, consumed: Math.floor(row.consumed_at / 1000) };
    }
  };
}
