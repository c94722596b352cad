import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type { RateLimitFor } from "../../plugins/rate-limit.js";
import { metaOf } from "../../request-meta.js";
import { errorResponses, IdParams } from "../../schemas.js";
import { AppError } from "../../errors.js";
import { clearSessionCookies, cookieRefreshCredential, sendTokens } from "./session.cookies.js";
import { authOf, bearerToken, requireAuth } from "./session.guard.js";
import { tokenFields } from "./session.schemas.js";
import type { SessionService } from "./session.service.js";

const RefreshBody = Type.Object({ refresh_token: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) });

export async function sessionRoutes(
  fastify: FastifyInstance,
  deps: { sessions: SessionService; refreshTokenTtlSeconds: number; rateLimit: RateLimitFor },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { sessions } = deps;

  app.post(
    "/api/auth/token/refresh",
    {
      schema: {
        tags: ["session"],
        operationId: "refreshTokens",
        security: [{}, { refreshCookie: [], csrfToken: [] }],
        "x-body-optional": true, // the cookie alone will do (plugins/swagger.ts reads this)
        summary: "Rotate a refresh token (body, or the refresh cookie with the CSRF header)",
        body: Type.Optional(RefreshBody),
        response: { 200: Type.Object(tokenFields), ...errorResponses },
      },
      config: { rateLimit: deps.rateLimit(60, 60) },
      preValidation: async (request) => {
        // A browser refreshes with the cookie alone and may send no body at all (SPEC §2 Tokens).
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const fromBody = request.body?.refresh_token;
      const credential =
        fromBody === undefined ? cookieRefreshCredential(request, "No refresh token.") : { refreshToken: fromBody };
      try {
        return sendTokens(
          request,
          reply,
          await sessions.refresh(credential, metaOf(request)),
          deps.refreshTokenTtlSeconds,
        );
      } catch (error) {
        // A dead cookie session is cleared; a refused CSRF token (maybe planted) leaves the owner's cookies alone.
        if (fromBody === undefined && error instanceof AppError && error.code === "unauthorized")
          clearSessionCookies(reply);
        throw error;
      }
    },
  );

  app.post(
    "/api/auth/logout",
    {
      schema: {
        tags: ["session"],
        operationId: "logout",
        security: [{ bearer: [] }, { refreshCookie: [], csrfToken: [] }],
        summary: "Revoke the current session",
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await sessions.logout(bearerToken(request), () => cookieRefreshCredential(request), metaOf(request));
      clearSessionCookies(reply);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    "/api/auth/sessions/:id",
    {
      schema: {
        tags: ["session"],
        operationId: "revokeSession",
        summary: "Revoke a session (its `sid`)",
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
      preHandler: requireAuth(sessions),
    },
    async (request, reply) => {
      await sessions.revoke(authOf(request), request.params.id, metaOf(request));
      return reply.code(204).send(null);
    },
  );
}
