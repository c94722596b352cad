import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type { RateLimitFor } from "../../plugins/rate-limit.js";
import { readClientCookie } from "../login/client-cookie.js";
import { metaOf } from "../../request-meta.js";
import { errorResponses } from "../../schemas.js";
import { Accepted, acceptedBody, EmailBody, LinkToken } from "../email/email.schemas.js";
import { codeAliases, proofFactor, webauthnField } from "../second-factor/second-factor.schemas.js";
import { clearSessionCookies } from "../session/session.cookies.js";
import { authOf, requireAuth } from "../session/session.guard.js";
import type { SessionService } from "../session/session.service.js";
import type { PasswordService } from "./password.service.js";

const ChangePasswordBody = Type.Object({
  current_password: Type.String({ minLength: 1, maxLength: 1024 }),
  new_password: Type.String({ minLength: 1, maxLength: 1024 }),
  ...codeAliases,
  ...webauthnField,
});
const ResetBody = Type.Object({
  token: LinkToken,
  new_password: Type.String({ minLength: 1, maxLength: 1024, description: "8-256 characters, not a common password" }),
});

/** A new password: changed by the signed-in owner, or reset by an emailed link (SPEC §2). */
export async function passwordRoutes(
  fastify: FastifyInstance,
  deps: { passwords: PasswordService; sessions: SessionService; rateLimit: RateLimitFor },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { passwords, rateLimit } = deps;

  app.post(
    "/api/user/password",
    {
      schema: {
        tags: ["user"],
        operationId: "changePassword",
        summary: "Change the password; other sessions are revoked",
        description:
          "With two-factor on, also a TOTP or recovery code (`code`, or `otp`/`token`) or a passkey assertion " +
          "(`webauthn`, answering POST /api/auth/passkeys/reauth/options).",
        security: [{ bearer: [] }],
        body: ChangePasswordBody,
        response: { 204: Type.Null(), ...errorResponses },
      },
      preHandler: requireAuth(deps.sessions),
      config: { rateLimit: rateLimit(10, 60) },
    },
    async (request, reply) => {
      const { current_password, new_password } = request.body;
      const input = { current_password, new_password, ...proofFactor(request.body) };
      await passwords.changePassword(authOf(request), input, metaOf(request));
      return reply.code(204).send(null);
    },
  );

  app.post(
    "/api/auth/password/forgot",
    {
      schema: {
        tags: ["email"],
        operationId: "requestPasswordReset",
        security: [],
        summary: "Email a password-reset link to a verified address (202 whatever the address)",
        body: EmailBody,
        response: { ...Accepted, ...errorResponses },
      },
      config: { rateLimit: rateLimit(10, 60) },
    },
    async (request, reply) => {
      await passwords.requestPasswordReset(request.body.email, metaOf(request), readClientCookie(request));
      return reply.code(202).send(acceptedBody);
    },
  );

  app.post(
    "/api/auth/password/reset",
    {
      schema: {
        tags: ["email"],
        operationId: "resetPassword",
        security: [],
        summary: "Set a new password with the emailed token; every session is signed out, two-factor stays on",
        body: ResetBody,
        response: { 200: Type.Object({ password_reset: Type.Literal(true) }), ...errorResponses },
      },
      config: { rateLimit: rateLimit(30, 60) },
    },
    async (request, reply) => {
      await passwords.resetPassword(request.body.token, request.body.new_password, metaOf(request));
      clearSessionCookies(reply);
      return reply.send({ password_reset: true as const });
    },
  );
}
