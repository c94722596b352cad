import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { browserGet, freePort } from "./nginx.js";

/** A real Caddy (Debian's package) for the forward-auth suite, on a free port with its own Caddyfile and dirs. */

export const caddyPath = process.env["CADDY_PATH"] ?? "/usr/bin/caddy";
export const hasCaddy = existsSync(caddyPath);

/**
 * The README's Caddy snippet for the protected sites `hosts` (plain HTTP on `listen`, loopback only), with
 * Tessera at `tesseraPort` and the app at `appPort`. The global block keeps Caddy off the network and the
 * disk: no admin endpoint, no automatic HTTPS (so no certificates, no ACME).
 */
export function caddyfile(hosts: string[], tesseraPort: number, appPort: number, listen: number): string {
  return `{
	admin off
	auto_https off
}

${hosts.map((host) => `http://${host}:${listen}`).join(", ")} {
	bind 127.0.0.1
	forward_auth 127.0.0.1:${tesseraPort} {
		uri /api/forward-auth
		header_up -X-Original-URL
		copy_headers Remote-User Remote-Email Remote-Groups Remote-AAL
	}
	reverse_proxy 127.0.0.1:${appPort}
}
`;
}

export interface Caddy {
  port: number;
  log(): string;
  stop(): Promise<void>;
}

/** Starts `caddy run` in the foreground with the Caddyfile made for its port; HOME and XDG dirs in a temp dir. */
export async function startCaddy(config: (port: number) => string): Promise<Caddy> {
  const dir = mkdtempSync(join(tmpdir(), "tessera-caddy-"));
  const port = await freePort();
  const file = join(dir, "Caddyfile");
  writeFileSync(file, config(port));
  const env = { PATH: process.env["PATH"] ?? "", HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
  const child: ChildProcess = spawn(caddyPath, ["run", "--config", file, "--adapter", "caddyfile"], {
    cwd: dir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (chunk: Buffer): void => {
    output += chunk.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  for (let attempt = 0; ; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`caddy exited: ${output}`);
    try {
      await browserGet(port, "localhost", "/__ready");
      break;
    } catch {
      if (attempt > 200) {
        child.kill("SIGKILL");
        throw new Error(`caddy did not start: ${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    port,
    log: () => output,
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
