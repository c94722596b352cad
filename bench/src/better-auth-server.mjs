// The peer: better-auth with email+password, its twoFactor and passkey plugins on better-sqlite3,
// password hashing through @node-rs/argon2 at the same cost as Tessera, served by node:http.
//
// Run as a child process with env:
//   PORT, BA_DB_FILE, BA_SECRET, PASSWORD_HASH_MEMORY_KIB, PASSWORD_HASH_ITERATIONS,
//   PASSWORD_HASH_PARALLELISM, BA_JOURNAL (WAL|DELETE, default WAL like Tessera's SQLite)
import { createServer } from "node:http";
import Database from "better-sqlite3";
import { hash, verify } from "@node-rs/argon2";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { twoFactor } from "better-auth/plugins";
import { passkey } from "@better-auth/passkey";

const port = Number(process.env.PORT);
const baseURL = `http://127.0.0.1:${port}`;
const hashOptions = {
  memoryCost: Number(process.env.PASSWORD_HASH_MEMORY_KIB),
  timeCost: Number(process.env.PASSWORD_HASH_ITERATIONS),
  parallelism: Number(process.env.PASSWORD_HASH_PARALLELISM),
};

const sqlite = new Database(process.env.BA_DB_FILE);
// Same SQLite settings Tessera uses, so the storage engine is not the difference.
sqlite.pragma(`journal_mode = ${process.env.BA_JOURNAL ?? "WAL"}`);
sqlite.pragma("synchronous = NORMAL");
sqlite.pragma("foreign_keys = ON");
sqlite.pragma("busy_timeout = 5000");

const options = {
  appName: "bench",
  baseURL,
  secret: process.env.BA_SECRET,
  trustedOrigins: [baseURL],
  database: sqlite,
  emailAndPassword: {
    enabled: true,
    password: {
      hash: (password) => hash(password, hashOptions),
      verify: ({ hash: encoded, password }) => verify(encoded, password),
    },
  },
  // Passkeys: RP ID from baseURL (127.0.0.1), the expected origin from the request's Origin header.
  plugins: [twoFactor({ issuer: "bench" }), passkey({ rpName: "bench" })],
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  logger: { level: "error" },
};

const { runMigrations } = await getMigrations(options);
await runMigrations();

const auth = betterAuth(options);
const handler = toNodeHandler(auth);

const server = createServer((req, res) => {
  if (req.url === "/healthz") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"ok":true}');
    return;
  }
  handler(req, res).catch((err) => {
    console.error(err);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1");

process.on("SIGTERM", () => server.close(() => process.exit(0)));
