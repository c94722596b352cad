import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import SQLite from "better-sqlite3";
import { dialectOf } from "../db/connect.js";
import { createPrivateFile } from "../file-modes.js";

/**
 * `tessera backup PATH` (SPEC CLI): a consistent copy of a running server's database.
 * SQLite: `VACUUM INTO` on a connection of its own, one read transaction, so the copy is a single
 * instant of the database while the server keeps writing (WAL readers never block writers); the copy is
 * created 0600. PostgreSQL and MySQL: the lines to run with their own dump tools, which do the same
 * (never the password: it comes from PGPASSWORD/~/.pgpass or the prompt).
 * Returns the lines to print; throws with a readable message when the copy cannot be made.
 */
export function backup(databaseUrl: string, target: string): string[] {
  const path = resolve(target);
  const dialect = dialectOf(databaseUrl);
  if (dialect === "sqlite") {
    const source = databaseUrl.slice("sqlite:".length);
    if (source === "" || source === ":memory:") throw new Error("an in-memory database has nothing to back up");
    if (existsSync(path) && statSync(path).size > 0) throw new Error(`${path} exists: give a new file`);
    createPrivateFile(path);
    const db = new SQLite(source, { fileMustExist: true });
    try {
      db.pragma("busy_timeout = 5000");
      db.prepare("VACUUM INTO ?").run(path);
    } finally {
      db.close();
    }
    return [
      `backed up ${source} to ${path}`,
      "keep TESSERA_SECRET_KEY (or DATA_DIR/secret.key) with it: the two-factor secrets in the copy need that key",
    ];
  }
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.slice(1));
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const user = decodeURIComponent(url.username);
  const quote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;
  const userFlag = (flag: string): string => (user === "" ? "" : ` ${flag} ${quote(user)}`);
  if (dialect === "postgres") {
    const port = url.port === "" ? "5432" : url.port;
    return [
      "PostgreSQL: run (the password from PGPASSWORD or ~/.pgpass):",
      `pg_dump --format=custom --no-owner --host ${quote(host)} --port ${port}${userFlag("--username")}` +
        ` --file ${quote(path)} ${quote(database)}`,
      `restore into an empty database with: pg_restore --no-owner --dbname <new database> ${quote(path)}`,
      "keep TESSERA_SECRET_KEY with it: the two-factor secrets in the copy need that key",
    ];
  }
  const port = url.port === "" ? "3306" : url.port;
  return [
    "MySQL: run (asks for the password):",
    `mysqldump --single-transaction --routines --host ${quote(host)} --port ${port}${userFlag("--user")}` +
      `${user === "" ? "" : " -p"} ${quote(database)} > ${quote(path)}`,
    `restore into an empty database with: mysql --host ${quote(host)} --port ${port} <new database> < ${quote(path)}`,
    "keep TESSERA_SECRET_KEY with it: the two-factor secrets in the copy need that key",
  ];
}
