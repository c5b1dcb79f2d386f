import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import {
  createJobServer,
  type JobServer,
  type JobServerOptions,
  type JobUpdate,
} from '../src/index.js';
import {
  type Connection,
  type JobListener,
  type SubmitOutcome,
  type SubmitRequest,
} from '../src/transport.js';

export function server(options: JobServerOptions = {}): JobServer {
  return createJobServer({ handlePrefix: 'H:t', ...options });
}

/** A listener that records the updates it receives. */
export function recorder(
  exceptions = false,
): JobListener & { updates: JobUpdate[]; types(): string[] } {
  const updates: JobUpdate[] = [];
  return {
    exceptions,
    updates,
    update: (_handle, update) => updates.push(update),
    types: () => updates.map((u) => u.type),
  };
}

/** A worker connection that counts NOOP wake-ups and records revocations. */
export function workerConnection(s: JobServer, ...functions: string[]) {
  const state = { wakes: 0, revoked: [] as [string, string][] };
  const connection = s.connect({
    sink: {
      wake: () => state.wakes++,
      revoked: (handle, reason) => state.revoked.push([handle, reason]),
    },
  });
  for (const fn of functions) connection.canDo(fn);
  return Object.assign(state, { connection });
}

/** Submits and requires a synchronous outcome (true with synchronous stores). */
export function submit(
  connection: Connection,
  request: SubmitRequest,
  listener?: JobListener,
): SubmitOutcome {
  const outcome = connection.submit(request, listener);
  if (outcome instanceof Promise) throw new Error('expected a synchronous outcome');
  return outcome;
}

/**
 * A connection's answer (`status`, `statusByUnique`, `outcome`), required at once: the local
 * queue answers synchronously; only a shared queue's answer is a Promise.
 */
export function sync<T>(answer: T | Promise<T>): T {
  if (answer instanceof Promise) throw new Error('expected a synchronous answer');
  return answer;
}

/** Grabs and returns the handle and payload text, or undefined. */
export function grab(connection: Connection): { handle: string; payload: string } | undefined {
  const a = connection.grab();
  return a === undefined ? undefined : { handle: a.handle, payload: a.payload.toString() };
}

/** A TestScheduler used as a plain virtual clock: `advanceTo(t)` runs every timer due by t. */
export function virtualClock() {
  const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  return {
    scheduler,
    advanceTo(t: number) {
      scheduler.maxFrames = t;
      scheduler.flush();
      scheduler.frame = t;
    },
  };
}
