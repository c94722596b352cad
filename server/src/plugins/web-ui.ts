import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { errorBody } from "../errors.js";
import { asDocument } from "./security-headers.js";

/** Paths that are never the web UI's pages: the API, assets and the server's own routes answer JSON. */
const notPages = /^\/(api|assets|docs|dev|\.well-known)(\/|$)/;

/**
 * The UI's page paths (web/build/page-paths.ts writes them from src/router.ts to dist/pages.json) as
 * one matcher; `:param` segments match one segment. Null when the build has no list (an older build):
 * every path is then a page, as before.
 */
function pageMatcher(webDist: string, log: Logger): ((path: string) => boolean) | null {
  const file = join(webDist, "pages.json");
  try {
    const { paths } = JSON.parse(readFileSync(file, "utf8")) as { paths: string[] };
    const patterns = paths.map((path) => {
      const source = path
        .split("/")
        .map((part) => (part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
        .join("/");
      // vue-router matches case-insensitively and ignores one trailing slash; so does this.
      return new RegExp(`^${source}/?$`, "i");
    });
    return (path) => patterns.some((pattern) => pattern.test(path));
  } catch {
    log.warn({ file }, "web UI built without pages.json: every unknown path gets the UI with 200; rebuild the web UI");
    return null;
  }
}

/**
 * Serves the built Vue app: hashed assets cached for a year, index.html never cached. A path the UI
 * knows gets the app with 200; any other path outside the API gets the app with 404 (it shows its own
 * "Page not found"), so a client probing `/whoami` is not told it exists; API and asset misses stay
 * JSON 404s.
 */
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
  const isPage = pageMatcher(webDist, log);
  const sendIndex = async (_request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await asDocument(reply).header("Cache-Control", "no-cache").sendFile("index.html");
  };
  const sendNotFoundPage = async (_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const html = await readFile(join(webDist, "index.html"));
    return asDocument(reply).code(404).header("Cache-Control", "no-cache").type("text/html; charset=utf-8").send(html);
  };
  app.get("/", { schema: { hide: true } }, sendIndex);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0] ?? "/";
    if (request.method !== "GET" || notPages.test(path) || path.includes(".")) return notFound(request, reply);
    return isPage === null || isPage(path) ? sendIndex(request, reply) : sendNotFoundPage(request, reply);
  });
}
