import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeWithPostgres,
  startPostgres,
  type PostgresServer,
} from './support/postgres/index.js';

/** True once `pid` has exited: no such process, or a zombie waiting to be reaped. */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

async function connect(server: PostgresServer, applicationName = 'harness-test') {
  const client = new pg.Client({
    connectionString: server.connectionString,
    application_name: applicationName,
  });
  await client.connect();
  return client;
}

/** Waits until `test` resolves true, checking every 20 ms for at most `timeout` ms. */
async function until(test: () => Promise<boolean>, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describeWithPostgres('PostgreSQL test harness (test/support/postgres)', () => {
  let server: PostgresServer | undefined;
  const started: PostgresServer[] = [];

  beforeAll(async () => {
    server = await startPostgres();
    started.push(server);
  }, 60_000);

  afterAll(async () => {
    for (const each of started) await each.stop();
  }, 60_000);

  it('starts a server on loopback that answers, with fsync and synchronous commit on', async () => {
    const client = await connect(server!);
    try {
      const { rows } = await client.query<Record<string, string>>(
        `select current_setting('fsync') as fsync,
                current_setting('synchronous_commit') as synchronous_commit,
                current_setting('listen_addresses') as listen_addresses,
                current_setting('port') as port,
                current_setting('max_connections') as max_connections,
                current_setting('server_version_num') as version`,
      );
      expect(rows[0]).toMatchObject({
        fsync: 'on',
        synchronous_commit: 'on',
        listen_addresses: '127.0.0.1',
        port: String(server!.port),
        max_connections: '200',
      });
      expect(Number(rows[0]!['version'])).toBeGreaterThanOrEqual(140000);
      expect(server!.connectionString).toBe(
        `postgres://postgres@127.0.0.1:${server!.port}/postgres`,
      );
    } finally {
      await client.end();
    }
  });

  it('restarts on the same port and folder, keeping what was committed', async () => {
    await server!.psql('create table kept (n int); insert into kept values (1)');
    const before = server!.pid;
    await server!.restart();
    expect(server!.pid).not.toBe(before);
    expect(gone(before)).toBe(true);
    expect(await server!.psql('select n from kept')).toBe('1');
  }, 60_000);

  it('recovers from a SIGKILL of the postmaster on restart, keeping committed rows', async () => {
    // synchronous_commit=on: a commit that returned is in the WAL on disk before the crash.
    await server!.psql('insert into kept values (2)');
    const before = server!.pid;
    await server!.kill('SIGKILL');
    expect(server!.running).toBe(false);
    expect(gone(before)).toBe(true);
    await server!.restart();
    expect(await server!.psql("select string_agg(n::text, ',' order by n) from kept")).toBe('1,2');
  }, 60_000);

  it('terminates a backend: its in-flight query fails with 57P01, other sessions go on', async () => {
    const victim = await connect(server!, 'harness-victim');
    const bystander = await connect(server!, 'harness-bystander');
    const errors: unknown[] = [];
    victim.on('error', (error) => errors.push(error));
    try {
      const { rows: me } = await victim.query<{ pid: number }>('select pg_backend_pid() as pid');
      const backend = me[0]!.pid;
      const inFlight = victim.query('select pg_sleep(60)');
      const failure = inFlight.then(
        () => undefined,
        (error: unknown) => error,
      );
      // Wait until the query runs on the server, so that the error is the query's.
      await until(
        async () =>
          (await server!.psql(
            `select state from pg_stat_activity where pid = ${backend} and state = 'active'`,
          )) === 'active',
      );
      expect(await server!.terminateBackends({ applicationName: 'harness-victim' })).toEqual([
        backend,
      ]);
      expect(await failure).toMatchObject({
        code: '57P01', // admin_shutdown: terminating connection due to administrator command
        severity: 'FATAL',
      });
      await expect(victim.query('select 1')).rejects.toThrow(/not queryable/);
      const { rows } = await bystander.query<{ n: number }>('select 1 as n');
      expect(rows).toEqual([{ n: 1 }]);
      expect(await server!.terminateBackends({ applicationName: 'harness-victim' })).toEqual([]);
    } finally {
      await victim.end().catch(() => undefined);
      await bystander.end();
    }
  }, 30_000);

  it('stops by PID: the postmaster and every server process exit, the folder is removed', async () => {
    const own = await startPostgres({ maxConnections: 20 });
    started.push(own);
    // Every process of the server except the postmaster itself (PostgreSQL 10+ lists the
    // checkpointer, the WAL writer and the other auxiliary processes here too).
    const pids = (await own.psql('select pid from pg_stat_activity')).split('\n').map(Number);
    expect(pids.length).toBeGreaterThanOrEqual(4);
    const postmaster = own.pid;
    await own.stop();
    expect(own.running).toBe(false);
    expect(gone(postmaster)).toBe(true);
    expect(pids.filter((pid) => !gone(pid))).toEqual([]);
    expect(existsSync(own.dir)).toBe(false);
    await own.stop(); // twice is harmless
    await expect(own.restart()).rejects.toThrow(/after stop/);
  }, 60_000);
});
