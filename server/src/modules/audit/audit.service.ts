import type { Kysely } from "kysely";
import type { FastifyBaseLogger } from "fastify";
import type { Clock } from "../../clock.js";
import { sequencedTimeId } from "../../crypto/random.js";
import type { Database } from "../../db/database.js";
import * as repo from "./audit.repository.js";
import type { AuditEventView, AuditInput } from "./audit.events.js";

export interface AuditService {
  record(input: AuditInput, executor?: Kysely<Database>): Promise<void>;
  list(filter: repo.AuditFilter & { limit?: number; offset?: number; beforeId?: string }): Promise<AuditEventView[]>;
  count(filter: repo.AuditFilter): Promise<number>;
}

function viewOf(row: repo.AuditListRow): AuditEventView {
  return {
    id: row.id,
    type: row.type,
    ip: row.ip,
    user_agent: row.user_agent,
    created_at: new Date(row.created_at).toISOString(),
    user_id: row.user_id,
    username: row.username,
    actor_id: row.actor_id,
    actor_username: row.actor_username,
    detail: row.detail === null ? null : (JSON.parse(row.detail) as Record<string, unknown>),
  };
}

export function createAuditService(deps: { db: Kysely<Database>; clock: Clock; log: FastifyBaseLogger }): AuditService {
  const { db, clock, log } = deps;
  return {
    async record(input, executor = db) {
      const now = clock.now();
      const id = sequencedTimeId(now, 6);
      await repo.insertAuditEvent(executor, {
        id,
        user_id: input.userId,
        type: input.type,
        ip: input.meta.ip,
        user_agent: input.meta.userAgent?.slice(0, 255) ?? null,
        detail: input.detail === undefined ? null : JSON.stringify(input.detail),
        created_at: now,
        actor_id: input.actorId ?? null,
      });
      log.info(
        {
          audit: input.type,
          userId: input.userId,
          ...(input.actorId ? { actorId: input.actorId } : {}),
          ip: input.meta.ip,
        },
        "audit event",
      );
    },
    async list(filter) {
      const rows = await repo.listAuditEvents(db, { ...filter, limit: filter.limit ?? 100 });
      return rows.map(viewOf);
    },
    count: (filter) => repo.countAuditEvents(db, filter),
  };
}
