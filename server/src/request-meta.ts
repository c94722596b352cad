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
