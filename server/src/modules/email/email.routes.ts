import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { authOf, metaOf, requireAuth } from "../../plugins/auth-guard.js";
import { clearSessionCookies, sendLoginResult } from "../../plugins/cookies.js";
import type { RouteDeps } from "../../routes.js";
import { errorResponses, LoginReply } from "../../schemas.js";

// Tokens are 43 characters; anything up to 512 is read and answered 400 invalid_token, not 422.
const LinkToken = Type.String({ minLength: 1, maxLength: 512, description: "The token from the emailed link" });
const Email = Type.String({ maxLength: 254, format: "email" });
const TokenBody = Type.Object({ token: LinkToken });
const EmailBody = Type.Object({ email: Email });
const ResetBody = Type.Object({
  token: LinkToken,
  new_password: Type.String({ minLength: 1, maxLength: 1024, description: "8-256 characters, not a common password" }),
});
const ChangeEmailBody = Type.Object({
  email: Email,
  password: Type.String({ minLength: 1, maxLength: 1024, description: "The current password" }),
});
const Accepted = { 202: Type.Null({ description: "Accepted; any mail is sent in the background" }) };
const DevMailMessage = Type.Object({
  id: Type.String(),
  to: Type.String(),
  subject: Type.String(),
  text: Type.String(),
  html: Type.String(),
  sent_at: Type.String({ format: "date-time" }),
});

/** Emailed links (SPEC §2 Email): verification, magic link, password reset, deletion; and the dev mailbox. */
export async function emailRoutes(fastify: FastifyInstance, { services, config, rateLimit }: RouteDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { email, recovery, sessions, mailer } = services;
  const guard = requireAuth(sessions);
  const tags = ["email"];

  app.post(
    "/api/auth/email/verify",
    {
      schema: {
        tags,
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
    "/api/auth/magic-link",
    {
      schema: {
        tags,
        summary: "Email a sign-in link to a verified address (202 whatever the address)",
        body: EmailBody,
        response: { ...Accepted, ...errorResponses },
      },
      config: { rateLimit: rateLimit(10, 60) },
    },
    async (request, reply) => {
      await recovery.requestMagicLink(request.body.email, metaOf(request));
      return reply.code(202).send(null);
    },
  );

  app.post(
    "/api/auth/magic-link/verify",
    {
      schema: {
        tags,
        summary: "Sign in with the emailed link: tokens, or the mfa_required challenge when 2FA is on",
        body: TokenBody,
        response: { 200: LoginReply, ...errorResponses },
      },
      config: { rateLimit: rateLimit(30, 60) },
    },
    async (request, reply) => {
      const result = await recovery.loginWithMagicLink(request.body.token, metaOf(request));
      return sendLoginResult(request, reply, result, config.refreshTokenTtlSeconds);
    },
  );

  app.post(
    "/api/auth/password/forgot",
    {
      schema: {
        tags,
        summary: "Email a password-reset link to a verified address (202 whatever the address)",
        body: EmailBody,
        response: { ...Accepted, ...errorResponses },
      },
      config: { rateLimit: rateLimit(10, 60) },
    },
    async (request, reply) => {
      await recovery.requestPasswordReset(request.body.email, metaOf(request));
      return reply.code(202).send(null);
    },
  );

  app.post(
    "/api/auth/password/reset",
    {
      schema: {
        tags,
        summary: "Set a new password with the emailed token; every session is signed out, 2FA stays on",
        body: ResetBody,
        response: { 200: Type.Object({ password_reset: Type.Literal(true) }), ...errorResponses },
      },
      config: { rateLimit: rateLimit(30, 60) },
    },
    async (request, reply) => {
      await recovery.resetPassword(request.body.token, request.body.new_password, metaOf(request));
      clearSessionCookies(reply);
      return reply.send({ password_reset: true as const });
    },
  );

  app.post(
    "/api/user/email",
    {
      schema: {
        tags,
        summary: "Change the email address; attached once the link sent to it is opened",
        security: [{ bearer: [] }],
        body: ChangeEmailBody,
        response: { ...Accepted, ...errorResponses },
      },
      config: { rateLimit: rateLimit(10, 60) },
      preHandler: guard,
    },
    async (request, reply) => {
      await email.requestEmailChange(authOf(request).userId, request.body, metaOf(request));
      return reply.code(202).send(null);
    },
  );

  app.post(
    "/api/user/delete-request",
    {
      schema: {
        tags,
        summary: "Email a link that deletes the account",
        security: [{ bearer: [] }],
        response: { ...Accepted, ...errorResponses },
      },
      config: { rateLimit: rateLimit(10, 60) },
      preHandler: guard,
    },
    async (request, reply) => {
      await email.requestDeletion(authOf(request).userId, metaOf(request));
      return reply.code(202).send(null);
    },
  );

  app.post(
    "/api/user/delete-confirm",
    {
      schema: {
        tags,
        summary: "Delete the account with the emailed token",
        body: TokenBody,
        response: { 204: Type.Null(), ...errorResponses },
      },
      config: { rateLimit: rateLimit(30, 60) },
    },
    async (request, reply) => {
      await email.confirmDeletion(request.body.token, metaOf(request));
      clearSessionCookies(reply);
      return reply.code(204).send(null);
    },
  );

  // Outside production only: every message, links included, for trying the flows without an SMTP server.
  if (config.nodeEnv !== "production") {
    app.get(
      "/dev/mail",
      {
        schema: {
          tags: ["dev"],
          summary: "The last 50 messages, newest first (not in production)",
          response: { 200: Type.Object({ messages: Type.Array(DevMailMessage) }) },
        },
      },
      async () => ({ messages: mailer.outbox() ?? [] }),
    );
  }
}
