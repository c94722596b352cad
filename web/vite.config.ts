import { defineConfig } from "vitest/config";
import vue from "@vitejs/plugin-vue";
import { pagePathsPlugin } from "./build/page-paths";

// In development the Tessera server runs on :8000 (TESSERA_API_URL to change it); the built app
// is served by the server itself from web/dist.
const apiTarget = process.env.TESSERA_API_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [vue(), pagePathsPlugin()],
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
    include: ["src/**/*.test.ts", "build/**/*.test.ts"],
  },
});
