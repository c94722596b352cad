import { randomUUID } from "node:crypto";
import type PgModule from "pg";
import { BusCore, remoteChangeBoundMs, type ChangeBus } from "./change-bus.js";

/*
 * PostgreSQL LISTEN/NOTIFY. One dedicated connection per instance listens (opened on the first
 * `onChange`); publishing is one `pg_notify` on the pool after the change committed. A heartbeat on
 * the listener every 250 ms proves that everything notified before it was sent has arrived
 * (PostgreSQL delivers a connection's notifications before the reply of a later query): `live()` is
 * true while the last answered heartbeat was sent less than `remoteChangeBoundMs` ago. A lost
 * connection (server restart, `pg_terminate_backend`) is reopened with backoff, and once it listens
 * again every listener hears "all": what was notified meanwhile is lost, so everything counts as changed.
 */

const channel = "tessera_changes";
/** How the listener connection shows in `pg_stat_activity`. */
export const listenerApplicationName = "tessera-change-bus";
const heartbeatMs = 250;
const maxBackoffMs = 5_000;

export function createPgBus(
  pg: typeof PgModule,
  connectionString: string,
  notify: (channel: string, payload: string) => Promise<unknown>,
): ChangeBus {
  // Our own notifications come back to us: the payload names the sender so they are not delivered twice.
  const sender = randomUUID();
  const core = new BusCore(async (tables) => {
    await notify(channel, `${sender}:${tables.join(",")}`);
  });
  let client: PgModule.Client | null = null;
  let started = false;
  let closed = false;
  let listening = false;
  let lastHeartbeatSentAt = -Infinity;
  let heartbeatInFlightSince: number | null = null;
  let backoffMs = 100;
  let timer: NodeJS.Timeout | null = null;

  const schedule = (ms: number, run: () => void): void => {
    if (closed) return;
    timer = setTimeout(run, ms);
    timer.unref();
  };

  function drop(current: PgModule.Client): void {
    if (client !== current) return;
    client = null;
    listening = false;
    core.connection(false);
    heartbeatInFlightSince = null;
    current.removeAllListeners("notification");
    current.on("error", () => undefined);
    void current.end().catch(() => undefined);
    if (timer !== null) clearTimeout(timer);
    schedule(backoffMs, connect);
    backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
  }

  function connect(): void {
    if (closed) return;
    const current = new pg.Client({
      connectionString,
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
      application_name: listenerApplicationName,
    });
    client = current;
    current.on("error", () => drop(current));
    current.on("end", () => drop(current));
    current.on("notification", (message) => {
      const payload = message.payload ?? "";
      const separator = payload.indexOf(":");
      if (payload.slice(0, separator) === sender) return;
      core.deliver(new Set(payload.slice(separator + 1).split(",")));
    });
    const sentAt = performance.now();
    current
      .connect()
      .then(() => current.query(`LISTEN ${channel}`))
      .then(() => {
        if (client !== current) return;
        listening = true;
        backoffMs = 100;
        lastHeartbeatSentAt = sentAt;
        // Whatever was notified while nobody listened is lost.
        core.deliver("all");
        core.connection(true);
        schedule(heartbeatMs, heartbeat);
      })
      .catch(() => drop(current));
  }

  function heartbeat(): void {
    const current = client;
    if (current === null || !listening) return;
    const sentAt = performance.now();
    heartbeatInFlightSince = sentAt;
    current
      .query("SELECT 1")
      .then(() => {
        if (client !== current) return;
        heartbeatInFlightSince = null;
        lastHeartbeatSentAt = sentAt;
        schedule(heartbeatMs, heartbeat);
      })
      .catch(() => drop(current));
    // A connection that stopped answering without closing (a dead peer): give it up.
    setTimeout(() => {
      if (client === current && heartbeatInFlightSince === sentAt) drop(current);
    }, 2 * remoteChangeBoundMs).unref();
  }

  return {
    kind: "postgres",
    publish: (tables) => core.publish(tables),
    onChange(listener) {
      core.listen(listener);
      if (started) return;
      started = true;
      connect();
    },
    onConnection: (listener) => core.onConnection(listener),
    live: () => listening && performance.now() - lastHeartbeatSentAt < remoteChangeBoundMs,
    async close() {
      await core.flush();
      closed = true;
      if (timer !== null) clearTimeout(timer);
      const current = client;
      client = null;
      listening = false;
      if (current !== null) {
        current.removeAllListeners();
        current.on("error", () => undefined);
        await current.end().catch(() => undefined);
      }
    },
  };
}
