// Node flags the server runs with under `npm start` (and in `npm run bench`), for a small idle footprint
// (SPEC §5: idle RSS <= 100 MB):
//   --max-semi-space-size=2  V8's young generation holds 2 × 2 MB instead of 2 × 16 MB; start-up alone fills
//                            the default one, so about 25 MB of RSS stays resident for nothing.
//   --v8-pool-size=1         one V8 helper thread (concurrent GC marking, background compilation) instead of
//                            four: about 8 MB less (each thread's stack and allocator arena), and the event loop
//                            and the hashing threads already share few cores.
// server/package.json's own "start" script repeats them. Operators who prefer V8's defaults set
// TESSERA_NODE_FLAGS="" (or their own flags, space-separated).
export const serverNodeFlags = (env = process.env) =>
  env.TESSERA_NODE_FLAGS === undefined
    ? ["--max-semi-space-size=2", "--v8-pool-size=1"]
    : env.TESSERA_NODE_FLAGS.split(/\s+/).filter(Boolean);

// Environment the server runs with under `npm start` (and in `npm run bench`), for the same reason:
//   MALLOC_ARENA_MAX=1       every thread allocates from glibc's main malloc arena. With an arena per thread
//                            (up to 8 per core), what the hashing, checkpoint and libuv threads had freed stayed
//                            resident after their work: malloc_trim does not shrink a thread arena's free top,
//                            and the rest lay in pieces smaller than a page (measured 60 s after the bench's
//                            load: 8.5 MiB resident in 8 thread arenas holding under 1 MB of live data; RSS
//                            96.0 MB with them, 91.0 MB with one arena). glibc reads it once, at the process's
//                            start, so it is set here and not by the server. A value already set is kept.
export const serverEnv = (env = process.env) => ({ MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX ?? "1" });

/**
 * The command that runs the server (`npm start`, `npm run bench`): node, its flags (then `nodeArgs`, such as the
 * bench profiler's), and its environment.
 */
export const serverCommand = (main, env = process.env, nodeArgs = []) => ({
  file: process.execPath,
  args: [...serverNodeFlags(env), ...nodeArgs, main],
  env: { ...env, ...serverEnv(env) },
});
