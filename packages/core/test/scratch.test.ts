import { it } from 'vitest';
import { TestScheduler } from 'rxjs/testing';
import { server, settled, submitted } from './helpers.js';
it('timers', async () => {
  const scheduler = new TestScheduler(() => undefined);
  const s = server({ scheduler });
  for (let i = 0; i < 2; i++) {
    const c = s.connect({ sink: { wake: () => undefined } });
    c.canDo('f');
    c.preSleep();
  }
  await submitted(s.connect(), { functionName: 'f', background: true });
  await settled();
  console.log(
    'before',
    scheduler.actions.map((a) => (a as unknown as { delay: number }).delay),
  );
  await s.close({ timeout: 0 });
  await settled();
  console.log(
    'after',
    scheduler.actions.map((a) => (a as unknown as { delay: number }).delay),
  );
});
