import { expect, it } from 'vitest';
import type { JobEvent } from '../src/index.js';
import { grabbed, server, settled, submitted, virtualClock, workerConnection } from './helpers.js';
function background(functionName: string, payload: string) {
  return { functionName, payload, background: true };
}
it('rate exact', async () => {
  const clock = virtualClock();
  const s = server({ scheduler: clock.scheduler });
  await s.setFunctionLimits('pay', { rate: { max: 2, duration: 1000 } });
  const a = workerConnection(s, 'pay');
  const b = workerConnection(s, 'pay');
  const c = s.connect();
  for (let i = 1; i <= 5; i++) await submitted(c, background('pay', `p${i}`));
  expect((await grabbed(a.connection))?.payload).toBe('p1');
  await clock.runTo(400);
  expect((await grabbed(b.connection))?.payload).toBe('p2');
  expect(await grabbed(a.connection)).toBeUndefined();
  expect(await grabbed(b.connection)).toBeUndefined();
  a.connection.preSleep();
  b.connection.preSleep();
  await clock.runTo(999);
  expect(a.wakes + b.wakes).toBe(0);
  await clock.runTo(1000);
  expect(a.wakes + b.wakes).toBe(1);
  const woken = a.wakes === 1 ? a : b;
  const other = woken === a ? b : a;
  expect((await grabbed(woken.connection))?.payload).toBe('p3');
  expect(await grabbed(other.connection)).toBeUndefined();
  other.connection.preSleep();
  await clock.runTo(1399);
  expect(other.wakes).toBe(0);
  await clock.runTo(1400);
  expect((await grabbed(other.connection))?.payload).toBe('p4');
});
it('limited', async () => {
  const clock = virtualClock();
  const s = server({ scheduler: clock.scheduler });
  const events: JobEvent[] = [];
  s.events$.subscribe((e) => events.push(e));
  await s.setFunctionLimits('f', { rate: { max: 1, duration: 500 } });
  const w = workerConnection(s, 'f');
  const c = s.connect();
  for (let i = 0; i < 3; i++) await submitted(c, background('f', String(i)));
  expect(await grabbed(w.connection)).toBeDefined();
  expect(await grabbed(w.connection)).toBeUndefined();
  w.connection.preSleep();
  await settled();
  expect(events.filter((e) => e.type === 'limited')).toEqual([
    { type: 'limited', functionName: 'f', until: 500, time: 0 },
  ]);
});
