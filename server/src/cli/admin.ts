import { AppError } from "../errors.js";
import { auditCsv } from "../modules/admin/audit-csv.js";
import type { AuditFilter } from "../modules/audit/audit.repository.js";
import * as users from "../modules/user/user.repository.js";
import { normalizeUsername, rolesOf } from "../modules/user/user.service.js";
import type { Services } from "../services.js";
import { formatTable } from "./table.js";

/*
 * The administrators' commands (SPEC §2 "The CLI covers the same"): what the admin API does, run by the
 * operator on the server's machine. The audit log records them with no acting administrator (actor_id null)
 * and the user agent "tessera-cli".
 */

export const adminUsage = `  users list [--q T] [--role R] [--mfa on|off] [--locked true|false]   list users, filtered
  users show <name>                  one user: factors, sessions, recent events
  user lock <name>                   lock an account: its sessions end, every sign-in is refused
  user unlock <name>                 unlock an account
  user roles <name> [ROLE,…]         show a user's roles, or replace them ("" for none)
  policy show                        the two-factor policy and whom it covers
  policy set <off|all|admins|role:NAME,…>   set it (applies at the next request of every session)`;

export const adminCommands = ["users show", "user lock", "user unlock", "user roles", "policy show", "policy set"];

export interface AdminOptions {
  q?: string | undefined;
  role?: string | undefined;
  mfa?: string | undefined;
  locked?: string | undefined;
  user?: string | undefined;
  type?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  limit?: string | undefined;
  csv?: boolean | undefined;
}

const cliMeta = { ip: null, userAgent: "tessera-cli" };
const dash = (value: string | null): string => (value === null || value === "" ? "-" : value);

function flag(name: string, value: string | undefined, allowed: string[]): boolean | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value)) throw new AppError("validation_failed", `--${name} must be ${allowed.join(" or ")}`);
  return value === allowed[0];
}

function time(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new AppError("validation_failed", `--${name} must be a date or time (2026-12-01T09:00Z)`);
  return ms;
}

export async function findUser(services: Services, name: string | undefined): Promise<users.UserRow> {
  const user = name === undefined ? undefined : await users.findUserByUsername(services.db, normalizeUsername(name));
  if (user === undefined) throw new AppError("not_found", `no user named "${name ?? ""}"`);
  return user;
}

export async function listUsers(services: Services, options: AdminOptions): Promise<void> {
  const mfa = flag("mfa", options.mfa, ["on", "off"]);
  const locked = flag("locked", options.locked, ["true", "false"]);
  const { users: rows, total } = await services.admin.listUsers(
    {
      ...(options.q === undefined ? {} : { q: options.q }),
      ...(options.role === undefined ? {} : { role: options.role }),
      ...(mfa === undefined ? {} : { mfa }),
      ...(locked === undefined ? {} : { locked }),
    },
    { limit: 100_000, offset: 0 },
  );
  const cells = rows.map((u) => [
    u.id,
    u.username,
    u.email ?? "-",
    u.mfa_enabled ? "on" : "off",
    u.locked ? "locked" : "active",
    u.roles.join(",") || "-",
  ]);
  console.log(formatTable(["ID", "USERNAME", "EMAIL", "2FA", "STATUS", "ROLES"], cells));
  if (total > rows.length) console.log(`(${rows.length} of ${total})`);
}

export async function audit(services: Services, options: AdminOptions): Promise<void> {
  const since = time("since", options.since);
  const until = time("until", options.until);
  const filter: AuditFilter = {
    ...(options.user === undefined ? {} : { userId: (await findUser(services, options.user)).id }),
    ...(options.type === undefined ? {} : { type: options.type }),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
  };
  if (options.csv === true) {
    for await (const chunk of auditCsv(services.audit, filter)) process.stdout.write(chunk);
    return;
  }
  const events = await services.audit.list({ ...filter, limit: Number(options.limit ?? 50) });
  const cells = events.map((e) => [
    e.created_at,
    e.type,
    e.username ?? e.user_id ?? "-",
    e.actor_username ?? e.actor_id ?? "-",
    e.ip ?? "-",
    e.user_agent ?? "-",
  ]);
  console.log(formatTable(["TIME", "EVENT", "USER", "BY", "IP", "USER AGENT"], cells));
}

/** One of `adminCommands`; returns the exit code. */
export async function runAdminCommand(services: Services, name: string, args: (string | undefined)[]): Promise<number> {
  const [arg, value] = args;
  switch (name) {
    case "users show": {
      const detail = await services.admin.userDetail((await findUser(services, arg)).id);
      const { user } = detail;
      console.log(`${user.username} (${user.id})`);
      console.log(`  email      ${dash(user.email)}${user.email_verified ? " (verified)" : ""}`);
      console.log(`  roles      ${dash(user.roles.join(","))}`);
      console.log(`  two-factor ${user.mfa_enabled ? "on" : "off"}   status ${user.locked ? "locked" : "active"}`);
      console.log(`  created    ${user.created_at}   last sign-in ${dash(user.last_login_at)}`);
      const factors = detail.factors.map((f) => [f.kind, dash(f.name), f.created_at, String(f.count)]);
      console.log(`\n${formatTable(["FACTOR", "NAME", "ADDED", "COUNT"], factors)}`);
      const sessions = detail.sessions.map((s) => [s.id, s.created_at, s.last_used_at, dash(s.ip), `aal ${s.aal}`]);
      console.log(`\n${formatTable(["SESSION", "STARTED", "LAST USED", "IP", "LEVEL"], sessions)}`);
      const events = detail.events.slice(0, 10).map((e) => [e.created_at, e.type, dash(e.ip)]);
      console.log(`\n${formatTable(["TIME", "EVENT", "IP"], events)}`);
      return 0;
    }
    case "user lock":
    case "user unlock": {
      const user = await findUser(services, arg);
      await services.admin.setLocked(null, user.id, name === "user lock", cliMeta);
      console.log(name === "user lock" ? `locked ${user.username}; their sessions ended` : `unlocked ${user.username}`);
      return 0;
    }
    case "user roles": {
      const user = await findUser(services, arg);
      if (value === undefined) {
        console.log(dash(rolesOf(user).join(",")));
        return 0;
      }
      const roles = value.split(",").filter((role) => role !== "");
      const set = await services.admin.setRoles(null, user.id, roles, cliMeta);
      console.log(`roles of ${user.username}: ${dash(set.join(","))}`);
      return 0;
    }
    case "policy show": {
      const { require_2fa: policy, affected } = await services.policy.get();
      console.log(`require_2fa: ${policy}`);
      console.log(
        `covers ${affected.users} account(s); ${affected.without_second_factor} without a second factor ` +
          "(they must set one up at their next request)",
      );
      return 0;
    }
    case "policy set": {
      if (arg === undefined) throw new AppError("validation_failed", "give a policy: off, all, admins or role:NAME,…");
      const policy = await services.policy.set(null, arg, cliMeta);
      const { affected } = await services.policy.get();
      console.log(`require_2fa: ${policy}; ${affected.without_second_factor} account(s) must now set up two-factor`);
      return 0;
    }
    default:
      return 1;
  }
}
