import { api } from "./client";

/** An application registered to sign in through Tessera (OpenID Connect), as administrators see it. */
export interface OidcClient {
  client_id: string;
  name: string;
  public: boolean;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  first_party: boolean;
  require_2fa: boolean;
  created_at: string;
}

export interface NewOidcClient {
  name: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  public: boolean;
  first_party: boolean;
  require_2fa: boolean;
}

export async function listOidcClients(): Promise<OidcClient[]> {
  return (await api.get<{ clients: OidcClient[] }>("/api/admin/oidc-clients")).clients;
}

/** The secret (confidential clients) is in this answer only. */
export function createOidcClient(input: NewOidcClient): Promise<OidcClient & { client_secret?: string }> {
  return api.post<OidcClient & { client_secret?: string }>("/api/admin/oidc-clients", input);
}

export async function removeOidcClient(clientId: string): Promise<void> {
  await api.delete<null>(`/api/admin/oidc-clients/${encodeURIComponent(clientId)}`);
}
