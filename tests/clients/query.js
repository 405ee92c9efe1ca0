// Connects with a Node.js PostgreSQL driver to the URL in DATABASE_URL (never on the command
// line) and runs a parameterized query; prints {"ok": [user, sum]} or {"error": message}.
//   node query.js postgres [--no-prepare]   postgres.js (Drizzle's usual driver)
//   node query.js pg                        node-postgres
const [driver, option] = process.argv.slice(2);
const url = process.env.DATABASE_URL;

async function viaPostgresJs() {
  const postgres = require('postgres');
  const sql = postgres(url, { prepare: option !== '--no-prepare', max: 1, connect_timeout: 10 });
  try {
    const [row] = await sql`select current_user as who, ${2}::int + 2 as sum`;
    return [row.who, row.sum];
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function viaNodePostgres() {
  const { Client } = require('pg');
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10000 });
  await client.connect();
  try {
    const { rows: [row] } = await client.query('select current_user as who, $1::int + 2 as sum', [2]);
    return [row.who, row.sum];
  } finally {
    await client.end();
  }
}

(driver === 'pg' ? viaNodePostgres() : viaPostgresJs())
  .then((ok) => console.log(JSON.stringify({ ok })))
  .catch((error) => console.log(JSON.stringify({ error: String(error.message || error) })));
