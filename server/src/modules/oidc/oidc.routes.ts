import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from "fastify";
import { metaOf } from "../../request-meta.js";
import { errorResponses } from "../../schemas.js";
import { cookieSessionId } from "../session/session.cookies.js";
import { authOf, requireAuth } from "../session/session.guard.js";
import type { SessionService } from "../session/session.types.js";
import { oidcRoutes } from "./oidc-provider.js";
import type { OidcService } from "./oidc.service.js";

/** The library's endpoints, each with the methods it answers (CORS preflights included). */
const providerEndpoints: [string, HTTPMethods[]][] = [
  ["/.well-known/openid-configuration", ["GET", "OPTIONS"]],
  [oidcRoutes.authorization, ["GET", "POST"]],
  [`${oidcRoutes.authorization}/:uid`, ["GET"]],
  [oidcRoutes.token, ["POST", "OPTIONS"]],
  [oidcRoutes.userinfo, ["GET", "POST", "OPTIONS"]],
  [oidcRoutes.revocation, ["POST", "OPTIONS"]],
  [oidcRoutes.end_session, ["GET", "POST"]],
  [`${oidcRoutes.end_session}/confirm`, ["POST"]],
  [`${oidcRoutes.end_session}/success`, ["GET"]],
];

/** Headers of every answer the library sends: its pages load nothing but their own inline style. */
const providerHeaders: Record<string, string> = {
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

const InteractionParams = Type.Object({
  uid: Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" }),
});
const Redirect = Type.Object({ redirect_to: Type.String() });
const InteractionView = Type.Object({
  prompt: Type.Union([Type.Literal("login"), Type.Literal("consent")]),
  client: Type.Object({ client_id: Type.String(), name: Type.String(), first_party: Type.Boolean() }),
  scopes: Type.Array(Type.String()),
  second_factor_required: Type.Boolean(),
  account_id: Type.Union([Type.String(), Type.Null()]),
});

/**
 * OpenID Connect (SPEC "Other applications sign in through Tessera"): panva's oidc-provider answers the
 * protocol's endpoints inside this server; its sign-in steps are the web UI's, which call the interaction
 * routes below with the access token of the person who signed in there.
 */
export async function oidcRoutesPlugin(
  fastify: FastifyInstance,
  deps: { oidc: OidcService; sessions: SessionService; publicUrl: string },
): Promise<void> {
  const { oidc, sessions } = deps;
  const publicUrl = new URL(deps.publicUrl);

  await fastify.register(async (scope) => {
    // The library reads its own bodies (form-encoded or JSON): Fastify leaves the stream untouched here.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null));
    const forward = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const provider = await oidc.provider();
      // URLs come from PUBLIC_URL, never from the Host header; the client's address is the one Fastify trusts.
      const headers = request.raw.headers;
      headers.host = publicUrl.host;
      headers["x-forwarded-host"] = publicUrl.host;
      headers["x-forwarded-proto"] = publicUrl.protocol.slice(0, -1);
      headers["x-forwarded-for"] = request.ip;
      if (request.method === "POST" && request.url.startsWith(`${oidcRoutes.end_session}/confirm`))
        oidc.noteLogout(request.raw, cookieSessionId(request), metaOf(request));
      reply.hijack();
      for (const [name, value] of Object.entries(providerHeaders)) reply.raw.setHeader(name, value);
      await provider.callback()(request.raw, reply.raw);
    };
    for (const [url, method] of providerEndpoints)
      scope.route({ method, url, schema: { hide: true }, handler: forward });
  });

  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const guard = requireAuth(sessions);
  const raw = (request: FastifyRequest, reply: FastifyReply) =>
    [request.raw, reply.raw] as [typeof request.raw, typeof reply.raw];
  const tags = ["oidc"];

  app.get(
    "/oidc/interaction/:uid/details",
    {
      schema: {
        tags,
        operationId: "oidcInteractionDetails",
        summary: "What an application's pending sign-in request asks (for the sign-in screens)",
        params: InteractionParams,
        response: { 200: InteractionView, ...errorResponses },
      },
    },
    async (request, reply) => oidc.details(raw(request, reply)),
  );

  for (const step of ["login", "consent"] as const) {
    app.post(
      `/oidc/interaction/:uid/${step}`,
      {
        schema: {
          tags,
          operationId: step === "login" ? "oidcInteractionLogin" : "oidcInteractionConsent",
          summary:
            step === "login"
              ? "Sign the person of this access token in to the application's request"
              : "Let the application have what it asked for",
          security: [{ bearer: [] }],
          params: InteractionParams,
          response: { 200: Redirect, ...errorResponses },
        },
        preHandler: guard,
      },
      async (request, reply) => {
        const auth = authOf(request);
        const to =
          step === "login"
            ? await oidc.login(raw(request, reply), auth, metaOf(request))
            : await oidc.consent(raw(request, reply), auth, metaOf(request));
        return { redirect_to: to };
      },
    );
  }

  app.post(
    "/oidc/interaction/:uid/abort",
    {
      schema: {
        tags,
        operationId: "oidcInteractionAbort",
        summary: "Decline: the application is told access_denied",
        params: InteractionParams,
        response: { 200: Redirect, ...errorResponses },
      },
    },
    async (request, reply) => ({ redirect_to: await oidc.abort(raw(request, reply)) }),
  );
}
