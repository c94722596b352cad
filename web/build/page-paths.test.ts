import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseAst, transformWithEsbuild } from "vite";
import { createMemoryHistory } from "vue-router";
import { describe, expect, it } from "vitest";
import { createAppRouter } from "../src/router";
import { pagePatterns, routePathsIn } from "./page-paths";

describe("the page paths written to dist/pages.json", () => {
  it("are exactly the router's routes, without its catch-all", async () => {
    const file = fileURLToPath(new URL("../src/router.ts", import.meta.url));
    const { code } = await transformWithEsbuild(readFileSync(file, "utf8"), file);
    const fromSource = pagePatterns(routePathsIn(parseAst(code)));
    const fromRouter = createAppRouter(createMemoryHistory())
      .getRoutes()
      .map((route) => route.path)
      .filter((path) => !path.includes("("));
    expect(fromSource).toEqual([...fromRouter].sort());
    expect(fromSource).toContain("/login");
    expect(fromSource).toContain("/dev-mailbox");
    expect(fromSource.some((path) => path.includes("pathMatch"))).toBe(false);
  });
});
