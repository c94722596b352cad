// The ceiling for password login: bare argon2id verifies per second with @node-rs/argon2 at the
// same cost as the servers, with enough concurrent verify loops to saturate libuv's threadpool.
//
// As a child process: node hash-ceiling.mjs <memoryKiB> <iterations> <parallelism> <seconds> <loops>
// prints one JSON line. From the harness: measureHashCeiling({...}).
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { hash, verify } from "@node-rs/argon2";

const self = fileURLToPath(import.meta.url);

export function measureHashCeiling({ memoryKiB, iterations, parallelism, seconds, loops }) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [self, memoryKiB, iterations, parallelism, seconds, loops].map(String),
      { timeout: (seconds + 60) * 1000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`hash ceiling failed: ${err.message}\n${stderr}`));
        resolve(JSON.parse(stdout.trim().split("\n").pop()));
      },
    );
  });
}

async function main([memoryKiB, iterations, parallelism, seconds, loops]) {
  const options = {
    memoryCost: Number(memoryKiB),
    timeCost: Number(iterations),
    parallelism: Number(parallelism),
  };
  const password = "bench-Ceiling-password-7f3a";
  const encoded = await hash(password, options);
  // Warm the threadpool and allocator before timing.
  await Promise.all(Array.from({ length: Number(loops) }, () => verify(encoded, password)));

  // The event-loop delay of a process whose main thread does nothing while argon2 saturates the
  // cores: the baseline for the server's event-loop delay during logins (scheduling, not blocking).
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let count = 0;
  const start = process.hrtime.bigint();
  const end = Date.now() + Number(seconds) * 1000;
  await Promise.all(
    Array.from({ length: Number(loops) }, async () => {
      while (Date.now() < end) {
        if (!(await verify(encoded, password))) throw new Error("verify returned false");
        count++;
      }
    }),
  );
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  loopDelay.disable();
  process.stdout.write(
    JSON.stringify({
      verifies: count,
      seconds: elapsed,
      verifies_per_s: count / elapsed,
      loops: Number(loops),
      event_loop_p99_s: loopDelay.percentile(99) / 1e9,
      event_loop_max_s: loopDelay.max / 1e9,
      threadpool_size: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
      encoded_prefix: encoded.split("$").slice(0, 4).join("$"),
    }) + "\n",
  );
}

if (process.argv[1] === self) await main(process.argv.slice(2));
