// PHP's GearmanClient and GearmanWorker (the pecl extension, Debian's php-gearman) against
// a geartrain embedded in this Node process: nothing in the PHP code knows it is not
// gearmand. Node's own in-process worker serves a function too, on the same queue.
import { createJobServer } from '@geartrain/core';
import { serve } from '@geartrain/tcp';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const jobs = createJobServer();
const tcp = await serve(jobs, { host: '127.0.0.1', port: 0 });
const port = String(tcp.address.port);
jobs.events$.subscribe((event) => {
  if (event.type === 'completed') console.log(`node: job ${event.handle} completed`);
});

function php(script, ...args) {
  const child = spawn('php', [`${here}${script}`, port, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.on('data', (chunk) => process.stdout.write(chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return once(child, 'exit').then(([code]) => {
    clearTimeout(timer);
    if (code !== 0) throw new Error(`php ${script} exited with ${code}`);
  });
}

const worker = php('worker.php', '2'); // serves two jobs, then exits
await php('client.php');
await worker;

// The same queue from Node: a PHP client could submit this one just as well.
jobs.worker().register('shout', (job) => job.text().toUpperCase());
console.log('node: shout ->', (await jobs.client().run('shout', 'php and node')).toString());

await jobs.close();
await tcp.close();
