/*
 * Attack: telling whether an address has an account from the time of a "send me a link" request (SPEC §2:
 * "No response, timing or status reveals whether a username or email exists"). The link work (token,
 * outbox row, audit) runs after the reply, and an unknown address gets the same work for no one; so
 * neither the reply nor a request sent right after it takes longer for a known address. Medians over
 * many interleaved requests on a real socket, as an attacker would measure.
 */
import type { AddressInfo } from "node:net";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import type { TestApp } from "../support/app.js";
import { sqliteDialect } from "../support/dialects.js";
import { mailSettled, useMailApp, verifiedUser } from "../support/mail.js";
import type { SMTPSink } from "../support/smtp-sink.js";

const rounds = 80;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/**
 * The attacker: another thread (its own event loop, as another process would have), timing one request
 * and the one sent right after its answer, on one kept-alive connection. Plain JavaScript, run by eval.
 */
const attackerSource = `
const { parentPort, workerData } = require("node:worker_threads");
const http = require("node:http");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function timed(method, path, body) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const started = process.hrtime.bigint();
    const req = http.request({ agent, host: "127.0.0.1", port: workerData.port, method, path,
      headers: payload === undefined ? {} : { "content-type": "application/json" } }, (res) => {
      res.resume();
      res.on("end", () => res.statusCode >= 300 ? reject(new Error(path + " answered " + res.statusCode))
        : resolve(Number(process.hrtime.bigint() - started) / 1e6));
    });
    req.on("error", reject);
    req.end(payload);
  });
}
parentPort.on("message", async (email) => {
  if (email === null) { agent.destroy(); parentPort.close(); return; }
  try {
    const reply = await timed("POST", "/api/auth/password/forgot", { email });
    const next = await timed("GET", "/healthz");
    parentPort.postMessage({ reply, next });
  } catch (error) { parentPort.postMessage({ error: String(error) }); }
});
`;

function attacker(port: number): { ask(email: string): Promise<{ reply: number; next: number }>; close(): void } {
  const worker = new Worker(attackerSource, { eval: true, workerData: { port } });
  return {
    ask: (email) =>
      new Promise((resolve, reject) => {
        worker.once("message", (answer: { reply: number; next: number; error?: string }) =>
          answer.error === undefined ? resolve(answer) : reject(new Error(answer.error)),
        );
        worker.postMessage(email);
      }),
    close: () => worker.postMessage(null),
  };
}

describe(`link requests take the same time for known and unknown addresses [${sqliteDialect.name}]`, () => {
  let sink: SMTPSink;
  let t: TestApp;
  useMailApp(sqliteDialect, (app, smtp) => {
    t = app;
    sink = smtp;
  });

  it("attack: timing the reply and the request right after it does not tell a known address", async () => {
    await verifiedUser(t, sink, "timed", "timed@example.org");
    await mailSettled(t);
    await t.app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = t.app.server.address() as AddressInfo;
    const client = attacker(port);
    const samples = {
      known: { reply: [] as number[], next: [] as number[] },
      unknown: { reply: [] as number[], next: [] as number[] },
    };
    const ask = async (which: "known" | "unknown", record = true): Promise<void> => {
      const answer = await client.ask(which === "known" ? "timed@example.org" : "nobody@example.org");
      if (record) {
        samples[which].reply.push(answer.reply);
        samples[which].next.push(answer.next);
      }
      // Each round in a new hour, so every known request really mails (no allowance runs out).
      await mailSettled(t);
      t.clock.advance(60 * 60 + 1);
    };
    for (let i = 0; i < 10; i += 1) await ask(i % 2 === 0 ? "known" : "unknown", false); // warm-up
    for (let i = 0; i < rounds; i += 1) {
      // Interleaved, in an order that alternates which goes first, so drift weighs on both alike.
      const order = i % 2 === 0 ? (["known", "unknown"] as const) : (["unknown", "known"] as const);
      for (const which of order) await ask(which);
    }
    client.close();
    const mails = sink.to("timed@example.org").length;
    // Each known sample beside the unknown one of its round: the median of the differences, which the
    // machine's drift over the run does not move. Before the link work ran after the reply, a known
    // address cost about 2 ms more; a difference under 0.5 ms is the noise of a loaded machine.
    const paired = (series: "reply" | "next"): number =>
      median(samples.known[series].map((value, i) => value - (samples.unknown[series][i] ?? value)));
    const figures = {
      reply: { known: median(samples.known.reply), unknown: median(samples.unknown.reply), paired: paired("reply") },
      next: { known: median(samples.known.next), unknown: median(samples.unknown.next), paired: paired("next") },
    };
    console.log(JSON.stringify({ mails, figures }));
    // The known address really got its links: the work compared is the real one.
    expect(mails).toBeGreaterThanOrEqual(rounds);
    expect(Math.abs(figures.reply.paired)).toBeLessThan(0.5);
    expect(Math.abs(figures.next.paired)).toBeLessThan(0.5);
  });
});
