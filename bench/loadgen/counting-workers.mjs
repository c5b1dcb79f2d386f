// Gearman workers that count the wake-ups they get: COUNT raw-socket worker connections for
// function `bench`, each doing what libgearman's worker loop does (GRAB_JOB_UNIQ; NO_JOB →
// PRE_SLEEP; NOOP → GRAB_JOB_UNIQ; a job → WORK_COMPLETE with the workload, then grab again).
// Prints `ready=1` once every connection has registered and slept, and, when stdin closes,
// `jobs=… noops=… no_jobs=…`: what the server sent them. Usage: node counting-workers.mjs PORT COUNT
import { Decoder, encodeRequest } from '@geartrain/protocol';
import { createConnection } from 'node:net';

const [port, count] = process.argv.slice(2).map(Number);
const totals = { jobs: 0, noops: 0, no_jobs: 0 };
const sockets = [];
let registered = 0;

function worker(attempt = 1) {
  const socket = createConnection({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  const send = (packet) => socket.write(encodeRequest(packet));
  let ready = false;
  const decoder = new Decoder(
    {
      packet: (p) => {
        switch (p.type) {
          case 'NOOP':
            totals.noops++;
            send({ type: 'GRAB_JOB_UNIQ' });
            break;
          case 'NO_JOB':
            totals.no_jobs++;
            send({ type: 'PRE_SLEEP' });
            break;
          case 'JOB_ASSIGN_UNIQ':
            totals.jobs++;
            send({ type: 'WORK_COMPLETE', handle: p.handle, data: p.data });
            send({ type: 'GRAB_JOB_UNIQ' });
            break;
          case 'ECHO_RES':
            if (!ready) {
              ready = true;
              if (++registered === count) process.stdout.write('ready=1\n');
            }
            break;
          default:
            throw new Error(`unexpected ${p.type}`);
        }
      },
      text: () => undefined,
      error: (error) => {
        throw error;
      },
    },
    { text: false },
  );
  socket.on('data', (chunk) => decoder.push(chunk));
  socket.on('connect', () => {
    // Registered and asleep before the load starts (the ECHO says the server has read both).
    send({ type: 'CAN_DO', functionName: 'bench' });
    send({ type: 'PRE_SLEEP' });
    send({ type: 'ECHO_REQ', data: Buffer.from('ready') });
  });
  socket.on('error', (error) => {
    // A connection refused or reset before it registered is made again, as a worker would
    // (gearmand resets a few of a hundred connections opened at once); after, the counts
    // would be wrong, so that is fatal.
    if (!ready && attempt < 20) {
      sockets.splice(sockets.indexOf(socket), 1);
      setTimeout(() => worker(attempt + 1), 50);
      return;
    }
    process.stderr.write(`counting-workers: ${error.message}\n`);
    process.exit(1);
  });
  sockets.push(socket);
}

for (let i = 0; i < count; i++) worker();
process.stdin.resume();
process.stdin.on('end', () => {
  process.stdout.write(`jobs=${totals.jobs} noops=${totals.noops} no_jobs=${totals.no_jobs}\n`);
  for (const socket of sockets) socket.destroy();
  process.exit(0);
});
