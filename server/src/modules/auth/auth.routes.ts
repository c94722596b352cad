import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../../errors.js";
import { metaOf } from "../../plugins/auth-guard.js";
import {
  clearSessionCookies,
  assertCsrf,
  readDeviceCookie,
  refreshCookie,
  sendLoginResult,
  sendTokens as sendTokensReply,
  setDeviceCookie,
} from "../../plugins/cookies.js";
import type { RouteDeps } from "../../routes.js";
import { codeAliases, errorResponses, LoginReply, pickCode, tokenFields } from "../../schemas.js";
import { loginFailuresPerAccount } from "../attempt/account-limits.js";
import type { TokenPair } from "../session/session.service.js";

const RegisterBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64 }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  email: Type.Optional(Type.Union([Type.String({ maxLength: 254, format: "email" }), Type.Literal("")])),
  enable_mfa: Type.Optional(Type.Boolean()),
});
const LoginBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 254, description: "Username or email" }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
});
const MFALoginBody = Type.Object({
  login_token: Type.String({ minLength: 1, maxLength: 128 }),
  ...codeAliases,
  recovery_code: Type.Optional(Type.String({ maxLength: 64 })),
  remember_device: Type.Optional(Type.Boolean()),
});
const RefreshBody = Type.Object({ refresh_token: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) });
const TokensReply = Type.Object({ ...tokenFields, user: Type.Optional(Type.Ref("User")) });

export async function authRoutes(fastify: FastifyInstance, { services, config, rateLimit }: RouteDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { auth, sessions, devices, limits } = services;
  const cookieMaxAge = config.refreshTokenTtlSeconds;

  const sendTokens = (
    request: FastifyRequest,
    reply: FastifyReply,
    tokens: TokenPair,
    extra: Record<string, unknown> = {},
  ): FastifyReply => sendTokensReply(request, reply, tokens, cookieMaxAge, extra);

  app.post(
    "/api/auth/register",
    {
      schema: {
        tags: ["auth"],
        summary: "Create an account",
        body: RegisterBody,
        response: {
          201: Type.Object({ ...tokenFields, user: Type.Ref("User"), mfa_setup: Type.Optional(Type.Ref("MFASetup")) }),
          ...errorResponses,
        },
      },
      config: { rateLimit: rateLimit(10, 60) },
    },
    async (request, reply) => {
      const body = request.body;
      const result = await auth.register(body, metaOf(request));
      reply.code(201);
      const setup =
        result.mfaSetup === undefined ? {} : { mfa_setup: { ...result.mfaSetup, qr_base64: result.mfaSetup.qr_png } };
      return sendTokens(request, reply, result.tokens, { user: result.user, ...setup });
    },
  );

  app.post(
    "/api/auth/login",
    {
      schema: {
        tags: ["auth"],
        summary: "Password login (JSON body, or HTTP Basic with no body)",
        body: LoginBody,
        response: { 200: LoginReply, ...errorResponses },
      },
      config: { rateLimit: rateLimit(30, 60) },
      preValidation: async (request) => {
        // Scripts may send the credentials as HTTP Basic instead of a body (SPEC §2).
        const header = request.headers.authorization;
        if (request.body === undefined && header?.startsWith("Basic ")) {
          const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
          const separator = decoded.indexOf(":");
          if (separator > 0)
            request.body = { username: decoded.slice(0, separator), password: decoded.slice(separator + 1) };
        }
      },
    },
    async (request, reply) => {
      const body = request.body;
      const accountKey = body.username.normalize("NFKC").trim().toLowerCase();
      // Reserved before the password is checked, so a burst of parallel guesses cannot all slip under the limit.
      await limits.reserve("login", accountKey, loginFailuresPerAccount);
      let failed = false;
      try {
        const result = await auth.login({ ...body, deviceCookie: readDeviceCookie(request) }, metaOf(request));
        app.metrics.logins.inc({ result: result.kind === "challenge" ? "mfa_required" : "ok" });
        return sendLoginResult(request, reply, result, cookieMaxAge);
      } catch (error) {
        if (error instanceof AppError && error.code === "invalid_credentials") {
          failed = true;
          app.metrics.logins.inc({ result: "failed" });
        }
        throw error;
      } finally {
        // Only failures use up the account's allowance.
        if (!failed) await limits.release("login", accountKey);
      }
    },
  );

  app.post(
    "/api/auth/2fa/login",
    {
      schema: {
        tags: ["two-factor"],
        summary: "Finish a login with a TOTP or recovery code",
        body: MFALoginBody,
        response: { 200: TokensReply, ...errorResponses },
      },
      config: { rateLimit: rateLimit(30, 60) },
    },
    async (request, reply) => {
      const body = request.body;
      const code = pickCode(body);
      if ((code === undefined) === (body.recovery_code === undefined)) {
        throw new AppError("validation_failed", "Send exactly one of code or recovery_code.", undefined, [
          { field: "code", message: "exactly one of code or recovery_code is required" },
        ]);
      }
      const result = await auth.loginWithSecondFactor(
        { loginToken: body.login_token, code, recoveryCode: body.recovery_code },
        metaOf(request),
      );
      if (body.remember_device === true && devices.enabled) {
        const deviceToken = await devices.remember(result.userId, metaOf(request).userAgent);
        setDeviceCookie(request, reply, deviceToken, devices.maxAgeSeconds);
        // A trusted device skips the second factor for TRUSTED_DEVICE_DAYS: the user must see it was added.
        await services.audit.record({ type: "trusted_device_added", userId: result.userId, meta: metaOf(request) });
      }
      return sendTokens(request, reply, result.tokens, { user: result.user });
    },
  );

  app.post(
    "/api/auth/token/refresh",
    {
      schema: {
        tags: ["session"],
        summary: "Rotate a refresh token (body, or the refresh cookie with the CSRF header)",
        body: Type.Optional(RefreshBody),
        response: { 200: Type.Object(tokenFields), ...errorResponses },
      },
      config: { rateLimit: rateLimit(60, 60) },
      preValidation: async (request) => {
        // A browser refreshes with the cookie alone and may send no body at all (SPEC §2 Tokens).
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      let token = body.refresh_token;
      if (token === undefined) {
        token = request.cookies[refreshCookie];
        if (token === undefined) throw new AppError("unauthorized", "No refresh token.");
        assertCsrf(request);
      }
      try {
        return sendTokens(request, reply, await sessions.refresh(token, metaOf(request)));
      } catch (error) {
        if (body.refresh_token === undefined) clearSessionCookies(reply);
        throw error;
      }
    },
  );

  app.post(
    "/api/auth/logout",
    {
      schema: {
        tags: ["session"],
        summary: "Revoke the current session",
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const bearer =
        request.headers.authorization?.startsWith("Bearer ") === true ? request.headers.authorization.slice(7) : null;
      const context = bearer === null ? null : await sessions.authenticate(bearer);
      if (context !== null) {
        await sessions.revoke(context, context.sessionId, metaOf(request));
      } else {
        const cookie = request.cookies[refreshCookie];
        if (cookie === undefined) throw new AppError("unauthorized");
        assertCsrf(request);
        await sessions.revokeByRefreshToken(cookie, metaOf(request));
      }
      clearSessionCookies(reply);
      return reply.code(204).send(null);
    },
  );
}
