import { compile } from "@fastify/proxy-addr";
import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError, errorBody } from "../../errors.js";
import { errorResponses } from "../../schemas.js";
import { siteSession } from "../session/session.cookies.js";
import type { SessionService } from "../session/session.types.js";
import type { ForwardAuthService } from "./forward-auth.service.js";
import { allowedReturnUrl, type ReturnUrlScope } from "./return-url.js";

const Query = Type.Object({ rd: Type.Optional(Type.String({ maxLength: 4096 })) });

/**
 * `GET /api/forward-auth` for nginx `auth_request`, Traefik `forwardAuth` and Caddy `forward_auth`
 * (SPEC "Other applications sign in through Tessera"). The site and path asked for come from the proxy:
 * `X-Original-URL` (nginx), or `X-Forwarded-Proto`, `-Host` and `-Uri` (Traefik, Caddy), believed only
 * from an address in TRUST_PROXY; else from `?rd=`. Answers 200 with the `Remote-*` headers, 403 when
 * the rule refuses, else 401 — or, when the URL may be returned to (return-url.ts), a 302 to the login
 * screen for Traefik and Caddy (they hand it to the browser), and for nginx (whose `auth_request` takes
 * only 2xx, 401 and 403) a 401 carrying that `Location` for `error_page 401 =302`.
 */
export async function forwardAuthRoutes(
  fastify: FastifyInstance,
  deps: { forwardAuth: ForwardAuthService; sessions: SessionService; trustProxy: string[] } & ReturnUrlScope,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { forwardAuth, sessions } = deps;
  const trusted = compile(deps.trustProxy);
  const fromProxy = (request: FastifyRequest): boolean =>
    deps.trustProxy.length > 0 && trusted(request.socket.remoteAddress ?? "", 0);
  const loginUrl = `${deps.publicUrl}/login?rd=`;

  app.get(
    "/api/forward-auth",
    {
      schema: {
        tags: ["forward-auth"],
        operationId: "forwardAuth",
        summary: "Whether the signed-in browser may reach a protected site (reverse proxies call this)",
        security: [{}, { siteSessionCookie: [] }],
        querystring: Query,
        response: {
          200: Type.Null({ description: "Allowed: Remote-User, Remote-Email, Remote-Groups, Remote-AAL" }),
          302: Type.Null({ description: "To the login screen, which returns to the site afterwards" }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      // A proxy asking about a request names it in X-Original-URL (nginx) or X-Forwarded-Uri (Traefik, Caddy).
      // Then only those headers decide, and only from an address in TRUST_PROXY: never `?rd=`, which the
      // client may have put in the query the proxy passes on, and never a header the client sent itself.
      const asking =
        request.headers["x-original-url"] !== undefined || request.headers["x-forwarded-uri"] !== undefined;
      const proxied = fromProxy(request) ? proxiedUrl(request) : null;
      const rd = allowedReturnUrl(request.query.rd, deps);
      const target = asking ? proxied?.url : rd;
      if (target === null || target === undefined)
        throw new AppError(
          "validation_failed",
          "Which URL to check is unknown: the proxy sends X-Original-URL, or X-Forwarded-Proto, -Host and -Uri " +
            "(not both kinds, and from an address in TRUST_PROXY), or a request without them names it in ?rd= " +
            "(a URL under COOKIE_DOMAIN).",
        );
      const decision = forwardAuth.decide(target, await siteSession(request, sessions));
      void reply.header("cache-control", "no-store");
      if (decision.kind === "allow") return reply.headers(decision.headers).code(200).send(null);
      if (decision.kind === "refuse")
        return reply.code(403).send(errorBody("forbidden", "This site is closed to this account."));
      const message =
        decision.reason === "second_factor"
          ? "This site needs a sign-in with two-factor authentication."
          : "Sign in to reach this site.";
      const back = rd ?? (proxied === null ? null : allowedReturnUrl(proxied.url.href, deps));
      const method = proxied?.method ?? "GET";
      // Only a page load goes round the login screen; another method would come back as a GET.
      if (back === null || (method !== "GET" && method !== "HEAD"))
        return reply.code(401).send(errorBody("unauthorized", message));
      const location = loginUrl + encodeURIComponent(back.href);
      const status = proxied?.style === "nginx" ? 401 : 302;
      void reply.header("location", location);
      return status === 302 ? reply.code(302).send(null) : reply.code(401).send(errorBody("unauthorized", message));
    },
  );

  app.get(
    "/api/forward-auth/return-url",
    {
      schema: {
        tags: ["forward-auth"],
        operationId: "checkReturnUrl",
        summary: "Whether the login screen may send the browser back to `rd` (no open redirect)",
        security: [],
        querystring: Query,
        response: { 200: Type.Object({ url: Type.String() }), ...errorResponses },
      },
    },
    async (request) => {
      const url = allowedReturnUrl(request.query.rd, deps);
      if (url === null) throw new AppError("validation_failed", "This address is not one to return to.");
      return { url: url.href };
    },
  );
}

/** The request the proxy is asking about, from its headers; null when they do not name an http(s) URL. */
function proxiedUrl(request: FastifyRequest): { url: URL; method: string; style: "nginx" | "forwarded" } | null {
  // A list in Proto or Host (several proxies) is refused below rather than guessed from.
  const header = (name: string): string | undefined => {
    const value = request.headers[name];
    return typeof value === "string" && value !== "" ? value : undefined;
  };
  const method = (header("x-forwarded-method") ?? header("x-original-method") ?? "GET").toUpperCase();
  const original = header("x-original-url");
  // Traefik and Caddy pass the client's own headers on: an X-Original-URL beside their X-Forwarded-Uri is the
  // client's, naming another site or path than the one requested. Neither kind is believed then.
  if (original !== undefined && (header("x-forwarded-uri") !== undefined || header("x-forwarded-host") !== undefined))
    return null;
  if (original !== undefined) {
    const url = httpUrl(original);
    return url === null ? null : { url, method, style: "nginx" };
  }
  const proto = header("x-forwarded-proto");
  const host = header("x-forwarded-host");
  const uri = header("x-forwarded-uri") ?? "/";
  if (proto === undefined || host === undefined || !hostHeader.test(host) || !uri.startsWith("/")) return null;
  const url = httpUrl(`${proto}://${host}${uri}`);
  return url === null ? null : { url, method, style: "forwarded" };
}

/** A host name or an IP literal, with an optional port: nothing that would change what the URL means. */
const hostHeader = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

function httpUrl(raw: string): URL | null {
  if (!URL.canParse(raw)) return null;
  const url = new URL(raw);
  return url.protocol === "http:" || url.protocol === "https:" ? url : null;
}
