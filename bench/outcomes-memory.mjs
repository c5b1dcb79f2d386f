// Memory per kept outcome: 100,000 background jobs completed with a 16-byte result each and
// kept (retention: the last 100,000 successes), measured after full collections (run with
// --expose-gc by core.mjs). The outcomes are records in array buffers, which V8 counts
// outside its heap, so the figure is the heap and the array buffers together.
import { createJobServer } from '@geartrain/core';
import { report } from './lib.mjs';

const COUNT = 100_000;
const RESULT = Buffer.from('0123456789abcdef');

function heap() {
  for (let i = 0; i < 3; i++) globalThis.gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

const server = createJobServer({ keep: { completed: { count: COUNT } } });
const connection = server.connect();
connection.canDo('work');
const client = server.connect();
// Warm the tables, then measure the outcomes alone: the jobs themselves are gone.
for (let i = 0; i < 1000; i++) {
  const { handle } = client.submit({ functionName: 'work', payload: 'x', background: true });
  connection.grab();
  connection.workComplete(handle, RESULT);
}
const before = heap();
for (let i = 0; i < COUNT; i++) {
  const { handle } = client.submit({ functionName: 'work', payload: 'x', background: true });
  connection.grab();
  connection.workComplete(handle, RESULT);
}
const after = heap();
if ((await server.outcomeCount({ state: 'completed' })) !== COUNT) throw new Error('outcomes lost');
report('core-kept-outcome', 'memory_per_outcome', (after - before) / COUNT, 'B');
