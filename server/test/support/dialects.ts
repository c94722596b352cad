import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConnection } from "mysql2/promise";
import pg from "pg";

export type DialectName = "sqlite" | "postgres" | "mysql";

export interface TestDialect {
  name: DialectName;
  /** Creates a fresh, empty database for one suite; `drop` removes it. */
  createDatabase(): Promise<{ url: string; drop(): Promise<void> }>;
}

export const sqliteDialect: TestDialect = {
  name: "sqlite",
  async createDatabase() {
    const dir = mkdtempSync(join(tmpdir(), "tessera-test-"));
    return {
      url: `sqlite:${join(dir, "tessera.db")}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

function postgres(adminUrl: string): TestDialect {
  return {
    name: "postgres",
    async createDatabase() {
      const name = `tessera_test_${randomBytes(6).toString("hex")}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return {
        url: url.toString(),
        async drop() {
          const client = new pg.Client({ connectionString: adminUrl });
          await client.connect();
          await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          await client.end();
        },
      };
    },
  };
}

function mysql(adminUrl: string): TestDialect {
  return {
    name: "mysql",
    async createDatabase() {
      const name = `tessera_test_${randomBytes(6).toString("hex")}`;
      const admin = await createConnection(adminUrl);
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return {
        url: url.toString(),
        async drop() {
          const connection = await createConnection(adminUrl);
          await connection.query(`DROP DATABASE IF EXISTS ${name}`);
          await connection.end();
        },
      };
    },
  };
}

/** SQLite always; PostgreSQL and MySQL when TEST_POSTGRES_URL / TEST_MYSQL_URL are set (as Kysely's own suites). */
export function testDialects(): TestDialect[] {
  const dialects = [sqliteDialect];
  const pgUrl = process.env["TEST_POSTGRES_URL"];
  const mysqlUrl = process.env["TEST_MYSQL_URL"];
  if (pgUrl) dialects.push(postgres(pgUrl));
  if (mysqlUrl) dialects.push(mysql(mysqlUrl));
  return dialects;
}

export function postgresDialect(): TestDialect | null {
  const url = process.env["TEST_POSTGRES_URL"];
  return url ? postgres(url) : null;
}
