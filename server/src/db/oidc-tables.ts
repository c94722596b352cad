/** The OpenID Connect provider's tables (modules/oidc/); conventions as in database.ts. */

export interface OidcClientTable {
  client_id: string;
  name: string;
  /** SHA-256 of the client secret; null for a public client. */
  secret_hash: string | null;
  /** JSON array of exact redirect URIs. */
  redirect_uris: string;
  /** JSON array of exact post-logout redirect URIs. */
  post_logout_redirect_uris: string;
  first_party: number;
  require_2fa: number;
  created_at: number;
}

/** One document the OIDC library stores (see modules/oidc/oidc-adapter.ts). */
export interface OidcPayloadTable {
  kind: string;
  id: string;
  payload: string;
  grant_id: string | null;
  uid: string | null;
  client_id: string | null;
  /** The account (the library's accountId), when the document belongs to one. */
  user_id: string | null;
  /** Unix milliseconds; null: no expiry. */
  expires_at: number | null;
  consumed_at: number | null;
}
