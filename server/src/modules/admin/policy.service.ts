import type { Kysely } from "kysely";
import type { Clock } from "../../clock.js";
import type { Database } from "../../db/database.js";
import { AppError } from "../../errors.js";
import { adminRole, formatPolicy, parsePolicy, storedPolicy, type RequireSecondFactorPolicy } from "../../policy.js";
import type { RequestMeta } from "../../request-meta.js";
import type { AuditService } from "../audit/audit.service.js";
import * as repo from "../user/policy.repository.js";
import { countCovered } from "../user/user-search.repository.js";
import type { Actor } from "./admin.service.js";

/** Who a policy covers: accounts, and how many of them have no second factor yet (they enrol at next request). */
export interface PolicyImpact {
  users: number;
  without_second_factor: number;
}

/**
 * The two-factor policy (SPEC §2 "Admin and policy"), one row in the database. Sessions read it with every
 * request (session/active-session.repository.ts), so a change applies to the next request of every session on
 * every instance; nothing here needs to tell them.
 */
export interface PolicyService {
  get(): Promise<{ require_2fa: string; affected: PolicyImpact }>;
  /** Who `text` would cover; 422 when it is no policy. */
  impact(text: string): Promise<PolicyImpact>;
  set(actor: Actor, text: string, meta: RequestMeta): Promise<string>;
  /** At start: REQUIRE_2FA becomes the stored value when none is stored yet; true when it did. */
  seed(text: string): Promise<boolean>;
}

function parsed(text: string): RequireSecondFactorPolicy {
  const policy = parsePolicy(text);
  if (policy === null)
    throw new AppError(
      "validation_failed",
      "require_2fa must be off, all, admins or role:NAME,… (names [a-z][a-z0-9_-]{0,31}).",
      undefined,
      [{ field: "require_2fa", message: "not a policy" }],
    );
  return policy;
}

export function createPolicyService(deps: { db: Kysely<Database>; clock: Clock; audit: AuditService }): PolicyService {
  const { db, clock, audit } = deps;

  async function impactOf(policy: RequireSecondFactorPolicy): Promise<PolicyImpact> {
    // Administrators are always covered.
    const roles = policy.kind === "all" ? null : policy.kind === "roles" ? [...policy.roles, adminRole] : [adminRole];
    const { users, withoutSecondFactor } = await countCovered(db, roles);
    return { users, without_second_factor: withoutSecondFactor };
  }

  const service: PolicyService = {
    async get() {
      const text = (await repo.readPolicy(db)) ?? "off";
      return { require_2fa: text, affected: await impactOf(storedPolicy(text)) };
    },

    impact: (text) => impactOf(parsed(text)),

    async set(actor, given, meta) {
      const text = formatPolicy(parsed(given));
      await db.transaction().execute(async (trx) => {
        const from = (await repo.readPolicy(trx)) ?? "off";
        await repo.writePolicy(trx, text, clock.now());
        const detail = { from, to: text };
        await audit.record(
          { type: "policy_changed", userId: actor?.id ?? null, actorId: actor?.id ?? null, meta, detail },
          trx,
        );
      });
      return text;
    },

    seed: (text) => repo.seedPolicy(db, formatPolicy(parsed(text)), clock.now()),
  };
  return service;
}
