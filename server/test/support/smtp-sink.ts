import { createServer } from "node:net";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";

/** One message as a real SMTP server received it, MIME-decoded just enough to read it. */
export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  raw: string;
}

export interface SMTPSink {
  port: number;
  /** SMTP_URL for Tessera: plain SMTP on loopback, no STARTTLS (the sink has no trusted certificate). */
  url: string;
  messages: ReceivedMail[];
  /** Messages to one address, oldest first. */
  to(address: string): ReceivedMail[];
  close(): Promise<void>;
}

/** A port that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** A real SMTP server (the smtp-server package) on 127.0.0.1 that keeps every message it accepts. */
export async function startSMTPSink(
  options: { port?: number; server?: Partial<SMTPServerOptions> } = {},
): Promise<SMTPSink> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    logger: false,
    ...options.server,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const from = session.envelope.mailFrom === false ? "" : session.envelope.mailFrom.address;
        messages.push({ ...parseMessage(raw), from, to: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const address = server.server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    url: `smtp://127.0.0.1:${address.port}?starttls=off`,
    messages,
    to: (recipient) => messages.filter((message) => message.to.includes(recipient)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function splitHead(raw: string): { headers: Map<string, string>; body: string } {
  const at = raw.indexOf("\r\n\r\n");
  const head = at === -1 ? raw : raw.slice(0, at);
  const body = at === -1 ? "" : raw.slice(at + 4);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

/** Content-Transfer-Encoding: quoted-printable (RFC 2045 §6.7), base64, or 7bit/8bit as is. */
function decodeBody(body: string, encoding: string | undefined): string {
  switch (encoding?.toLowerCase()) {
    case "quoted-printable": {
      const softBreaksRemoved = body.replace(/=\r\n/g, "");
      const bytes: number[] = [];
      for (let i = 0; i < softBreaksRemoved.length; i += 1) {
        const hex = softBreaksRemoved.slice(i + 1, i + 3);
        if (softBreaksRemoved[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
          bytes.push(parseInt(hex, 16));
          i += 2;
        } else {
          bytes.push(...Buffer.from(softBreaksRemoved[i] ?? "", "utf8"));
        }
      }
      return Buffer.from(bytes).toString("utf8");
    }
    case "base64":
      return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
    default:
      return body;
  }
}

function parseMessage(raw: string): { subject: string; text: string; html: string } {
  const { headers } = splitHead(raw);
  const found = { text: "", html: "" };
  collectParts(raw, found);
  return { subject: headers.get("subject") ?? "", ...found };
}

function collectParts(entity: string, found: { text: string; html: string }): void {
  const { headers, body } = splitHead(entity);
  const contentType = headers.get("content-type") ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (contentType.toLowerCase().startsWith("multipart/") && boundary !== undefined) {
    const parts = body.split(`--${boundary}`).slice(1);
    for (const part of parts) {
      if (part.startsWith("--")) break;
      // RFC 2046 §5.1.1: the CRLF before a boundary belongs to the boundary, not to the part.
      collectParts(part.replace(/^\r\n/, "").replace(/\r\n$/, ""), found);
    }
    return;
  }
  const decoded = decodeBody(body, headers.get("content-transfer-encoding"));
  if (contentType.toLowerCase().startsWith("text/html")) found.html = decoded;
  else if (contentType.toLowerCase().startsWith("text/plain")) found.text = decoded;
}
