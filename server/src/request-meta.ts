import type { FastifyRequest } from "fastify";

/** Who made a request: what the audit log and the security notices record of it. */
export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
}

export function metaOf(request: FastifyRequest): RequestMeta {
  const userAgent = request.headers["user-agent"];
  return { ip: request.ip ?? null, userAgent: typeof userAgent === "string" ? userAgent.slice(0, 255) : null };
}

/** Headers a proxy adds to say whom it forwards for; a request carrying any of them did not come straight here. */
function isForwardingHeader(name: string): boolean {
  return name === "forwarded" || name === "via" || name === "x-real-ip" || name.startsWith("x-forwarded-");
}

/**
 * A request straight from this machine: the socket's own peer (not `request.ip`, which TRUST_PROXY may
 * rewrite) is a loopback address, and no proxy header says it was forwarded — a proxy on this machine
 * connects from loopback too. For what only the operator may see (`/dev/mail`, `/metrics`).
 */
export function isDirectLoopback(request: FastifyRequest): boolean {
  const peer = request.raw.socket.remoteAddress ?? "";
  if (peer !== "::1" && !/^(::ffff:)?127\./.test(peer)) return false;
  return !Object.keys(request.headers).some(isForwardingHeader);
}
