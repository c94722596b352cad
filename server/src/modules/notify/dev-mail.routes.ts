import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { isDirectLoopback } from "../../request-meta.js";
import { errorResponses } from "../../schemas.js";
import type { Mailer } from "./mailer.js";

const DevMailMessage = Type.Object({
  id: Type.String(),
  to: Type.String(),
  subject: Type.String(),
  text: Type.String(),
  html: Type.String(),
  sent_at: Type.String({ format: "date-time" }),
});

/**
 * The development outbox: every message, links included, for trying the flows without an SMTP server.
 * It exists only when `enabled` (no SMTP_URL, outside production: config.devOutbox) and answers only
 * requests straight from loopback; to anyone else it is the same 404 as a route that does not exist,
 * since a reset link read from here takes an account over.
 */
export async function devMailRoutes(
  fastify: FastifyInstance,
  { mailer, enabled }: { mailer: Mailer; enabled: boolean },
): Promise<void> {
  if (!enabled) return;
  fastify.withTypeProvider<TypeBoxTypeProvider>().get(
    "/dev/mail",
    {
      schema: {
        tags: ["dev"],
        operationId: "listDevMail",
        security: [],
        summary: "The last 50 messages, newest first (without SMTP_URL outside production, from loopback only)",
        response: { 200: Type.Object({ messages: Type.Array(DevMailMessage) }), 404: errorResponses[404] },
      },
    },
    async (request, reply) => {
      if (!isDirectLoopback(request)) return reply.callNotFound();
      return { messages: (await mailer.outbox()) ?? [] };
    },
  );
}
