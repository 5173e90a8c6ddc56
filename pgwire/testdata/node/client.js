// client.js drives etlc serve with node-postgres for pgwire's TestNodePostgres:
// parameterized queries (extended protocol, typed results), a pg-cursor
// reading in portions, and an error's SQLSTATE and position.
// Usage: node client.js PORT
const { Client } = require('pg');
const Cursor = require('pg-cursor');

async function main() {
  const client = new Client({ host: '127.0.0.1', port: Number(process.argv[2]), user: 'etl', database: 'etl' });
  await client.connect();
  await client.query('CREATE TABLE p (id BIGINT, name VARCHAR, amount DECIMAL(8,2), ok BOOLEAN, day DATE)');
  for (let i = 1; i <= 25; i++) {
    await client.query('INSERT INTO p VALUES ($1, $2, $3, $4, $5)', [i, 'n' + i, (i / 4).toFixed(2), i % 2 === 0, '2024-01-' + String(i).padStart(2, '0')]);
  }
  let r = await client.query('SELECT id, name, amount, ok FROM p WHERE id > $1 AND name <> $2 ORDER BY id LIMIT 3', [20, 'n22']);
  console.log(JSON.stringify(r.rows), r.rowCount);
  r = await client.query({ text: 'SELECT COUNT(*) AS n, SUM(amount) AS total FROM p WHERE ok = $1', values: [true] });
  console.log(JSON.stringify(r.rows));
  r = await client.query({ text: 'SELECT id, name FROM p WHERE id = $1', values: [3], rowMode: 'array' });
  console.log(JSON.stringify(r.rows));
  const cursor = client.query(new Cursor('SELECT id FROM p WHERE id <= $1 ORDER BY id', [25]));
  const portions = [];
  for (;;) {
    const rows = await cursor.read(10);
    if (rows.length === 0) break;
    portions.push(rows.map((x) => Number(x.id)).join(','));
  }
  await cursor.close();
  console.log(portions.join(' / '));
  try {
    await client.query('SELECT nme FROM p');
  } catch (e) {
    console.log(e.code, e.position);
  }
  await client.end();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
