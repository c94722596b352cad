import * as client from "openid-client";
import { expect } from "vitest";
import {
  authorize,
  CookieBrowser,
  expectCallback,
  pkceRequest,
  redirectUri,
  relyingParty,
  type OidcTestServer,
} from "./oidc.js";

const meta = { ip: null, userAgent: null };

export interface OfflineGrant {
  config: client.Configuration;
  /** The authorization code the browser carried back (already exchanged). */
  code: string;
  tokens: client.TokenEndpointResponse;
}

/** A confidential application registered for the test. */
export async function registeredApp(t: OidcTestServer, name = "Notes"): Promise<client.Configuration> {
  const created = await t.app.services.oidcClients.create({ name, redirect_uris: [redirectUri] }, meta);
  const registered = { client_id: created.client.client_id, client_secret: created.client_secret ?? "" };
  return (await relyingParty(t.issuer, registered, redirectUri)).config;
}

/**
 * The person of `accessToken` signs in to the application with `offline_access` (code flow with PKCE,
 * consent given): the code, and the tokens the application received for it.
 */
export async function offlineGrant(
  t: OidcTestServer,
  config: client.Configuration,
  accessToken: string,
): Promise<OfflineGrant> {
  const { url, verifier } = await pkceRequest(config, { scope: "openid offline_access", prompt: "consent" });
  const callback = expectCallback(await authorize(new CookieBrowser(), t.issuer, url, accessToken));
  const code = callback.searchParams.get("code") ?? "";
  expect(code).not.toBe("");
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    idTokenExpected: true,
  });
  expect(tokens.refresh_token).toBeTypeOf("string");
  return { config, code, tokens };
}

/** What the token endpoint answers a refresh: the new tokens, or the OAuth error code of its refusal. */
export async function tryRefresh(
  config: client.Configuration,
  refreshToken: string,
): Promise<{ tokens: client.TokenEndpointResponse } | { error: string }> {
  try {
    return { tokens: await client.refreshTokenGrant(config, refreshToken) };
  } catch (error) {
    if (error instanceof client.ResponseBodyError) return { error: error.error };
    throw error;
  }
}
