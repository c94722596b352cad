import type { IncomingMessage, ServerResponse } from "node:http";
import cors from "@fastify/cors";
import type { FastifyInstance, FastifyReply } from "fastify";
import helmet, { type HelmetOptions } from "helmet";

/**
 * helmet computes the same headers for every request; computing them once at start and copying
 * them onto each reply keeps its policy without its per-request cost.
 */
function staticHelmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  // helmet only calls setHeader/removeHeader on the response; the casts feed it this recorder.
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => undefined);
  return headers;
}

/**
 * Headers for HTML documents (the web UI's pages, Swagger UI): helmet's full set with a CSP that allows
 * only our own scripts, styles and images. Computed once at start.
 */
export const documentHeaders: Readonly<Record<string, string>> = staticHelmetHeaders({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: "deny" },
  strictTransportSecurity: false,
  crossOriginEmbedderPolicy: false,
});

/**
 * Headers for every other answer: JSON, images, assets (the OWASP REST Security set). Such a response
 * loads nothing, may not be framed, sniffed, read cross-origin or stored by a cache; a route that may be
 * cached (JWKS, hashed assets) says so itself. The document headers' other members only mean something
 * to a page.
 */
const apiHeaders: Readonly<Record<string, string>> = {
  "cache-control": "no-store",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
  "cross-origin-resource-policy": "same-origin",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
};

/** Sets the document headers on a reply that sends an HTML page. */
export function asDocument(reply: FastifyReply): FastifyReply {
  return reply.headers(documentHeaders);
}

/**
 * API headers on every answer (pages get the document set); HSTS only over HTTPS (a trusted proxy's
 * X-Forwarded-Proto counts); CORS only for configured origins.
 */
export async function registerSecurityHeaders(app: FastifyInstance, options: { corsOrigins: string[] }): Promise<void> {
  app.addHook("onRequest", (request, reply, done) => {
    void reply.headers(apiHeaders);
    // request.protocol honours X-Forwarded-Proto only from proxies listed in TRUST_PROXY.
    if (request.protocol === "https")
      void reply.header("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    done();
  });
  // Without configured origins there is nothing to allow: no CORS hook runs, and a preflight gets the 404 JSON.
  if (options.corsOrigins.length === 0) return;
  await app.register(cors, {
    origin: options.corsOrigins,
    credentials: true,
    methods: ["GET", "POST", "DELETE"],
    allowedHeaders: ["Authorization", "Content-Type", "X-CSRF-Token"],
    exposedHeaders: ["Retry-After"],
    maxAge: 600,
  });
}
