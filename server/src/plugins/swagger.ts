import swagger from "@fastify/swagger";
import swaggerUI from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import type { Config } from "../config.js";
import { asDocument } from "./security-headers.js";

/** OpenAPI built from the routes' own TypeBox schemas: `/openapi.json` and Swagger UI at `/docs`. */
export async function registerSwagger(app: FastifyInstance, config: Readonly<Config>): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Tessera", description: "Self-hosted two-factor authentication server", version: "0.1.0" },
      servers: [{ url: config.publicUrl }],
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
    },
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
