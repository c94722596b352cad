import swagger from "@fastify/swagger";
import swaggerUI from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import type { Config } from "../config.js";
import { asDocument } from "./security-headers.js";

/**
 * How clients authenticate. Routes name theirs in `schema.security`; the document's default is
 * `bearer`, so a route that says nothing is documented as needing an access token, and public routes
 * say `security: []`.
 */
const securitySchemes = {
  bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "An access token (JWT, EdDSA)" },
  basic: { type: "http", scheme: "basic", description: "Username (or email) and password, for scripts" },
  refreshCookie: {
    type: "apiKey",
    in: "cookie",
    name: "tessera_refresh",
    description: "The web UI's refresh token (httpOnly); always with the CSRF header",
  },
  csrfToken: {
    type: "apiKey",
    in: "header",
    name: "X-CSRF-Token",
    description: "The value of the tessera_csrf cookie, echoed (double submit)",
  },
  siteSessionCookie: {
    type: "apiKey",
    in: "cookie",
    name: "tessera_session",
    description: "The site-wide browser session (httpOnly, on COOKIE_DOMAIN), read by forward-auth",
  },
  metricsToken: { type: "http", scheme: "bearer", description: "METRICS_TOKEN; loopback needs none" },
} as const;

type Operation = { "x-body-optional"?: boolean; requestBody?: { required?: boolean } };

/**
 * @fastify/swagger marks every request body required; routes whose body may be left out (HTTP Basic
 * login, a cookie refresh) say `"x-body-optional": true` in their schema, turned here into
 * `requestBody.required: false`.
 */
function markOptionalBodies<T extends { paths?: object }>(document: T): T {
  for (const operations of Object.values(document.paths ?? {})) {
    if (typeof operations !== "object" || operations === null) continue;
    for (const value of Object.values(operations)) {
      if (typeof value !== "object" || value === null) continue;
      // Path items hold operation objects (and parameters); only operations carry the flag.
      const operation = value as Operation;
      if (operation["x-body-optional"] !== true) continue;
      delete operation["x-body-optional"];
      if (operation.requestBody !== undefined) operation.requestBody.required = false;
    }
  }
  return document;
}

/** OpenAPI built from the routes' own TypeBox schemas: `/openapi.json` and Swagger UI at `/docs`. */
export async function registerSwagger(app: FastifyInstance, config: Readonly<Config>): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Tessera",
        description:
          "Self-hosted two-factor authentication server. Every error has the shape " +
          '`{"error": {"code", "message"}}`, the HTTP layer\'s own included (408 request_timeout, ' +
          "431 headers_too_large, 422 validation_failed for malformed requests).",
        version: "0.1.0",
        license: { name: "MIT", identifier: "MIT" },
      },
      servers: [{ url: config.publicUrl }],
      security: [{ bearer: [] }],
      components: { securitySchemes },
    },
    transformObject: (documentObject) =>
      "openapiObject" in documentObject
        ? markOptionalBodies(documentObject.openapiObject)
        : documentObject.swaggerObject,
  });
  await app.register(swaggerUI, {
    routePrefix: "/docs",
    staticCSP: true, // its own CSP, which allows Swagger UI's inline script hashes
    uiConfig: { deepLinking: true },
    uiHooks: {
      onRequest: (_request, reply, done) => {
        asDocument(reply);
        done();
      },
    },
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}
