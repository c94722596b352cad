import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { sql, type Kysely } from "kysely";
import { constantTimeEqual } from "../../crypto/constant-time.js";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import { isDirectLoopback } from "../../request-meta.js";
import { errorResponses, httpLayerErrors } from "../../schemas.js";

/** `/metrics` is for the operator: loopback itself, or whoever holds METRICS_TOKEN (SPEC §1). */
function mayReadMetrics(request: FastifyRequest, metricsToken: string | null): boolean {
  if (isDirectLoopback(request)) return true;
  const header = request.headers.authorization;
  if (metricsToken === null || header === undefined || !/^Bearer /i.test(header)) return false;
  return constantTimeEqual(header.slice("Bearer ".length).trim(), metricsToken);
}

/** For operators: liveness, readiness and Prometheus metrics (SPEC §1). */
export async function opsRoutes(
  app: FastifyInstance,
  { db, metricsToken }: { db: Kysely<Database>; metricsToken: string | null },
): Promise<void> {
  app.get(
    "/healthz",
    {
      schema: {
        tags: ["ops"],
        operationId: "getHealth",
        security: [],
        summary: "The process is up",
        response: { 200: Type.Object({ status: Type.Literal("ok") }), ...httpLayerErrors },
      },
    },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/readyz",
    {
      schema: {
        tags: ["ops"],
        operationId: "getReadiness",
        security: [],
        summary: "The database answers",
        response: { 200: Type.Object({ status: Type.Literal("ready") }), ...httpLayerErrors, 503: errorResponses[422] },
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
    {
      schema: {
        tags: ["ops"],
        operationId: "getMetrics",
        security: [{}, { metricsToken: [] }],
        summary: "Prometheus metrics (loopback, or Authorization: Bearer METRICS_TOKEN; 404 to anyone else)",
        response: {
          200: {
            description: "Prometheus text exposition format",
            content: { "text/plain": { schema: { type: "string" } } },
          },
          404: errorResponses[404],
        },
      },
    },
    async (request, reply) => {
      // Everyone else sees the same 404 as a path that does not exist.
      if (!mayReadMetrics(request, metricsToken)) return reply.callNotFound();
      const body = await app.metrics.registry.metrics();
      return reply.type(app.metrics.registry.contentType).send(body);
    },
  );
}
