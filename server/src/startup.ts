import type { AddressInfo } from "node:net";
import type { Config } from "./config.js";

/** Bind addresses a person on this machine reaches as `localhost`. */
const localHosts = new Set(["127.0.0.1", "::1", "localhost", "0.0.0.0", "::"]);

/**
 * The one plain line the server prints once it listens (SPEC §1): where it serves, the API docs, and
 * the development outbox when it is on. The address is the one actually bound (PORT=0 picks a port);
 * a PUBLIC_URL set to something else is where users reach it, so that is named too.
 */
export function startupLine(
  config: Pick<Config, "host" | "port" | "publicUrl" | "devOutbox">,
  address: AddressInfo | string | null,
  webUI: boolean,
): string {
  const port = typeof address === "object" && address !== null ? address.port : config.port;
  const host = localHosts.has(config.host) ? "localhost" : config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  const publicUrlSet = config.publicUrl !== `http://localhost:${config.port}` && config.publicUrl !== url;
  const parts = [
    `Tessera listening on ${url}${publicUrlSet ? ` (PUBLIC_URL ${config.publicUrl})` : ""}`,
    "API docs /docs",
  ];
  // The outbox answers only loopback (routes: dev-mail.routes.ts); the web UI shows it at /dev-mailbox.
  if (config.devOutbox) parts.push(`dev outbox ${webUI ? "/dev-mailbox" : "/dev/mail"}`);
  return parts.join(" — ");
}
