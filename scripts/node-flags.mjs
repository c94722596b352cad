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
