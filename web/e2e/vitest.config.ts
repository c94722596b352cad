import { defineConfig } from "vitest/config";

// End-to-end suite: a real Tessera server and headless Chromium. Files run one after another
// (each starts its own server); steps inside a file share one browser and run in order.
export default defineConfig({
  test: {
    root: new URL("..", import.meta.url).pathname,
    include: ["e2e/**/*.test.ts"],
    environment: "node",
    globalSetup: ["e2e/harness/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
    sequence: { concurrent: false },
  },
});
