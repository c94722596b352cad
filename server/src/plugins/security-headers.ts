import helmet from "@fastify/helmet";
import cors from "@fastify/cors";
import type { FastifyInstance } from "fastify";

/** CSP, no-sniff, frame-deny; HSTS only over HTTPS (a trusted proxy's X-Forwarded-Proto counts); CORS only for configured origins. */
export async function registerSecurityHeaders(app: FastifyInstance, options: { corsOrigins: string[] }): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: "deny" },
    hsts: false,
    crossOriginEmbedderPolicy: false,
  });
  app.addHook("onRequest", async (request, reply) => {
    // request.protocol honours X-Forwarded-Proto only from proxies listed in TRUST_PROXY.
    if (request.protocol === "https") void reply.header("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  });
  await app.register(cors, {
    origin: options.corsOrigins.length === 0 ? false : options.corsOrigins,
    credentials: true,
    methods: ["GET", "POST", "DELETE"],
    allowedHeaders: ["Authorization", "Content-Type", "X-CSRF-Token"],
    exposedHeaders: ["Retry-After"],
    maxAge: 600,
  });
}
