import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, request, type Server } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A real nginx (Debian's package) for the forward-auth suite, on a free port with its own config and temp dirs. */

export const nginxPath = process.env["NGINX_PATH"] ?? "/usr/sbin/nginx";
export const hasNginx = existsSync(nginxPath);

export async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** An upstream application that answers every request with the request's headers as JSON. */
export async function echoServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createHttpServer((request, response) => {
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({ path: request.url, headers: request.headers }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The README's nginx snippet for one protected site, with Tessera at `tesseraPort` and the app at
 * `appPort`: `auth_request` to /api/forward-auth over a keep-alive upstream, the Remote-* headers copied
 * onto the request, a 401's Location turned into the browser's redirect.
 */
export function protectedSiteConfig(tesseraPort: number, appPort: number, listen: number): string {
  return `
upstream tessera { server 127.0.0.1:${tesseraPort}; keepalive 16; }

server {
    listen 127.0.0.1:${listen};
    server_name _;

    location = /tessera-auth {
        internal;
        proxy_pass http://tessera/api/forward-auth;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
        proxy_set_header X-Original-Method $request_method;
    }

    location / {
        auth_request /tessera-auth;
        auth_request_set $tessera_user $upstream_http_remote_user;
        auth_request_set $tessera_email $upstream_http_remote_email;
        auth_request_set $tessera_groups $upstream_http_remote_groups;
        auth_request_set $tessera_aal $upstream_http_remote_aal;
        auth_request_set $tessera_login $upstream_http_location;
        error_page 401 = @tessera_login;
        proxy_set_header Remote-User $tessera_user;
        proxy_set_header Remote-Email $tessera_email;
        proxy_set_header Remote-Groups $tessera_groups;
        proxy_set_header Remote-AAL $tessera_aal;
        proxy_pass http://127.0.0.1:${appPort};
    }

    location @tessera_login {
        if ($tessera_login = "") { return 401; }
        return 302 $tessera_login;
    }
}
`;
}

export interface Nginx {
  port: number;
  errorLog(): string;
  stop(): Promise<void>;
}

/** Starts nginx in the foreground as one process (no user switch), everything under a fresh temp dir. */
export async function startNginx(serverBlocks: (port: number) => string): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), "tessera-nginx-"));
  for (const sub of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, sub));
  const port = await freePort();
  const config = `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 128; }
http {
    access_log off;
    client_body_temp_path ${dir}/body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
${serverBlocks(port)}
}
`;
  const file = join(dir, "nginx.conf");
  writeFileSync(file, config);
  const child: ChildProcess = spawn(nginxPath, ["-p", dir, "-c", file, "-e", join(dir, "error.log")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const errorLog = (): string => {
    const path = join(dir, "error.log");
    return `${stderr}${existsSync(path) ? readFileSync(path, "utf8") : ""}`;
  };
  for (let attempt = 0; ; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${errorLog()}`);
    try {
      await browserGet(port, "localhost", "/__ready");
      break;
    } catch {
      if (attempt > 100) throw new Error(`nginx did not start: ${errorLog()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    port,
    errorLog,
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A GET as a browser sends it to `host` (the Host header), through the server on `port`. */
export async function browserGet(
  port: number,
  host: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET", headers: { host, ...headers } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}
