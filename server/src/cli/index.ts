import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { systemClock } from "../clock.js";
import { ConfigError, loadConfig } from "../config.js";
import { openRuntime, type Runtime } from "../bootstrap.js";
import { migrateToLatest } from "../db/migrator.js";
import { createServices } from "../services.js";
import { createMemoryCounterStore } from "../modules/attempt/limiter.js";
import { silentNotifier } from "../modules/notify/notifier.js";
import * as users from "../modules/user/user.repository.js";
import { AppError } from "../errors.js";
import { normalizeUsername } from "../modules/user/user.service.js";
import pino from "pino";
import { backup } from "./backup.js";
import { formatTable } from "./table.js";

const usage = `Usage: tessera <command>   (npm run cli -- <command>; configured like the server: env and .env)

Commands:
  migrate                            apply database migrations
  users list                         list users: id, username, email, two-factor, lock state, roles
  user create-admin <name>           create an admin (password from TESSERA_ADMIN_PASSWORD)
  user grant-admin <name>            give an existing user the admin role
  user delete <name>                 delete a user and everything of theirs
  user reset-2fa <name>              turn a user's two-factor authentication off
  audit [--user <name>] [--limit N]  show the audit log, newest first (50 events unless --limit)
  keys rotate                        add a new JWT signing key (old keys keep verifying)
  keys reencrypt                     re-encrypt every stored secret under the first TESSERA_SECRET_KEY
  backup <path>                      copy the running database (PostgreSQL/MySQL: prints the dump command)
  help                               print this help (also --help, -h)`;

const cliMeta = { ip: null, userAgent: "tessera-cli" };
const commands = new Set([
  "migrate",
  "users list",
  "user create-admin",
  "user grant-admin",
  "user delete",
  "user reset-2fa",
  "audit",
  "keys rotate",
  "keys reencrypt",
]);

async function run(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { user: { type: "string" }, limit: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  const [command, sub, arg] = positionals;
  if (command === "help" || values.help === true) {
    console.log(usage);
    return 0;
  }
  // An unknown command opens nothing (no data directory, key or database is created for it).
  if (command === "backup") {
    if (sub === undefined || arg !== undefined) {
      console.error(usage);
      return 1;
    }
    // Reads DATABASE_URL only: no key, data directory or migration is touched.
    for (const line of backup(loadConfig(undefined, { webDist: null }).databaseUrl, sub)) console.log(line);
    return 0;
  }
  const name = command === "migrate" || command === "audit" ? command : `${command ?? ""} ${sub ?? ""}`.trim();
  if (!commands.has(name)) {
    console.error(usage);
    return 1;
  }
  const config = loadConfig(undefined, { webDist: null });
  const runtime: Runtime = await openRuntime(config, { migrate: false });
  try {
    if (command === "migrate") {
      const result = await migrateToLatest(runtime.db);
      for (const migration of result.results ?? []) console.log(`${migration.status}: ${migration.migrationName}`);
      console.log("database is up to date");
      return 0;
    }
    await migrateToLatest(runtime.db);
    const services = createServices({
      config,
      db: runtime.db,
      clock: systemClock,
      keyring: runtime.keyring,
      log: pino({ level: "silent" }),
      counters: createMemoryCounterStore(() => Date.now()),
      notifier: silentNotifier,
    });
    const findUser = async (name: string | undefined): Promise<users.UserRow> => {
      const user = name === undefined ? undefined : await users.findUserByUsername(runtime.db, normalizeUsername(name));
      if (user === undefined) throw new AppError("not_found", `no user named "${name ?? ""}"`);
      return user;
    };
    switch (name) {
      case "users list": {
        const rows = await services.admin.listUsers(10_000, 0);
        const cells = rows.map((u) => [
          u.id,
          u.username,
          u.email ?? "-",
          u.mfa_enabled ? "on" : "off",
          u.locked ? "locked" : "active",
          u.roles.join(",") || "-",
        ]);
        console.log(formatTable(["ID", "USERNAME", "EMAIL", "2FA", "STATUS", "ROLES"], cells));
        return 0;
      }
      case "user create-admin": {
        const password = process.env["TESSERA_ADMIN_PASSWORD"];
        if (arg === undefined || password === undefined)
          throw new AppError("validation_failed", "give a username and set TESSERA_ADMIN_PASSWORD");
        await services.registration.register({ username: arg, password }, cliMeta);
        await services.admin.grantRole(normalizeUsername(arg), "admin");
        console.log(
          `created admin ${normalizeUsername(arg)}; sign in and turn on two-factor before using the admin routes`,
        );
        return 0;
      }
      case "user grant-admin":
        await services.admin.grantRole((await findUser(arg)).username, "admin");
        console.log(`granted admin to ${arg ?? ""}`);
        return 0;
      case "user delete":
        await services.account.deleteAccountNow((await findUser(arg)).id, cliMeta);
        console.log(`deleted ${arg ?? ""}`);
        return 0;
      case "user reset-2fa":
        await services.enrollment.resetByAdmin((await findUser(arg)).id, cliMeta);
        console.log(`two-factor authentication is off for ${arg ?? ""}; they can enrol again`);
        return 0;
      case "audit": {
        const userId = values.user === undefined ? undefined : (await findUser(values.user)).id;
        const events = await services.audit.list({
          ...(userId === undefined ? {} : { userId }),
          limit: Number(values.limit ?? 50),
        });
        const cells = events.map((e) => [
          e.created_at,
          e.type,
          e.username ?? e.user_id ?? "-",
          e.ip ?? "-",
          e.user_agent ?? "-",
        ]);
        console.log(formatTable(["TIME", "EVENT", "USER", "IP", "USER AGENT"], cells));
        return 0;
      }
      case "keys rotate":
        console.log(`new signing key ${await services.tokens.rotate()}`);
        return 0;
      case "keys reencrypt": {
        const [signing, totp] = [await services.tokens.reencrypt(), await services.totp.reencrypt()];
        console.log(
          `re-encrypted ${signing} signing key(s) and ${totp} TOTP secret(s) under key ${runtime.keyring.primaryKeyId}`,
        );
        return 0;
      }
      default:
        console.error(usage);
        return 1;
    }
  } finally {
    await runtime.close();
  }
}

export async function cli(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (error) {
    if (error instanceof ConfigError) for (const problem of error.problems) console.error(`config error: ${problem}`);
    else console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await cli(process.argv.slice(2));
}
