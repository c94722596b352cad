// `npm test`: every suite. Database and browser suites run when their services are configured;
// anything skipped is named with the reason. Under CI=true nothing may be skipped.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const ci = process.env.CI === "true" || process.env.CI === "1";
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const skipped = [];
const backends = [
  ["TEST_POSTGRES_URL", "PostgreSQL suites"],
  ["TEST_MYSQL_URL", "MySQL/MariaDB suites"],
  ["TEST_REDIS_URL", "Redis (shared rate limit) suites"],
];
for (const [variable, what] of backends) {
  if (!process.env[variable]) skipped.push(`${what}: ${variable} is not set`);
}
const runE2E = existsSync(chromium);
if (!runE2E) skipped.push(`browser end-to-end suite: no Chromium at ${chromium}`);
// server/test/forward-auth/nginx.test.ts skips itself without nginx (NGINX_PATH, as in test/support/nginx.ts).
const nginx = process.env.NGINX_PATH ?? "/usr/sbin/nginx";
if (!existsSync(nginx)) skipped.push(`forward-auth suite behind a real nginx: no nginx at ${nginx}`);
// server/test/forward-auth/caddy.test.ts skips itself without Caddy (CADDY_PATH, as in test/support/caddy.ts).
const caddy = process.env.CADDY_PATH ?? "/usr/bin/caddy";
if (!existsSync(caddy)) skipped.push(`forward-auth suite behind a real Caddy: no caddy at ${caddy}`);
if (ci && skipped.length > 0) {
  console.error(`CI must run every suite, but:\n- ${skipped.join("\n- ")}`);
  process.exit(1);
}

function firstLine(text) {
  return (text ?? "").split("\n").find((line) => line.trim() !== "") ?? "(no message)";
}

function run(label, args) {
  console.log(`\n=== ${label}`);
  const result = spawnSync("npm", args, { cwd: root, stdio: "inherit", env: process.env });
  if (result.status !== 0) {
    console.error(`\n${label} failed`);
    return false;
  }
  return true;
}

const reports = mkdtempSync(join(tmpdir(), "tessera-test-report-"));
let ok = run("build", ["run", "build"]);
const suites = [
  ["server tests", "server", "server.json", ["run", "test", "-w", "server", "--"]],
  ["web unit tests", "web", "web.json", ["run", "test", "-w", "web", "--"]],
];
if (runE2E) suites.push(["web end-to-end tests (Chromium)", "web", "e2e.json", ["run", "e2e", "-w", "web", "--"]]);
for (const [label, , file, args] of ok ? suites : []) {
  ok = run(label, [...args, "--reporter=default", "--reporter=json", `--outputFile.json=${join(reports, file)}`]) && ok;
}

let passed = 0;
let failed = 0;
let skippedTests = 0;
const failures = [];
for (const [label, , file] of suites) {
  const path = join(reports, file);
  if (!existsSync(path)) continue;
  const report = JSON.parse(readFileSync(path, "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skippedTests += report.numPendingTests + report.numTodoTests;
  for (const fileResult of report.testResults) {
    const where = fileResult.name.slice(root.length);
    const failedTests = fileResult.assertionResults.filter((test) => test.status === "failed");
    // A file that failed before any test ran (an import or a hook) has no failed test to name.
    if (fileResult.status === "failed" && failedTests.length === 0) {
      failures.push(`${label}: ${where}: ${firstLine(fileResult.message)}`);
    }
    for (const test of failedTests) {
      failures.push(`${label}: ${where} > ${test.fullName}: ${firstLine(test.failureMessages.join("\n"))}`);
    }
  }
}
// The failures are named again last, so that a log's tail says what failed.
if (failures.length > 0) console.log(`\nFailed:\n- ${failures.join("\n- ")}`);
if (skipped.length > 0) console.log(`\nSkipped:\n- ${skipped.join("\n- ")}`);
console.log(`\n${passed} passed, ${failed} failed, ${skippedTests} skipped`);
process.exit(ok && failed === 0 ? 0 : 1);
