import { connect, type Socket } from "node:net";
import type { FastifyInstance } from "fastify";

/** Raw TCP clients for what `app.inject` cannot show: timeouts, framing errors, connection limits. */

/** Listens on a free loopback port and returns it. */
export async function listenOnLoopback(app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("not listening on a TCP port");
  return address.port;
}

export interface RawReply {
  /** 0 when the server closed without answering. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The parsed JSON body, or null. */
  json: { error?: { code?: string; message?: string } } | null;
  /** Milliseconds from connecting until the server closed the connection. */
  closedAfterMs: number;
}

export function parseRawReply(raw: string, closedAfterMs: number): RawReply {
  const [head = "", ...rest] = raw.split("\r\n\r\n");
  const [statusLine = "", ...headerLines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = rest.join("\r\n\r\n");
  let json: RawReply["json"];
  try {
    json = JSON.parse(body) as RawReply["json"];
  } catch {
    json = null;
  }
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body, json, closedAfterMs };
}

/** An open connection: what it received so far, and a promise of the reply once the server closes it. */
export interface RawConnection {
  socket: Socket;
  received(): string;
  closed: Promise<RawReply>;
}

export async function openConnection(port: number, localAddress = "127.0.0.1"): Promise<RawConnection> {
  const socket = connect({ port, host: "127.0.0.1", localAddress });
  let data = "";
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => {
    data += chunk;
  });
  const startedAt = performance.now();
  const closed = new Promise<RawReply>((resolve) => {
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(parseRawReply(data, performance.now() - startedAt)));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { socket, received: () => data, closed };
}

/** Sends `request` as it is and waits until the server closes the connection (at most `timeoutMs`). */
export async function rawExchange(port: number, request: string | Buffer, timeoutMs = 5000): Promise<RawReply> {
  const connection = await openConnection(port);
  connection.socket.write(request);
  const timer = setTimeout(() => connection.socket.destroy(), timeoutMs);
  try {
    return await connection.closed;
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once the connection has received at least one full response head, or rejects after `timeoutMs`. */
export async function firstResponse(connection: RawConnection, timeoutMs = 5000): Promise<RawReply> {
  const deadline = performance.now() + timeoutMs;
  while (!connection.received().includes("\r\n\r\n")) {
    if (performance.now() > deadline) throw new Error("no response arrived");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
  return parseRawReply(connection.received(), 0);
}
