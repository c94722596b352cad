import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type { RateLimitFor } from "../../plugins/rate-limit.js";
import { metaOf } from "../../request-meta.js";
import { errorResponses } from "../../schemas.js";
import { authOf, requireAuth } from "../session/session.guard.js";
import type { SessionService } from "../session/session.service.js";
import { Accepted, acceptedBody, Email, TokenBody } from "./email.schemas.js";
import type { EmailService } from "./email.service.js";

const ChangeEmailBody = Type.Object({
  email: Email,
  password: Type.String({ minLength: 1, maxLength: 1024, description: "The current password" }),
});

/** The address on an account (SPEC §2 Email): verifying it, changing it, and asking for a deletion link. */
export async function emailRoutes(
  fastify: FastifyInstance,
  deps: { email: EmailService; sessions: SessionService; rateLimit: RateLimitFor },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { email, rateLimit } = deps;
  const guard = requireAuth(deps.sessions);
  // The deletion link carries no password: asking for it needs a recent sign-in (SPEC "Re-authentication").
  const recentGuard = requireAuth(deps.sessions, { recent: true });
  const tags = ["email"];

  app.post(
    "/api/auth/email/verify",
    {
      schema: {
        tags,
        operationId: "verifyEmail",
        security: [],
        summary: "Confirm an email address with the emailed token",
        body: TokenBody,
        response: { 200: Type.Object({ email_verified: Type.Literal(true) }), ...errorResponses },
      },
      config: { rateLimit: rateLimit(30, 60) },
    },
    async (request) => {
      await email.verifyEmail(request.body.token, metaOf(request));
      return { email_verified: true as const };
    },
  );

  app.post(
    "/api/user/email",
    {
      schema: {
        tags,
        operationId: "changeEmail",
        summary: "Change the email address; attached once the link sent to it is opened",
        security: [{ bearer: [] }],
        body: ChangeEmailBody,
        response: { ...Accepted, ...errorResponses },
      },
      config: { rateLimit: rateLimit(10, 60) },
      preHandler: guard,
    },
    async (request, reply) => {
      await email.requestEmailChange(authOf(request), request.body, metaOf(request));
      return reply.code(202).send(acceptedBody);
    },
  );

  app.post(
    "/api/user/delete-request",
    {
      schema: {
        tags,
        operationId: "requestAccountDeletion",
        summary: "Email a link that deletes the account",
        security: [{ bearer: [] }],
        response: { ...Accepted, ...errorResponses },
      },
      config: { rateLimit: rateLimit(10, 60) },
      preHandler: recentGuard,
    },
    async (request, reply) => {
      await email.requestDeletion(authOf(request).userId, metaOf(request));
      return reply.code(202).send(acceptedBody);
    },
  );
}
