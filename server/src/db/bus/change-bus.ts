import type { Kysely } from "kysely";
import type { Database } from "../database.js";

/*
 * The change bus: how one instance tells the others sharing its database that some tables changed,
 * so they drop what they hold in memory (the session cache, the signing keys). The topics are table
 * names. Three transports, one per database (README "Operations: running several instances"):
 * PostgreSQL LISTEN/NOTIFY (pg-listener.ts), and for MySQL and SQLite files a small version table
 * polled every 250 ms (poll.ts); SQLite `:memory:` has no other process to tell (the local bus here).
 */

/** The most a change committed by another instance can go unseen by a cache that consults `live()`. */
export const remoteChangeBoundMs = 1_000;

/** "all": the bus may have missed messages (a reconnect): treat everything as changed. */
export type Changed = ReadonlySet<string> | "all";

export interface ChangeBus {
  readonly kind: "postgres" | "poll" | "local";
  /**
   * Tells every instance, this one included (synchronously, before this returns), that `tables`
   * changed. Call it after the change has committed. Remote delivery is asynchronous and coalesced.
   */
  publish(tables: Iterable<string>): void;
  /** Runs `listener` on every change; starts listening to the other instances on first use. */
  onChange(listener: (changed: Changed) => void): void;
  /**
   * True while a change committed elsewhere is known to reach `onChange` within
   * `remoteChangeBoundMs`: the listener connection is up and answered a heartbeat recently.
   * A cache must not serve while it is false.
   */
  live(): boolean;
  /** Runs `listener` when the connection to the other instances is lost (false) or listening again (true). */
  onConnection(listener: (up: boolean) => void): void;
  /** Sends what is still queued, stops listening. */
  close(): Promise<void>;
}

/** Calls listeners and coalesces remote sends: at most one in flight, the tables of the next queued. */
export class BusCore {
  private readonly listeners: ((changed: Changed) => void)[] = [];
  private readonly connectionListeners: ((up: boolean) => void)[] = [];
  private up: boolean | null = null;
  private queued = new Set<string>();
  private sending: Promise<void> | null = null;

  constructor(private readonly send: (tables: string[]) => Promise<void>) {}

  deliver(changed: Changed): void {
    for (const listener of this.listeners) listener(changed);
  }

  /** Tells the connection listeners of a change of state (the first "up" too, not repeats). */
  connection(up: boolean): void {
    if (this.up === up || (this.up === null && !up)) return;
    this.up = up;
    for (const listener of this.connectionListeners) listener(up);
  }

  onConnection(listener: (up: boolean) => void): void {
    this.connectionListeners.push(listener);
  }

  listen(listener: (changed: Changed) => void): boolean {
    this.listeners.push(listener);
    return this.listeners.length === 1;
  }

  /** Delivers locally at once, then queues the remote send. */
  publish(tables: Iterable<string>): void {
    const set = new Set(tables);
    if (set.size === 0) return;
    this.deliver(set);
    for (const table of set) this.queued.add(table);
    this.sending ??= this.drain();
  }

  private async drain(): Promise<void> {
    let failures = 0;
    while (this.queued.size > 0) {
      const tables = [...this.queued];
      this.queued = new Set();
      try {
        await this.send(tables);
        failures = 0;
      } catch {
        // A lock timeout or a dropped connection: try again shortly, a few times. Past that the database
        // is unreachable for the receivers' heartbeat or poll too, and they flush everything once it answers.
        failures += 1;
        if (failures > 3) {
          failures = 0;
          continue;
        }
        for (const table of tables) this.queued.add(table);
        await new Promise((resolve) => setTimeout(resolve, 50 * failures));
      }
    }
    this.sending = null;
  }

  /** Resolves once every queued send has been attempted. */
  async flush(): Promise<void> {
    while (this.sending !== null) await this.sending;
  }
}

/** SQLite `:memory:`: one process, nobody else to tell. */
export function createLocalBus(): ChangeBus {
  const core = new BusCore(async () => undefined);
  return {
    kind: "local",
    publish: (tables) => core.publish(tables),
    onChange: (listener) => void core.listen(listener),
    onConnection: () => undefined,
    live: () => true,
    close: async () => undefined,
  };
}

const buses = new WeakMap<Kysely<Database>, ChangeBus>();

/** Called by db/connect.ts for every database it opens. */
export function attachChangeBus(db: Kysely<Database>, bus: ChangeBus): void {
  buses.set(db, bus);
}

/** The bus of a database opened by db/connect.ts; a local one for any other (a transaction's own db shares none). */
export function changeBus(db: Kysely<Database>): ChangeBus {
  let bus = buses.get(db);
  if (bus === undefined) {
    bus = createLocalBus();
    buses.set(db, bus);
  }
  return bus;
}
