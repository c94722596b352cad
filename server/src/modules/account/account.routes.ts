import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type { RateLimitFor } from "../../plugins/rate-limit.js";
import { metaOf } from "../../request-meta.js";
import { errorResponses } from "../../schemas.js";
import { AuditEvent } from "../audit/audit.schemas.js";
import type { AuditService } from "../audit/audit.service.js";
import { TokenBody } from "../email/email.schemas.js";
import { codeAliases, proofFactor, TrustedDevice, webauthnField } from "../second-factor/second-factor.schemas.js";
import { setupReply } from "../second-factor/totp/totp.schemas.js";
import { clearSessionCookies, sendTokens } from "../session/session.cookies.js";
import { authOf, requireAuth } from "../session/session.guard.js";
import { Session, tokenFields } from "../session/session.schemas.js";
import type { SessionService } from "../session/session.service.js";
import { cachedUserView } from "../user/user.service.js";
import type { AccountService } from "./account.service.js";
import type { RegistrationService } from "./registration.service.js";

const RegisterBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64 }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  email: Type.Optional(Type.Union([Type.String({ maxLength: 254, format: "email" }), Type.Literal("")])),
  enable_mfa: Type.Optional(Type.Boolean()),
});
/** Signed in; or, under REQUIRE_EMAIL_VERIFICATION, no tokens until the emailed link is opened (SPEC "Email"). */
const RegisterReply = Type.Union([
  Type.Object(
    { ...tokenFields, user: Type.Ref("User"), mfa_setup: Type.Optional(Type.Ref("MFASetup")) },
    { title: "Signed in" },
  ),
  Type.Object(
    {
      user: Type.Ref("User"),
      verification_required: Type.Literal(true, {
        description: "REQUIRE_EMAIL_VERIFICATION is on: sign in once the emailed link is opened",
      }),
    },
    { title: "Verification required" },
  ),
]);
const DeleteBody = Type.Object({
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  ...codeAliases,
  ...webauthnField,
});

/** The account (SPEC §2): creating it, what its owner sees of it, and deleting it. */
export async function accountRoutes(
  fastify: FastifyInstance,
  deps: {
    registration: RegistrationService;
    account: AccountService;
    sessions: SessionService;
    audit: AuditService;
    refreshTokenTtlSeconds: number;
    rateLimit: RateLimitFor;
  },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { registration, account, audit, rateLimit } = deps;
  const guard = requireAuth(deps.sessions);
  const meGuard = requireAuth(deps.sessions, { duringEnrollment: true });
  const security = [{ bearer: [] }];

  app.post(
    "/api/auth/register",
    {
      schema: {
        tags: ["auth"],
        operationId: "register",
        security: [],
        summary: "Create an account",
        body: RegisterBody,
        response: { 201: RegisterReply, ...errorResponses },
      },
      config: { rateLimit: rateLimit(10, 60) },
    },
    async (request, reply) => {
      const result = await registration.register(request.body, metaOf(request));
      reply.code(201);
      if ("verificationRequired" in result) return reply.send({ user: result.user, verification_required: true });
      const setup = result.totpSetup === undefined ? {} : { mfa_setup: setupReply(result.totpSetup) };
      return sendTokens(request, reply, result.tokens, deps.refreshTokenTtlSeconds, { user: result.user, ...setup });
    },
  );

  app.get(
    "/api/user/me",
    {
      schema: {
        tags: ["user"],
        operationId: "getMe",
        summary: "The signed-in user",
        security,
        response: { 200: Type.Ref("User"), ...errorResponses },
      },
      preHandler: meGuard,
    },
    async (request) => cachedUserView(authOf(request).user),
  );

  app.get(
    "/api/user/audit",
    {
      schema: {
        tags: ["user"],
        operationId: "listMyAuditEvents",
        summary: "The user's own security events, newest first",
        security,
        response: { 200: Type.Object({ events: Type.Array(AuditEvent) }), ...errorResponses },
      },
      preHandler: guard,
    },
    async (request) => ({ events: await audit.list({ userId: authOf(request).userId, limit: 100 }) }),
  );

  app.get(
    "/api/auth/sessions",
    {
      schema: {
        tags: ["session"],
        operationId: "listSessions",
        summary: "Active sessions and trusted devices",
        security,
        response: {
          200: Type.Object({ sessions: Type.Array(Session), trusted_devices: Type.Array(TrustedDevice) }),
          ...errorResponses,
        },
      },
      preHandler: guard,
    },
    async (request) => account.listSessions(authOf(request)),
  );

  app.delete(
    "/api/user",
    {
      schema: {
        tags: ["user"],
        operationId: "deleteAccount",
        summary: "Delete the account and everything of it",
        description:
          "The password, and with two-factor on a TOTP or recovery code (`code`, or `otp`/`token`) or a passkey " +
          "assertion (`webauthn`, answering POST /api/auth/passkeys/reauth/options).",
        security,
        body: DeleteBody,
        response: { 204: Type.Null(), ...errorResponses },
      },
      preHandler: guard,
      config: { rateLimit: rateLimit(10, 60) },
    },
    async (request, reply) => {
      const input = { password: request.body.password, ...proofFactor(request.body) };
      await account.deleteAccount(authOf(request).userId, input, metaOf(request));
      clearSessionCookies(reply);
      return reply.code(204).send(null);
    },
  );

  app.post(
    "/api/user/delete-confirm",
    {
      schema: {
        tags: ["email"],
        operationId: "confirmAccountDeletion",
        security: [],
        summary: "Delete the account with the emailed token",
        body: TokenBody,
        response: { 204: Type.Null(), ...errorResponses },
      },
      config: { rateLimit: rateLimit(30, 60) },
    },
    async (request, reply) => {
      await account.confirmDeletion(request.body.token, metaOf(request));
      clearSessionCookies(reply);
      return reply.code(204).send(null);
    },
  );
}
