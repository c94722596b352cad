import { existsSync } from "node:fs";
import { join } from "node:path";
import closeWithGrace from "close-with-grace";
import { buildApp, forgetIdleCaches } from "./app.js";
import { createLogger } from "./logger.js";
import { systemClock } from "./clock.js";
import { ConfigError, loadConfig } from "./config.js";
import { describeError, openRuntime } from "./bootstrap.js";
import { redisReady } from "./redis.js";
import { createHeapCompactor } from "./heap-compactor.js";
import { trimNativeHeap } from "./native-memory.js";
import { dropIdleDbStatements, releaseIdleDbMemory } from "./db/connect.js";
import { startupLine } from "./startup.js";
import { defaultWebDist } from "./paths.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(undefined, { webDist: defaultWebDist });
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) console.error(`config error: ${problem}`);
      process.exit(1);
    }
    throw error;
  }
  let runtime;
  try {
    runtime = await openRuntime(config, { migrate: true, checkpointThread: true });
  } catch (error) {
    console.error(`startup failed: ${describeError(error)}`);
    process.exit(1);
  }
  // Readable lines in a terminal while developing; JSON in production and whenever the output is piped.
  const log = createLogger(config.logLevel, undefined, {
    pretty: process.stdout.isTTY === true && config.nodeEnv !== "production",
  });
  const app = await buildApp(config, {
    db: runtime.db,
    clock: systemClock,
    keyring: runtime.keyring,
    secretKey: runtime.secretKey,
    redis: runtime.redis,
    log,
  });
  // A moment for Redis's first connection, so the first requests count there; an unreachable Redis does
  // not stop the start (the limits count in memory until it answers, SPEC "Staying up").
  if (runtime.redis !== null) await redisReady(runtime.redis);
  if (runtime.generatedKey)
    log.warn(`generated a new secret key in ${config.dataDir}/secret.key (mode 0600); back it up`);

  const compactor = createHeapCompactor({
    release: () => {
      releaseIdleDbMemory(runtime.db);
      trimNativeHeap();
    },
    trim: () => void trimNativeHeap(),
    beforeFlush: () => {
      forgetIdleCaches(app);
      dropIdleDbStatements(runtime.db);
    },
  });
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err !== undefined) log.error({ err }, "shutting down after an error");
    else log.info({ signal }, "shutting down");
    compactor.stop();
    await app.close();
    await runtime.close();
  });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    // A taken port or an address this machine does not have: one line naming the variables, not a stack.
    console.error(
      `startup failed: cannot listen on ${config.host}:${config.port} (HOST, PORT): ${describeError(error)}`,
    );
    await app.close();
    await runtime.close();
    process.exit(1);
  }
  const webUI = config.webDist !== null && existsSync(join(config.webDist, "index.html"));
  log.info(startupLine(config, app.server.address(), webUI));
  // Start-up's garbage handed back once the connections of the first second are made (idle memory, SPEC §5).
  setTimeout(() => compactor.start(), 1000).unref();
}

await main();
