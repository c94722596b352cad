import type { FastifyReply, FastifyRequest } from "fastify";
import { sendTokens } from "../session/session.cookies.js";
import type { LoginResult } from "./login.service.js";

/** The reply to any first factor: tokens, or the second-factor challenge (which sets no cookie). */
export function sendLoginResult(
  request: FastifyRequest,
  reply: FastifyReply,
  result: LoginResult,
  maxAgeSeconds: number,
): FastifyReply {
  if (result.kind === "challenge") return reply.send(result.challenge);
  return sendTokens(request, reply, result.tokens, maxAgeSeconds, { user: result.user });
}
