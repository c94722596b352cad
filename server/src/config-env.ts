import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { resolve } from "node:path";
import { parse as parseDotenv } from "dotenv";

/** The variables Tessera is configured by: the environment, over `.env`. */
export type Env = Record<string, string | undefined>;

/** Reads `.env` from the working directory (if any); real environment variables win. */
export function readEnv(processEnv: Env = process.env, cwd = process.cwd()): Env {
  let fileEnv: Env = {};
  try {
    fileEnv = parseDotenv(readFileSync(resolve(cwd, ".env")));
  } catch {
    // No .env file: the environment alone configures Tessera.
  }
  return { ...fileEnv, ...processEnv };
}

/** What Fastify's trustProxy (proxy-addr) accepts: an IP, a CIDR or IPv4 netmask range, or a named range. */
export function isProxyAddress(entry: string): boolean {
  if (entry === "loopback" || entry === "linklocal" || entry === "uniquelocal") return true;
  const [address = "", range, ...rest] = entry.split("/");
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(range) === 4;
}
