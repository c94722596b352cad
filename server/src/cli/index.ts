import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { systemClock } from "../clock.js";
import { ConfigError, loadConfig } from "../config.js";
import { openRuntime, type Runtime } from "../bootstrap.js";
import { migrateToLatest } from "../db/migrator.js";
import { createServices } from "../services.js";
import { createMemoryCounterStore } from "../modules/attempt/limiter.js";
import { silentNotifier } from "../modules/notify/notifier.js";
import type * as users from "../modules/user/user.repository.js";
import { AppError } from "../errors.js";
import { normalizeUsername } from "../modules/user/user.service.js";
import pino from "pino";
import { adminCommands, adminUsage, audit, findUser as findAdminUser, listUsers, runAdminCommand } from "./admin.js";
import type { AdminOptions } from "./admin.js";
import { backup } from "./backup.js";
import { formatTable } from "./table.js";
import { runOidcClients } from "./oidc.js";

const usage = `Usage: tessera <command>   (npm run cli -- <command>; configured like the server: env and .env)

Commands:
  migrate                            apply database migrations
${adminUsage}
  user create-admin <name>           create an admin (password from TESSERA_ADMIN_PASSWORD)
  user grant-admin <name>            give an existing user the admin role
  user delete <name>                 delete a user and everything of theirs
  user reset-2fa <name>              remove a user's second factors and recovery codes (they enrol again)
  user factors <name>                list a user's second factors: kind, id, name, added, last used
  user remove-factor <name> <id>     remove one factor (the last one turns two-factor off)
  audit [--user <name>] [--type T] [--since T] [--until T] [--limit N] [--csv]   the audit log
  keys rotate                        add a new JWT signing key (old keys keep verifying)
  keys reencrypt                     re-encrypt every stored secret under the first TESSERA_SECRET_KEY
  oidc clients list                  applications that sign in through Tessera (OpenID Connect)
  oidc clients add <name> --redirect-uri URI …   register one (repeat --redirect-uri; also
                                     --post-logout-redirect-uri URI, --public, --first-party, --require-2fa);
                                     prints its client_id and secret (shown once)
  oidc clients remove <client_id>    remove one, with every grant and token it holds
  purge                              delete expired challenges, links, sessions, trusted devices, known clients
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
  "user factors",
  "user remove-factor",
  "audit",
  "keys rotate",
  "keys reencrypt",
  "oidc clients",
  ...adminCommands,
  "purge",
]);

type CliOptions = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

/**
 * Row IDs are base64url and one in 64 begins with "-": an argument shaped like one (20 or more base64url
 * characters after the dash) that names none of `options` is taken as the word it is (an ID to remove), not
 * refused as an unknown option. A mistyped option still is.
 */
export function parseWords<T extends CliOptions>(argv: string[], options: T) {
  const shorts = new Set(Object.values(options).flatMap((option) => (option.short ? [`-${option.short}`] : [])));
  const names = (arg: string): boolean =>
    arg === "--" || shorts.has(arg) || (arg.startsWith("--") && arg.slice(2).split("=")[0]! in options);
  const words = new Map<string, string>();
  const args = argv.map((arg, i) => {
    if (!/^-[A-Za-z0-9_-]{19,}$/.test(arg) || names(arg)) return arg;
    // NUL cannot occur in a command-line argument, so the stand-in is never one the user typed.
    const stand = `\u0000${i}`;
    words.set(stand, arg);
    return stand;
  });
  const parsed = parseArgs({ args, allowPositionals: true, options });
  const word = (value: string): string => words.get(value) ?? value;
  const values = Object.fromEntries(
    Object.entries(parsed.values).map(([key, value]) => [
      key,
      typeof value === "string" ? word(value) : Array.isArray(value) ? value.map((v) => word(String(v))) : value,
    ]),
  ) as typeof parsed.values;
  return { positionals: parsed.positionals.map(word), values };
}

async function run(argv: string[]): Promise<number> {
  const { positionals, values } = parseWords(argv, {
    help: { type: "boolean", short: "h" },
    csv: { type: "boolean" },
    ...Object.fromEntries(
      ["user", "limit", "type", "since", "until", "q", "role", "mfa", "locked"].map((key) => [key, { type: "string" }]),
    ),
    "redirect-uri": { type: "string", multiple: true },
    "post-logout-redirect-uri": { type: "string", multiple: true },
    public: { type: "boolean" },
    "first-party": { type: "boolean" },
    "require-2fa": { type: "boolean" },
  } as CliOptions);
  const [command, sub, arg, arg2] = positionals;
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
  const name =
    command === "migrate" || command === "audit" || command === "purge"
      ? command
      : `${command ?? ""} ${sub ?? ""}`.trim();
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
    // As the server does at its first start: REQUIRE_2FA becomes the policy of a database that has none yet.
    await services.policy.seed(config.require2fa);
    const findUser = (name: string | undefined): Promise<users.UserRow> => findAdminUser(services, name);
    if (adminCommands.includes(name)) return await runAdminCommand(services, name, [arg, positionals[3]]);
    switch (name) {
      case "users list":
        await listUsers(services, values as AdminOptions);
        return 0;
      case "user create-admin": {
        const password = process.env["TESSERA_ADMIN_PASSWORD"];
        if (arg === undefined || password === undefined)
          throw new AppError("validation_failed", "give a username and set TESSERA_ADMIN_PASSWORD");
        await services.registration.register({ username: arg, password }, cliMeta);
        await services.admin.grantRole(normalizeUsername(arg), "admin");
        console.log(`created admin ${normalizeUsername(arg)}`);
        console.log(
          "next step: sign in to the web UI as this user and turn on two-factor; the administration area opens after",
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
        await services.admin.resetSecondFactor(null, (await findUser(arg)).id, cliMeta);
        console.log(`two-factor authentication is off for ${arg ?? ""}; they can enrol again`);
        return 0;
      case "user factors": {
        const user = await findUser(arg);
        const time = (ms: number | null): string => (ms === null ? "-" : new Date(ms).toISOString());
        const factors = await services.secondFactor.listFactors(user.id);
        const cells = factors.map((f) => [f.kind, f.id, f.name ?? "-", time(f.createdAt), time(f.lastUsedAt)]);
        console.log(formatTable(["KIND", "ID", "NAME", "ADDED", "LAST USED"], cells));
        const codes = (await services.enrollment.status(user.id)).recoveryCodesRemaining;
        console.log(`two-factor ${user.mfa_enabled === 1 ? "on" : "off"}; ${codes} recovery code(s) left`);
        return 0;
      }
      case "user remove-factor": {
        const user = await findUser(arg);
        if (arg2 === undefined) throw new AppError("validation_failed", "give the factor's id (user factors)");
        const stillOn = await services.enrollment.removeFactorByAdmin(user.id, arg2, cliMeta);
        console.log(`removed ${arg2}; two-factor is ${stillOn ? "still on" : "now off"} for ${user.username}`);
        return 0;
      }
      case "audit":
        await audit(services, values as AdminOptions);
        return 0;
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
      case "oidc clients":
        return await runOidcClients(services, config.publicUrl, arg, arg2, values, usage);
      case "purge": {
        const counts = await services.purger.run();
        for (const [table, count] of Object.entries(counts)) console.log(`${table}: ${count} expired row(s) deleted`);
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
