/*
 * The shape README "Architecture" describes, enforced on server/src's import graph (every relative
 * import, `import type` included):
 * - modules import one way: each only modules of a lower layer (so no two import each other);
 * - no file-level import cycle anywhere;
 * - the code outside modules/ is below them, except the composition roots that wire them;
 * - the SQLite speed machinery is reached only through db/connect.ts, Kysely's internals only in
 *   db/kysely-internals.ts;
 * - no source or test file is longer than 250 lines.
 * A new module (oidc/, forward-auth/) must be given its layer here, and in the README.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { serverDir } from "./support/paths.js";

/** Top to bottom: a module may import the modules of any layer below its own, never its own or above. */
const layers: string[][] = [
  ["ops", "admin", "forward-auth"],
  ["account"],
  ["login", "oidc"],
  ["second-factor", "email"],
  ["session"],
  ["token", "user"],
  ["notify", "audit", "attempt"],
];
/** The files outside modules/ that may import modules: they wire them together. */
const compositionRoots = ["app.ts", "services.ts", "routes.ts", "cli/index.ts", "cli/admin.ts", "cli/oidc.ts"];
const maxLines = 250;

const srcDir = join(serverDir, "src");

function filesUnder(dir: string, accept: (path: string) => boolean): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...filesUnder(path, accept));
    else if (accept(path)) found.push(path);
  }
  return found.sort();
}

// `import … from "x"` and `export … from "x"`, `import("x")`, and a bare `import "x"`.
const importPattern = new RegExp(
  [
    String.raw`(?:^|[\s;])(?:import|export)\s[^"';]*?\sfrom\s*["']([^"']+)["']`,
    String.raw`import\s*\(\s*["']([^"']+)["']\s*\)`,
    String.raw`^import\s+["']([^"']+)["']`,
  ].join("|"),
  "gm",
);

/** The src files a file imports (relative specifiers; `.js` resolved to the `.ts` source). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const targets: string[] = [];
  for (const match of text.matchAll(importPattern)) {
    const specifier = match[1] ?? match[2] ?? match[3];
    if (specifier === undefined || !specifier.startsWith(".")) continue;
    targets.push(resolve(dirname(file), specifier).replace(/\.js$/, ".ts"));
  }
  return targets;
}

const sources = filesUnder(srcDir, (path) => path.endsWith(".ts") && !path.endsWith(".test.ts"));
const graph = new Map(sources.map((file) => [file, importsOf(file)]));
const name = (file: string): string => relative(srcDir, file);
const moduleOf = (file: string): string | null => {
  const [top, module] = name(file).split("/");
  return top === "modules" && module !== undefined && !module.endsWith(".ts") ? module : null;
};

/** Strongly connected components of more than one file, or a file importing itself (Tarjan). */
function importCycles(): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (file: string): void => {
    index.set(file, next);
    low.set(file, next);
    next += 1;
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file) ?? 0, low.get(target) ?? 0));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file) ?? 0, index.get(target) ?? 0));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop();
      if (member === undefined) break;
      onStack.delete(member);
      component.push(name(member));
    } while (member !== file);
    if (component.length > 1 || (graph.get(file) ?? []).includes(file)) cycles.push(component.sort());
  };
  for (const file of sources) if (!index.has(file)) visit(file);
  return cycles;
}

describe("architecture of server/src", () => {
  it("finds the import graph (the parser still sees imports)", () => {
    expect(sources.length).toBeGreaterThan(50);
    expect(graph.get(join(srcDir, "app.ts"))).toContain(join(srcDir, "services.ts"));
  });

  it("gives every module a layer", () => {
    const modules = readdirSync(join(srcDir, "modules")).sort();
    expect(modules).toEqual(layers.flat().sort());
  });

  it("lets modules import only modules of a lower layer, so no two import each other", () => {
    const layerOf = new Map(layers.flatMap((names, layer) => names.map((module) => [module, layer] as const)));
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      const from = moduleOf(file);
      if (from === null) continue;
      for (const target of targets) {
        const to = moduleOf(target);
        if (to === null || to === from) continue;
        if ((layerOf.get(to) ?? -1) <= (layerOf.get(from) ?? -1)) upward.push(`${name(file)} -> ${name(target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it("has no import cycle between files", () => {
    expect(importCycles()).toEqual([]);
  });

  it("keeps the code outside modules/ below them, but for the composition roots", () => {
    const reachingUp: string[] = [];
    for (const [file, targets] of graph) {
      const from = name(file);
      for (const target of targets) {
        const intoModule = moduleOf(target) !== null && moduleOf(file) === null && !compositionRoots.includes(from);
        // Only the entry points (main.ts, the CLI) and the roots themselves import a composition root.
        const intoRoot = compositionRoots.includes(name(target)) && ![...compositionRoots, "main.ts"].includes(from);
        if (intoModule || intoRoot) reachingUp.push(`${from} -> ${name(target)}`);
      }
    }
    expect(reachingUp).toEqual([]);
  });

  it("reaches db/sqlite/ only through db/connect.ts, and Kysely internals only in db/kysely-internals.ts", () => {
    const sqliteDir = join(srcDir, "db", "sqlite");
    const intoSqlite: string[] = [];
    const internals: string[] = [];
    for (const [file, targets] of graph) {
      if (!file.startsWith(sqliteDir) && file !== join(srcDir, "db", "connect.ts"))
        for (const target of targets) if (target.startsWith(sqliteDir)) intoSqlite.push(name(file));
      if (/\.getExecutor\(/.test(readFileSync(file, "utf8")) && name(file) !== "db/kysely-internals.ts")
        internals.push(name(file));
    }
    expect(intoSqlite).toEqual([]);
    expect(internals).toEqual([]);
  });

  it(`keeps every source and test file under ${maxLines} lines`, () => {
    const long: string[] = [];
    for (const dir of ["src", "test", "workers"]) {
      for (const file of filesUnder(join(serverDir, dir), (path) => /\.(ts|mjs)$/.test(path))) {
        const lines = readFileSync(file, "utf8").split("\n").length - 1;
        if (lines >= maxLines) long.push(`${relative(serverDir, file)}: ${lines} lines`);
      }
    }
    expect(long).toEqual([]);
  });
});
