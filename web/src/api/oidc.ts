import { api } from "./client";

/** A pending sign-in request from another application (OpenID Connect), as the server's interaction routes show it. */
export interface OidcInteraction {
  prompt: "login" | "consent";
  client: { client_id: string; name: string; first_party: boolean };
  scopes: string[];
  second_factor_required: boolean;
  account_id: string | null;
}

const base = (uid: string): string => `/oidc/interaction/${encodeURIComponent(uid)}`;

export function interactionDetails(uid: string): Promise<OidcInteraction> {
  return api.get<OidcInteraction>(`${base(uid)}/details`, { auth: false });
}

/** Signs the current person in to the request (login step) or lets the application have what it asked (consent). */
export async function continueInteraction(uid: string, step: "login" | "consent"): Promise<string> {
  return (await api.post<{ redirect_to: string }>(`${base(uid)}/${step}`)).redirect_to;
}

export async function declineInteraction(uid: string): Promise<string> {
  return (await api.post<{ redirect_to: string }>(`${base(uid)}/abort`, {}, { auth: false })).redirect_to;
}
