// Memory of 10,000 schedules (issue 15: ≤ 5 MB, and no timer each): 5,000 interval
// schedules of different periods and 5,000 cron schedules over 1,200 expressions in 5
// time zones, measured after full collections (run with --expose-gc by schedules.mjs). The timers
// Node holds are counted before and after.
import { createJobServer } from '@geartrain/core';
import { report } from './lib.mjs';

const COUNT = 10_000;
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney'];

function heap() {
  for (let i = 0; i < 3; i++) globalThis.gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

const server = createJobServer();
const timersBefore = timers();
await server.schedule('warm-up', { every: 3_600_000, functionName: 'warm' });
await server.unschedule('warm-up');
const before = heap();
for (let i = 0; i < COUNT; i++) {
  const options =
    i % 2 === 0
      ? { every: 60_000 + i * 1000, functionName: `job-${i % 50}`, payload: `tenant-${i}` }
      : {
          cron: `${i % 60} ${Math.floor(i / 60) % 20} * * * *`,
          timezone: ZONES[i % ZONES.length],
          functionName: `job-${i % 50}`,
          payload: `tenant-${i}`,
        };
  await server.schedule(`schedule-${i}`, options);
}
const after = heap();
const timersAfter = timers();
if ((await server.schedules()).length !== COUNT) throw new Error('schedules lost');
report('schedules-10000', 'heap', (after - before) / 2 ** 20, 'MiB');
report('schedules-10000', 'bytes_per_schedule', (after - before) / COUNT, 'B');
report('schedules-10000', 'timers', timersAfter - timersBefore, 'timers');
await server.close();
