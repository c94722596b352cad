import type { Plugin, Rollup } from "vite";

/**
 * The web UI's page paths, taken from src/router.ts at build time and written to dist/pages.json, so
 * the server answers an address the UI does not know with 404 (plugins/web-ui.ts) while router.ts
 * stays the one list of pages.
 */

interface AstNode {
  type?: unknown;
  [key: string]: unknown;
}

/** Every `path: "…"` property of a module's ESTree AST, in source order. */
export function routePathsIn(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const item of node) routePathsIn(item, found);
    return found;
  }
  if (typeof node !== "object" || node === null) return found;
  const current = node as AstNode;
  const key = current["key"] as AstNode | undefined;
  const value = current["value"] as AstNode | undefined;
  if (current.type === "Property" && key?.["name"] === "path" && typeof value?.["value"] === "string")
    found.push(value["value"]);
  for (const child of Object.values(current)) if (typeof child === "object") routePathsIn(child, found);
  return found;
}

/** Route patterns the server can match: the catch-all (the UI's own 404 page) is left out. */
export function pagePatterns(paths: string[]): string[] {
  return [...new Set(paths)].filter((path) => !path.includes("(")).sort();
}

export function pagePathsPlugin(): Plugin {
  let paths: string[] | null = null;
  // A hook of Rollup's gets its plugin context as `this` (a function of its own, not a method: see eslint).
  function emitPages(this: Rollup.PluginContext): void {
    if (paths === null || paths.length === 0) this.error("no page paths found in src/router.ts");
    this.emitFile({ type: "asset", fileName: "pages.json", source: `${JSON.stringify({ paths }, null, 2)}\n` });
  }
  return {
    name: "tessera-page-paths",
    apply: "build",
    moduleParsed(info) {
      if (info.id.replaceAll("\\", "/").endsWith("/src/router.ts") && info.ast !== null)
        paths = pagePatterns(routePathsIn(info.ast));
    },
    generateBundle: emitPages,
  };
}
