import type { IncomingMessage, ServerResponse } from "node:http";
import cors from "@fastify/cors";
import type { FastifyInstance } from "fastify";
import helmet, { type HelmetOptions } from "helmet";

/**
 * helmet computes the same headers for every request; computing them once at start and copying
 * them onto each reply keeps its policy without its per-request cost.
 */
function staticHelmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  // helmet only calls setHeader/removeHeader on the response; the casts feed it this recorder.
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => undefined);
  return headers;
}

/** CSP, no-sniff, frame-deny; HSTS only over HTTPS (a trusted proxy's X-Forwarded-Proto counts); CORS only for configured origins. */
export async function registerSecurityHeaders(app: FastifyInstance, options: { corsOrigins: string[] }): Promise<void> {
  const headers = staticHelmetHeaders({
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
    strictTransportSecurity: false,
    crossOriginEmbedderPolicy: false,
  });
  app.addHook("onRequest", (request, reply, done) => {
    void reply.headers(headers);
    // request.protocol honours X-Forwarded-Proto only from proxies listed in TRUST_PROXY.
    if (request.protocol === "https") void reply.header("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
    done();
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
