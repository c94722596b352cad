import type { Kysely } from "kysely";
import type { Configuration, interactionPolicy as InteractionPolicy, KoaContextWithOIDC } from "oidc-provider";
import type Provider from "oidc-provider";
import { constantTimeEqual } from "../../crypto/constant-time.js";
import type { Keyring } from "../../crypto/encryption.js";
import { hashSecret } from "../../crypto/hash.js";
import type { Database } from "../../db/database.js";
import type { TokenService } from "../token/token.service.js";
import { findUserById } from "../user/user.repository.js";
import { createOidcAdapter, type TesseraClientMetadata } from "./oidc-adapter.js";
import { errorPage, logoutPage } from "./oidc-pages.js";
import { createOidcSeal } from "./oidc-seal.js";

/** The ID token's `acr`: whether the person proved a second factor (NIST AAL 2) or only one. */
export const acrOneFactor = "urn:tessera:aal1";
export const acrTwoFactor = "urn:tessera:aal2";

/** Where the provider's endpoints live; the discovery document sits at the issuer's well-known path. */
export const oidcRoutes = {
  authorization: "/oidc/auth",
  token: "/oidc/token",
  userinfo: "/oidc/userinfo",
  end_session: "/oidc/session/end",
  revocation: "/oidc/token/revocation",
  jwks: "/.well-known/jwks.json",
} as const;
export const interactionPath = (uid: string): string => `/oidc/interaction/${uid}`;

/** A registered application's metadata as stored (snake_case, Tessera's switches included). */
export function metadataOf(client: { metadata(): object } | undefined): TesseraClientMetadata | undefined {
  return client?.metadata() as TesseraClientMetadata | undefined;
}

/** Whether an authorization request must end with a second factor: the client says so, or its acr_values ask. */
export function secondFactorRequired(client: TesseraClientMetadata | undefined, acrValues: unknown): boolean {
  if (client?.tessera_require_2fa === true) return true;
  return typeof acrValues === "string" && acrValues.split(" ").includes(acrTwoFactor);
}

export interface OidcProviderOptions {
  db: Kysely<Database>;
  tokens: TokenService;
  /** PUBLIC_URL: the issuer. */
  issuer: string;
  /** `cookie` signs the provider's cookies, `storage` keys the stored ids (HMAC); the keyring encrypts documents. */
  keys: { cookie: Buffer; storage: Buffer };
  keyring: Keyring;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
}

/**
 * Every authorization request goes through Tessera's own sign-in: the login prompt always asks, unless
 * this very request resumes from an interaction that signed the person in. A second factor required by
 * the client (or its acr_values) that the sign-in lacks asks again rather than issuing a code.
 */
function policy(interactionPolicy: typeof InteractionPolicy): InteractionPolicy.DefaultPolicy {
  const base = interactionPolicy.base();
  const login = base.get("login");
  if (login === undefined) throw new Error("oidc-provider has no login prompt");
  login.checks.add(
    new interactionPolicy.Check(
      "tessera_sign_in",
      "Tessera signs the person in for every request",
      "login_required",
      (ctx) =>
        ctx.oidc.result?.login === undefined
          ? interactionPolicy.Check.REQUEST_PROMPT
          : interactionPolicy.Check.NO_NEED_TO_PROMPT,
    ),
  );
  login.checks.add(
    new interactionPolicy.Check(
      "second_factor_required",
      "this application requires a second factor",
      "login_required",
      (ctx) => {
        const needed = secondFactorRequired(metadataOf(ctx.oidc.client), ctx.oidc.params?.["acr_values"]);
        return needed && ctx.oidc.session?.acr !== acrTwoFactor
          ? interactionPolicy.Check.REQUEST_PROMPT
          : interactionPolicy.Check.NO_NEED_TO_PROMPT;
      },
    ),
  );
  return base;
}

export async function createOidcProvider(options: OidcProviderOptions): Promise<Provider> {
  const { db, tokens } = options;
  // Loaded on first use: commands that serve no OIDC (the CLI) never load it.
  const { default: ProviderClass, interactionPolicy, errors } = await import("oidc-provider");
  const configuration: Configuration = {
    adapter: createOidcAdapter(db, errors, createOidcSeal(options.keys.storage, options.keyring)),
    jwks: { keys: await tokens.privateJwks() },
    routes: { ...oidcRoutes },
    cookies: {
      keys: [options.keys.cookie.toString("base64url")],
      names: {
        session: "tessera_oidc_session",
        interaction: "tessera_oidc_interaction",
        resume: "tessera_oidc_resume",
      },
    },
    responseTypes: ["code"],
    pkce: { required: () => true },
    scopes: ["openid", "offline_access", "profile", "email"],
    // acr, amr and auth_time come with every ID token (SPEC), so they belong to the `openid` scope.
    claims: {
      openid: ["sub", "acr", "amr", "auth_time"],
      profile: ["preferred_username", "name"],
      email: ["email", "email_verified"],
      sid: null,
    },
    acrValues: [acrOneFactor, acrTwoFactor],
    extraClientMetadata: { properties: ["tessera_first_party", "tessera_require_2fa"] },
    clientDefaults: {
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      id_token_signed_response_alg: "EdDSA",
      token_endpoint_auth_method: "client_secret_basic",
    },
    enabledJWA: {
      idTokenSigningAlgValues: ["EdDSA"],
      userinfoSigningAlgValues: ["EdDSA"],
      clientAuthSigningAlgValues: ["EdDSA"],
      requestObjectSigningAlgValues: ["EdDSA"],
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.type = "html";
          ctx.body = logoutPage(form, metadataOf(ctx.oidc.client)?.client_name);
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.type = "html";
          ctx.body = errorPage("Signed out", "You are signed out.");
        },
      },
    },
    interactions: { policy: policy(interactionPolicy), url: (_ctx, interaction) => interactionPath(interaction.uid) },
    findAccount: async (_ctx, id) => {
      const user = await findUserById(db, id);
      if (user === undefined || user.locked === 1) return undefined;
      return {
        accountId: user.id,
        claims: () => ({
          sub: user.id,
          preferred_username: user.username,
          name: user.username,
          ...(user.email === null ? {} : { email: user.email, email_verified: true }),
        }),
      };
    },
    ttl: {
      AccessToken: options.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 14 * 24 * 3600,
      Grant: options.refreshTokenTtlSeconds,
      RefreshToken: options.refreshTokenTtlSeconds,
    },
    allowOmittingSingleRegisteredRedirectUri: false,
    rotateRefreshToken: true,
    // Single-page apps call the token endpoint from the origin of one of their redirect URIs, and only those.
    clientBasedCORS: (_ctx, origin, client) =>
      (client.redirectUris ?? []).some((uri) => {
        try {
          return new URL(uri).origin === origin;
        } catch {
          return false;
        }
      }),
    renderError: (ctx, out) => {
      ctx.type = "html";
      ctx.body = errorPage("Sign-in failed", `${out.error}: ${out.error_description ?? ""}`);
    },
  };
  const provider = new ProviderClass(options.issuer, configuration);
  provider.proxy = true; // the mount sets the forwarded headers from PUBLIC_URL and the client's address
  // Client secrets are stored as SHA-256: the presented one is hashed before the constant-time comparison.
  provider.Client.prototype.compareClientSecret = function compareClientSecret(
    this: { clientSecret?: string },
    actual: string,
  ) {
    return Promise.resolve(this.clientSecret !== undefined && constantTimeEqual(this.clientSecret, hashSecret(actual)));
  };
  return provider;
}

export type { KoaContextWithOIDC, Provider };
