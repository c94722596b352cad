import { existsSync } from "node:fs";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { errorBody } from "../errors.js";
import { asDocument } from "./security-headers.js";

/** Serves the built Vue app: hashed assets cached for a year, index.html never cached, SPA fallback. */
export async function registerWebUI(app: FastifyInstance, webDist: string | null, log: Logger): Promise<void> {
  const notFound = (request: FastifyRequest, reply: FastifyReply): FastifyReply =>
    reply.code(404).send(errorBody("not_found", `No route ${request.method} ${request.url.split("?")[0] ?? "/"}.`));
  if (webDist === null || !existsSync(join(webDist, "index.html"))) {
    if (webDist !== null) log.warn({ webDist }, "web UI not built; run `npm run build -w web`");
    app.setNotFoundHandler(notFound);
    return;
  }
  await app.register(fastifyStatic, {
    root: webDist,
    wildcard: false,
    index: false,
    setHeaders: (reply, path) => {
      reply.header("Cache-Control", path.includes("/assets/") ? "public, max-age=31536000, immutable" : "no-cache");
      // A page asked for by its file name (/index.html) is still a page.
      if (path.endsWith(".html")) asDocument(reply);
    },
  });
  const sendIndex = async (_request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await asDocument(reply).header("Cache-Control", "no-cache").sendFile("index.html");
  };
  app.get("/", { schema: { hide: true } }, sendIndex);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0] ?? "/";
    // Client-side routes get the app; API and asset misses stay JSON 404s.
    if (request.method === "GET" && !/^\/(api|assets|docs|dev|\.well-known)(\/|$)/.test(path) && !path.includes("."))
      return sendIndex(request, reply);
    return notFound(request, reply);
  });
}
