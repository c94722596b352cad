import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { AppError } from "../../errors.js";
import { authOf, metaOf, requireAuth } from "../../plugins/auth-guard.js";
import { sendTokens } from "../../plugins/cookies.js";
import type { RouteDeps } from "../../routes.js";
import { codeAliases, errorResponses, pickCode, tokenFields } from "../../schemas.js";

const CodeBody = Type.Object({ ...codeAliases });
const PasswordAndCodeBody = Type.Object({
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  ...codeAliases,
  recovery_code: Type.Optional(Type.String({ maxLength: 64 })),
});
const RecoveryCodes = Type.Array(Type.String(), { minItems: 10, maxItems: 10 });

function requiredCode(body: {
  code?: string | undefined;
  otp?: string | undefined;
  token?: string | undefined;
  recovery_code?: string | undefined;
}): string {
  const code = pickCode(body) ?? body.recovery_code;
  if (code === undefined || code === "") {
    throw new AppError("validation_failed", "A code is required.", undefined, [
      { field: "code", message: "is required" },
    ]);
  }
  return code;
}

export async function totpRoutes(fastify: FastifyInstance, { services, config, rateLimit }: RouteDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { totp, mfa, sessions } = services;
  // Enrolment is open to any live session: a fresh account has no second factor yet.
  const enrolling = requireAuth(sessions, { level: "any" });
  const full = requireAuth(sessions);
  const limit = { rateLimit: rateLimit(30, 60) };

  app.post(
    "/api/auth/2fa/setup",
    {
      schema: {
        tags: ["two-factor"],
        summary: "Start TOTP enrolment: a new pending secret and its QR code",
        security: [{ bearer: [] }],
        response: { 200: Type.Ref("MFASetup"), ...errorResponses },
      },
      preHandler: enrolling,
      config: limit,
    },
    async (request) => {
      const setup = await totp.beginSetup(authOf(request).userId);
      return { ...setup, qr_base64: setup.qr_png };
    },
  );

  for (const format of ["png", "svg"] as const) {
    app.get(
      `/api/auth/2fa/qrcode.${format}`,
      {
        schema: {
          tags: ["two-factor"],
          summary: `QR code of the pending setup (${format.toUpperCase()}); never once 2FA is active`,
          security: [{ bearer: [] }],
          response: errorResponses,
        },
        preHandler: enrolling,
        config: limit,
      },
      async (request, reply) => {
        const image = await totp.pendingQRCode(authOf(request).userId, format);
        return reply
          .header("Cache-Control", "no-store")
          .type(format === "png" ? "image/png" : "image/svg+xml")
          .send(image);
      },
    );
  }

  app.post(
    "/api/auth/2fa/verify-setup",
    {
      schema: {
        tags: ["two-factor"],
        summary: "Confirm the pending secret with a code; turns 2FA on",
        security: [{ bearer: [] }],
        body: CodeBody,
        response: {
          200: Type.Object({ mfa_enabled: Type.Literal(true), recovery_codes: RecoveryCodes, ...tokenFields }),
          ...errorResponses,
        },
      },
      preHandler: enrolling,
      config: limit,
    },
    async (request, reply) => {
      const auth = authOf(request);
      const result = await mfa.confirmSetup(auth, requiredCode(request.body), metaOf(request));
      return sendTokens(request, reply, result.tokens, config.refreshTokenTtlSeconds, {
        mfa_enabled: true,
        recovery_codes: result.recoveryCodes,
      });
    },
  );

  app.post(
    "/api/auth/2fa/disable",
    {
      schema: {
        tags: ["two-factor"],
        summary: "Turn 2FA off with the password and a code (or recovery code)",
        security: [{ bearer: [] }],
        body: PasswordAndCodeBody,
        response: { 200: Type.Object({ mfa_enabled: Type.Literal(false) }), ...errorResponses },
      },
      preHandler: full,
      config: limit,
    },
    async (request) => {
      const auth = authOf(request);
      await mfa.disable(
        auth.userId,
        { password: request.body.password, code: requiredCode(request.body) },
        metaOf(request),
        auth.sessionId,
      );
      return { mfa_enabled: false as const };
    },
  );

  app.post(
    "/api/auth/2fa/recovery-codes",
    {
      schema: {
        tags: ["two-factor"],
        summary: "Replace the recovery codes; the old set stops working",
        security: [{ bearer: [] }],
        body: PasswordAndCodeBody,
        response: { 200: Type.Object({ recovery_codes: RecoveryCodes }), ...errorResponses },
      },
      preHandler: full,
      config: limit,
    },
    async (request) => {
      const codes = await mfa.regenerateRecoveryCodes(
        authOf(request).userId,
        { password: request.body.password, code: requiredCode(request.body) },
        metaOf(request),
      );
      return { recovery_codes: codes };
    },
  );
}
