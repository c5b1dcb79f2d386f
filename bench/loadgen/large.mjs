// 1 MiB foreground round trips over raw sockets with @geartrain/protocol: a worker that
// echoes and a client that waits for each result. libgearman's own large-packet handling
// is too slow to measure a server with (it is the bottleneck for gearmand and geartrain
// alike), so both servers are measured with this peer instead.
// Usage: node large.mjs PORT JOBS BYTES  → prints elapsed=… mb_per_s=…
import { Decoder, encodeRequest } from '@geartrain/protocol';
import { createConnection } from 'node:net';
import { once } from 'node:events';

const [port, jobs, bytes] = process.argv.slice(2).map(Number);

function peer(onPacket) {
  const socket = createConnection({ host: '127.0.0.1', port, noDelay: true });
  const decoder = new Decoder(
    {
      packet: onPacket,
      text() {},
      error(e) {
        throw e;
      },
    },
    { text: false },
  );
  socket.on('data', (chunk) => decoder.push(chunk));
  return socket;
}

const worker = peer((packet) => {
  if (packet.type === 'JOB_ASSIGN') {
    worker.write(
      encodeRequest({ type: 'WORK_COMPLETE', handle: packet.handle, data: packet.data }),
    );
    worker.write(encodeRequest({ type: 'GRAB_JOB' }));
  } else if (packet.type === 'NO_JOB') {
    worker.write(encodeRequest({ type: 'PRE_SLEEP' }));
  } else if (packet.type === 'NOOP') {
    worker.write(encodeRequest({ type: 'GRAB_JOB' }));
  }
});
worker.write(encodeRequest({ type: 'CAN_DO', functionName: 'bench-large' }));
worker.write(encodeRequest({ type: 'GRAB_JOB' }));

const payload = Buffer.alloc(bytes, 0x61);
let done = 0;
let finished;
const all = new Promise((resolve) => (finished = resolve));
const client = peer((packet) => {
  if (packet.type !== 'WORK_COMPLETE') return;
  if (packet.data.length !== bytes) throw new Error('short result');
  if (++done === jobs) finished();
  else submit();
});
const submit = () =>
  client.write(
    encodeRequest({ type: 'SUBMIT_JOB', functionName: 'bench-large', unique: '', data: payload }),
  );
await once(client, 'connect');
const start = performance.now();
submit();
await all;
const elapsed = (performance.now() - start) / 1000;
console.log(
  `elapsed=${elapsed.toFixed(6)} mb_per_s=${((jobs * bytes) / elapsed / 1e6).toFixed(1)}`,
);
worker.destroy();
client.destroy();
