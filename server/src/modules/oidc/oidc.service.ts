import type { IncomingMessage, ServerResponse } from "node:http";
import type { Kysely } from "kysely";
import type Provider from "oidc-provider";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import type { RequestMeta } from "../../request-meta.js";
import type { AuditService } from "../audit/audit.service.js";
import type { AuthContext, SessionService } from "../session/session.types.js";
import type { TokenService } from "../token/token.service.js";
import {
  acrOneFactor,
  acrTwoFactor,
  createOidcProvider,
  metadataOf,
  secondFactorRequired,
  type OidcProviderOptions,
} from "./oidc-provider.js";
import { deleteByUserId } from "./oidc-payload.repository.js";

type Raw = [IncomingMessage, ServerResponse];

/** What the sign-in screens show of a pending authorization request. */
export interface InteractionView {
  prompt: "login" | "consent";
  client: { client_id: string; name: string; first_party: boolean };
  scopes: string[];
  second_factor_required: boolean;
  /** The account this request already signed in, at the consent step. */
  account_id: string | null;
}

export interface OidcService {
  /** The provider, built on first use and again whenever the signing keys change (one JWKS with the access tokens). */
  provider(): Promise<Provider>;
  details(raw: Raw): Promise<InteractionView>;
  /** Ends the login step with the person of `auth`; returns where the browser goes on. */
  login(raw: Raw, auth: AuthContext, meta: RequestMeta): Promise<string>;
  consent(raw: Raw, auth: AuthContext, meta: RequestMeta): Promise<string>;
  /**
   * An RP-initiated logout's confirmation is on its way through the library: when the person chose "Sign out",
   * the Tessera session named by the browser's signed cookie ends with the application's.
   */
  noteLogout(req: IncomingMessage, sessionId: string | null, meta: RequestMeta): void;
  /** The person declined: the application receives access_denied. */
  abort(raw: Raw): Promise<string>;
  /**
   * Ends every grant of an account: its codes, access and refresh tokens, grants and provider sessions. With
   * the account's deletion, and wherever all its Tessera sessions end (password reset or change, an
   * administrator's lock, two-factor reset or "revoke sessions").
   */
  deleteUserRows(executor: Kysely<Database>, userId: string): Promise<void>;
}

type Interaction = Awaited<ReturnType<Provider["interactionDetails"]>>;

const interactionGone = (): AppError =>
  new AppError(
    "invalid_token",
    "This sign-in request has expired or was already used; start again from the application.",
  );

export function createOidcService(
  deps: Omit<OidcProviderOptions, "tokens"> & { tokens: TokenService; audit: AuditService; sessions: SessionService },
): OidcService {
  const { tokens, audit, sessions } = deps;
  const loggingOut = new WeakMap<IncomingMessage, { sessionId: string; meta: RequestMeta }>();

  function listen(created: Provider): Provider {
    // After the library's handler and before Koa answers: the redirect leaves with the session already ended.
    created.use(async (ctx, next) => {
      await next();
      const ending = loggingOut.get(ctx.req);
      if (ending === undefined || ctx.oidc?.route !== "end_session_confirm") return;
      if (ctx.oidc.params?.["logout"] !== undefined && ctx.status === 303)
        await sessions.endSession(ending.sessionId, ending.meta);
    });
    return created;
  }

  let built: { provider: Provider; kids: string } | null = null;
  let building: Promise<Provider> | null = null;

  async function provider(): Promise<Provider> {
    const kids = (await tokens.jwks()).keys.map((key) => key.kid).join(" ");
    if (built !== null && built.kids === kids) return built.provider;
    building ??= createOidcProvider(deps)
      .then((created) => {
        built = { provider: listen(created), kids };
        return created;
      })
      .finally(() => {
        building = null;
      });
    return building;
  }

  async function interaction([req, res]: Raw): Promise<{ p: Provider; details: Interaction }> {
    const p = await provider();
    try {
      return { p, details: await p.interactionDetails(req, res) };
    } catch {
      throw interactionGone();
    }
  }

  async function clientOf(p: Provider, details: Interaction) {
    const client = await p.Client.find(String(details.params["client_id"]));
    const metadata = metadataOf(client);
    if (client === undefined || metadata === undefined) throw interactionGone();
    return { client, metadata };
  }

  /** A grant covering what the request asks (scopes and claims), saved; for consent and first-party clients. */
  async function grantFor(p: Provider, details: Interaction, accountId: string, clientId: string): Promise<string> {
    const existing = details.grantId === undefined ? undefined : await p.Grant.find(details.grantId);
    const grant = existing ?? new p.Grant({ accountId, clientId });
    const promptDetails = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const scope = String(details.params["scope"] ?? "openid");
    grant.addOIDCScope(promptDetails.missingOIDCScope?.join(" ") ?? scope);
    if (promptDetails.missingOIDCClaims !== undefined) grant.addOIDCClaims(promptDetails.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(promptDetails.missingResourceScopes ?? {}))
      grant.addResourceScope(indicator, scopes.join(" "));
    return grant.save();
  }

  return {
    provider,

    async details(raw) {
      const { p, details } = await interaction(raw);
      const { metadata } = await clientOf(p, details);
      return {
        prompt: details.prompt.name === "consent" ? "consent" : "login",
        client: {
          client_id: String(metadata.client_id),
          name: String(metadata.client_name ?? metadata.client_id),
          first_party: metadata.tessera_first_party === true,
        },
        scopes: String(details.params["scope"] ?? "")
          .split(" ")
          .filter((s) => s !== ""),
        second_factor_required: secondFactorRequired(metadata, details.params["acr_values"]),
        account_id: details.session?.accountId ?? null,
      };
    },

    async login(raw, auth, meta) {
      const { p, details } = await interaction(raw);
      if (details.prompt.name !== "login")
        throw new AppError("invalid_token", "This sign-in request is past its sign-in step.");
      const { metadata } = await clientOf(p, details);
      // No code for a client that needs a second factor before the person has given one (SPEC).
      if (secondFactorRequired(metadata, details.params["acr_values"]) && auth.aal < 2)
        throw new AppError(
          "mfa_required",
          auth.secondFactorEnabled
            ? "This application requires a second factor."
            : "This application requires two-factor authentication: turn it on in your account first.",
        );
      // prompt=login and max_age ask for a sign-in made for this request, or recent enough.
      const maxAge = Number(details.params["max_age"]);
      const freshNeeded = details.prompt.reasons.includes("login_prompt");
      const nowSeconds = Math.floor(Date.now() / 1000);
      if (
        (freshNeeded && auth.authTime < details.iat) ||
        (Number.isFinite(maxAge) && nowSeconds - auth.authTime > maxAge)
      )
        throw new AppError("reauth_required", "The application asks you to sign in again.");
      const result: Record<string, unknown> = {
        login: {
          accountId: auth.userId,
          acr: auth.aal === 2 ? acrTwoFactor : acrOneFactor,
          amr: auth.amr,
          ts: auth.authTime,
          remember: false,
        },
      };
      if (metadata.tessera_first_party === true) {
        result["consent"] = { grantId: await grantFor(p, details, auth.userId, String(metadata.client_id)) };
        await audit.record({
          type: "oidc_authorized",
          userId: auth.userId,
          meta,
          detail: { client_id: String(metadata.client_id) },
        });
      }
      return p.interactionResult(raw[0], raw[1], result, { mergeWithLastSubmission: false });
    },

    async consent(raw, auth, meta) {
      const { p, details } = await interaction(raw);
      if (details.prompt.name !== "consent")
        throw new AppError("invalid_token", "This sign-in request asks no consent.");
      // Only the person this request signed in may consent for it.
      if (details.session?.accountId !== auth.userId)
        throw new AppError("forbidden", "This request belongs to another sign-in.");
      const { metadata } = await clientOf(p, details);
      const grantId = await grantFor(p, details, auth.userId, String(metadata.client_id));
      await audit.record({
        type: "oidc_authorized",
        userId: auth.userId,
        meta,
        detail: { client_id: String(metadata.client_id) },
      });
      return p.interactionResult(raw[0], raw[1], { consent: { grantId } }, { mergeWithLastSubmission: true });
    },

    noteLogout(req, sessionId, meta) {
      if (sessionId !== null) loggingOut.set(req, { sessionId, meta });
    },

    async abort(raw) {
      const { p } = await interaction(raw);
      return p.interactionResult(raw[0], raw[1], {
        error: "access_denied",
        error_description: "The person declined to sign in to this application.",
      });
    },

    deleteUserRows: (executor, userId) => deleteByUserId(executor, userId),
  };
}
