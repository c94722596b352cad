import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { AppError } from "../../errors.js";
import { authOf, metaOf, requireAuth } from "../../plugins/auth-guard.js";
import type { RouteDeps } from "../../routes.js";
import { errorResponses, NullableString } from "../../schemas.js";

const Session = Type.Object({
  id: Type.String(),
  created_at: Type.String(),
  last_used_at: Type.String(),
  ip: NullableString,
  user_agent: NullableString,
  aal: Type.Integer(),
  amr: Type.Array(Type.String()),
  current: Type.Boolean(),
});
const TrustedDevice = Type.Object({
  id: Type.String(),
  created_at: Type.String(),
  expires_at: Type.String(),
  user_agent: NullableString,
});
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export async function sessionRoutes(fastify: FastifyInstance, { services }: RouteDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { sessions, devices, audit } = services;
  const guard = requireAuth(sessions);

  app.get(
    "/api/auth/sessions",
    {
      schema: {
        tags: ["session"],
        summary: "Active sessions and trusted devices",
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({ sessions: Type.Array(Session), trusted_devices: Type.Array(TrustedDevice) }),
          ...errorResponses,
        },
      },
      preHandler: guard,
    },
    async (request) => {
      const auth = authOf(request);
      const [list, trusted] = await Promise.all([sessions.list(auth), devices.list(auth.userId)]);
      return { sessions: list, trusted_devices: trusted };
    },
  );

  app.delete(
    "/api/auth/sessions/:id",
    {
      schema: {
        tags: ["session"],
        summary: "Revoke a session (its `sid`)",
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
      preHandler: guard,
    },
    async (request, reply) => {
      await sessions.revoke(authOf(request), request.params.id, metaOf(request));
      return reply.code(204).send(null);
    },
  );

  app.delete(
    "/api/auth/trusted-devices/:id",
    {
      schema: {
        tags: ["session"],
        summary: "Forget a trusted device",
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
      preHandler: guard,
    },
    async (request, reply) => {
      const auth = authOf(request);
      if (!(await devices.revoke(auth.userId, request.params.id)))
        throw new AppError("not_found", "No such trusted device.");
      await audit.record({
        type: "trusted_device_revoked",
        userId: auth.userId,
        meta: metaOf(request),
        detail: { device_id: request.params.id },
      });
      return reply.code(204).send(null);
    },
  );
}
