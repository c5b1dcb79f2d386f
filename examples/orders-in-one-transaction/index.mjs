// An order and the job that closes it if unpaid 20 minutes later, in one transaction of the
// application's: the job exists only if the order does. Needs PostgreSQL: DATABASE_URL, or
// the one `npm run postgres` starts (postgres://postgres@127.0.0.1:5432/postgres).
import { createJobServer } from '@geartrain/core';
import { postgresQueue } from '@geartrain/postgres';
import pg from 'pg';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const schema = `orders_example_${process.pid}`;
const server = createJobServer({ queue: postgresQueue({ connectionString: url, schema }) });
await server.ready;
const db = new pg.Pool({ connectionString: url });
await db.query(`CREATE TABLE ${schema}.orders (id text PRIMARY KEY, state text NOT NULL)`);

const TWENTY_MINUTES = 20 * 60_000;

/** Places an order: its row and its closing job commit together, or neither does. */
async function placeOrder(id, { fail = false } = {}) {
  const tx = await db.connect();
  try {
    await tx.query('BEGIN');
    await tx.query(`INSERT INTO ${schema}.orders VALUES ($1, 'unpaid')`, [id]);
    const job = await server.client().submit('close-unpaid-order', id, {
      delay: TWENTY_MINUTES,
      unique: `close-${id}`,
      transaction: tx,
    });
    if (fail) throw new Error(`the payment provider refused order ${id}`);
    await tx.query('COMMIT');
    return job.handle;
  } catch (error) {
    await tx.query('ROLLBACK');
    console.log(`order ${id} rolled back: ${error.message}`);
    return null;
  } finally {
    tx.release();
  }
}

const handle = await placeOrder('A-1');
const { known } = await server.status(handle);
console.log(`order A-1 placed; its closing job ${handle} ${known ? 'is queued' : 'is missing'}`);
await placeOrder('A-2', { fail: true });

const orders = (await db.query(`SELECT id FROM ${schema}.orders ORDER BY id`)).rows;
console.log('orders:', orders.map((o) => o.id).join(', '));
const waiting = await server.jobs({ state: 'delayed' });
console.log(
  'delayed jobs:',
  waiting.map((j) => `${j.functionName} ${j.unique} (${j.handle})`).join(', '),
);

// This run is a demonstration: its job and tables go.
await server.cancel(handle);
await server.close();
await db.query(`DROP SCHEMA ${schema} CASCADE`);
await db.end();
