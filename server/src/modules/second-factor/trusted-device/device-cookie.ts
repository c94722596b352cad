import type { FastifyReply, FastifyRequest } from "fastify";
import { secureCookie } from "../../session/session.cookies.js";

export const deviceCookie = "tessera_device";

export function setDeviceCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  value: string,
  maxAgeSeconds: number,
): void {
  void reply.setCookie(deviceCookie, value, {
    httpOnly: true,
    sameSite: "strict",
    secure: secureCookie(request),
    path: "/api/auth",
    maxAge: maxAgeSeconds,
    signed: true,
  });
}

/** The device token from the signed cookie, or undefined when it is missing or its signature is wrong. */
export function readDeviceCookie(request: FastifyRequest): string | undefined {
  const raw = request.cookies[deviceCookie];
  if (raw === undefined) return undefined;
  const unsigned = request.unsignCookie(raw);
  return unsigned.valid && unsigned.value !== null ? unsigned.value : undefined;
}
