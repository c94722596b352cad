import type { CachedLookupFactory, CachedLookupSpec, Lookup } from "../cached-lookup.js";
import { remoteChangeBoundMs, type ChangeBus } from "./change-bus.js";

const cacheLimit = 10_000;
/**
 * A row read longer ago is read again, whatever the bus says: a notice lost on its way (its sender's pool
 * saturated, a crash between commit and notice) or a change made past Tessera (SQL by hand, announced by
 * nobody) still reaches this instance within the bus's own bound.
 */
export const maxEntryAgeMs = remoteChangeBoundMs;

/**
 * Lookups served from memory on PostgreSQL and MySQL (db/cached-lookup.ts), emptied by the change bus:
 * - a change committed by this instance to one of the lookup's tables empties the cache before the
 *   transaction's `execute()` resolves (write-tracking.ts), so the next request here sees it;
 * - a change committed by another instance empties it when the bus delivers it, and the cache serves
 *   only while `bus.live()` (the bus has proven it would have heard, within `remoteChangeBoundMs`);
 *   otherwise every call is the plain query.
 * A read that was in flight while the cache was emptied is not kept: it may have read the old row.
 * A row is kept at most `maxEntryAgeMs`, for the changes nobody announces (SQL run by hand).
 */
export function busCachedLookups(bus: ChangeBus): CachedLookupFactory {
  return <Row>(spec: CachedLookupSpec<Row>) => {
    const cache = new Map<string, { row: Row; readAt: number }>();
    let generation = 0;
    const empty = (): void => {
      cache.clear();
      generation += 1;
    };
    bus.onChange((changed) => {
      if (changed === "all" || spec.tables.some((table) => changed.has(table))) empty();
    });
    const lookup: Lookup<Row> = async (id) => {
      if (!bus.live()) {
        if (cache.size > 0) empty();
        return spec.fallback(id);
      }
      const readAt = performance.now();
      const cached = cache.get(id);
      if (cached !== undefined && readAt - cached.readAt < maxEntryAgeMs) return cached.row;
      const readIn = generation;
      const row = await spec.fallback(id);
      if (row !== undefined && generation === readIn && bus.live()) {
        if (cache.size >= cacheLimit) cache.clear();
        cache.set(id, { row, readAt });
      }
      return row;
    };
    return lookup;
  };
}
