import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { sql, type Kysely } from "kysely";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import { errorResponses } from "../../schemas.js";

/** For operators: liveness, readiness and Prometheus metrics (SPEC §1). */
export async function opsRoutes(app: FastifyInstance, { db }: { db: Kysely<Database> }): Promise<void> {
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
        await sql`select 1`.execute(db);
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
}
