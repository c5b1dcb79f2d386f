// One day of the application's schedules in a moment, on the virtual clock of
// @geartrain/testing: the same code runs on a real server (see the end).
import { createJobServer } from '@geartrain/core';
import { createTestServer } from '@geartrain/testing';
import { install } from './app.mjs';

const day = createTestServer({ startAt: Date.parse('2026-12-02T00:00:00Z') });
const app = await install(day.server, { log: console.log });
await day.advanceBy(24 * 60 * 60_000);
console.log(`cleanups in one day: ${app.cleanups()}`);
const waits = day.limitWaits().length;
console.log(`ticks: ${day.ticks().length}, rate-limit waits: ${waits}`);
await day.close();

// In production the server's clock is the real one, and with a store (@geartrain/store-sqlite)
// schedules and their last ticks survive restarts. Here: three ticks of a 50 ms schedule.
const server = createJobServer();
let ticks = 0;
const threeTicks = new Promise((resolve) => {
  server.worker().register('heartbeat', () => {
    if (++ticks === 3) resolve();
  });
});
await server.schedule('heartbeat', { every: 50, functionName: 'heartbeat' });
await threeTicks;
await server.unschedule('heartbeat');
console.log(`real clock: ${ticks} heartbeats`);
await server.close();
