import { Type } from "@sinclair/typebox";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type { Mailer } from "./mailer.js";

const DevMailMessage = Type.Object({
  id: Type.String(),
  to: Type.String(),
  subject: Type.String(),
  text: Type.String(),
  html: Type.String(),
  sent_at: Type.String({ format: "date-time" }),
});

/** Outside production only: every message, links included, for trying the flows without an SMTP server. */
export async function devMailRoutes(
  fastify: FastifyInstance,
  { mailer, production }: { mailer: Mailer; production: boolean },
): Promise<void> {
  if (production) return;
  fastify.withTypeProvider<TypeBoxTypeProvider>().get(
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
