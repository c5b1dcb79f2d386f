// Background jobs that survive kill -9. The "app" below runs in a child process with its
// jobs in an SQLite file; the first one accepts three jobs and is killed with SIGKILL before
// any could run; the second opens the same file and finds every one, under its handle.
import { createJobServer } from '@geartrain/core';
import { SqliteJobStore } from '@geartrain/store-sqlite';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [role, file] = process.argv.slice(2);

if (role === 'accept') {
  // First life: accept jobs, say which, then wait to be killed (no worker yet).
  const server = createJobServer({ store: SqliteJobStore.open(file) });
  const client = server.client();
  const email = await client.submit('send-email', 'to:ada@example.com', { background: true });
  const order = await client.submit('close-order', '{"orderId":7}', {
    background: true,
    unique: 'close-order-7',
    delay: 20 * 60_000,
  });
  const report = await client.submit('build-report', Buffer.from([0, 1, 2, 0]), {
    background: true,
    priority: 'high',
  });
  // submit() resolved: each job is committed to the file (acknowledged).
  console.log(`accepted ${email.handle} ${order.handle} ${report.handle}`);
  setInterval(() => undefined, 1000); // an app keeps running, until it is killed
} else if (role === 'resume') {
  // Second life: the same file. The jobs are back before the constructor returns.
  const server = createJobServer({ store: SqliteJobStore.open(file) });
  for (const job of await server.jobs()) {
    console.log(`replayed ${job.handle} ${job.functionName} ${job.state}`);
  }
  const ran = [];
  const worker = server.worker();
  for (const fn of ['send-email', 'build-report']) {
    worker.register(
      fn,
      (job) => void ran.push(`${fn} ${job.handle} ${job.payload.toString('hex')}`),
    );
  }
  while (ran.length < 2) await new Promise((resolve) => setImmediate(resolve));
  for (const line of ran) console.log(`ran ${line}`);
  const again = await server.client().submit('close-order', '{"orderId":7}', {
    background: true,
    unique: 'close-order-7',
  });
  console.log(`the same unique id joins ${again.handle} (coalesced: ${again.coalesced})`);
  await server.close({ timeout: 1000 }); // the delayed job stays in the file for next time
  console.log('closed; the delayed job stays stored');
} else {
  const dir = mkdtempSync(join(tmpdir(), 'geartrain-durable-'));
  const store = join(dir, 'jobs.sqlite');
  const self = fileURLToPath(import.meta.url);
  const life = async (name, kill) => {
    const child = spawn(process.execPath, [self, name, store], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      if (kill && chunk.toString().includes('accepted')) child.kill('SIGKILL');
    });
    const [code, signal] = await once(child, 'exit');
    console.log(`(${name}: ${signal ?? `exit ${code}`})`);
  };
  try {
    await life('accept', true);
    await life('resume', false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
