// The floor for a JSON route: a bare Fastify app answering GET /hello with {ok:true}.
// Run as a child process: PORT=<port> node hello-server.mjs
import Fastify from "fastify";

const app = Fastify({ logger: false });
app.get("/hello", async () => ({ ok: true }));
await app.listen({ port: Number(process.env.PORT), host: "127.0.0.1" });

process.on("SIGTERM", () => app.close().then(() => process.exit(0)));
