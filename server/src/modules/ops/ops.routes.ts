import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import { AppError } from "../../errors.js";
import type { RouteDeps } from "../../routes.js";
import { errorResponses } from "../../schemas.js";

const Jwk = Type.Object({
  kty: Type.String(),
  crv: Type.String(),
  x: Type.String(),
  kid: Type.String(),
  alg: Type.String(),
  use: Type.String(),
});

export async function opsRoutes(app: FastifyInstance, { services }: RouteDeps): Promise<void> {
  app.get(
    "/healthz",
    {
      schema: {
        tags: ["ops"],
        summary: "The process is up",
        response: { 200: Type.Object({ status: Type.Literal("ok") }) },
      },
    },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/readyz",
    {
      schema: {
        tags: ["ops"],
        summary: "The database answers",
        response: { 200: Type.Object({ status: Type.Literal("ready") }), 503: errorResponses[422] },
      },
    },
    async () => {
      try {
        await sql`select 1`.execute(services.db);
      } catch {
        throw new AppError("service_unavailable", "The database does not answer.");
      }
      return { status: "ready" as const };
    },
  );

  app.get(
    "/metrics",
    { schema: { tags: ["ops"], summary: "Prometheus metrics", hide: false } },
    async (_request, reply) => {
      const body = await app.metrics.registry.metrics();
      return reply.type(app.metrics.registry.contentType).send(body);
    },
  );

  app.get(
    "/.well-known/jwks.json",
    {
      schema: {
        tags: ["tokens"],
        summary: "Public keys that verify Tessera's access tokens",
        response: { 200: Type.Object({ keys: Type.Array(Jwk) }) },
      },
    },
    async (_request, reply) => {
      reply.header("Cache-Control", "public, max-age=300");
      return services.tokens.jwks();
    },
  );
}
