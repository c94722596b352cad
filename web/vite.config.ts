import { defineConfig } from "vitest/config";
import vue from "@vitejs/plugin-vue";

// In development the Tessera server runs on :8000; the built app is served by it from web/dist.
const apiTarget = "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [vue()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    emptyOutDir: true,
    // Keep every asset a file: the server's CSP has no data: for scripts or styles.
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      "/api": apiTarget,
      "/dev": apiTarget,
      "/.well-known": apiTarget,
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
