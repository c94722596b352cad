// A fresh PostgreSQL (BENCH_POSTGRES_URL) or MySQL (BENCH_MYSQL_URL) database for one run; the
// drivers come with the server.
import { randomBytes } from "node:crypto";

/** The SQL databases Tessera runs on besides SQLite, each run when its variable is set. */
export const sqlTargets = [
  { env: "BENCH_POSTGRES_URL", key: "tessera_pg", label: "Tessera (pg)" },
  { env: "BENCH_MYSQL_URL", key: "tessera_mysql", label: "Tessera (mysql)" },
];

async function adminQuery(adminUrl, statement) {
  if (adminUrl.startsWith("mysql:")) {
    const { createConnection } = await import("mysql2/promise");
    const connection = await createConnection(adminUrl);
    try {
      await connection.query(statement);
    } finally {
      await connection.end();
    }
    return;
  }
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export async function createFreshDatabase(adminUrl) {
  const name = `tessera_bench_${randomBytes(4).toString("hex")}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const force = adminUrl.startsWith("mysql:") ? "" : " WITH (FORCE)";
  return {
    name,
    url: url.toString(),
    drop: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name}${force}`),
  };
}
