import { filter, firstValueFrom, throwError, timeout, type VirtualTimeScheduler } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, inject, it } from 'vitest';
import {
  createJobServer,
  type JobServer,
  type JobEvent,
  type JobServerOptions,
  type JobUpdate,
} from '../src/index.js';
import {
  type Assignment,
  type Connection,
  type JobListener,
  type SubmitOutcome,
  type SubmitRequest,
} from '../src/transport.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The queue core's tests run on, per vitest project (vitest.config.ts). */
    queue: 'local' | 'shared';
  }
}

/**
 * How the servers of a project on another queue than the local one are made: put under a
 * global symbol by the project's setup file (test/support/queues/shared-queue.ts), since
 * core's tests cannot import @geartrain/testing, where the double is.
 */
interface QueueUnderTest {
  readonly name: string;
  server(options: JobServerOptions): JobServer;
  /** The prefix of the handles of the foreground jobs a server made with `prefix` keeps. */
  foregroundPrefix(prefix: string): string;
  /** Resolves once the queue answered everything asked of it (and what that set off). */
  settled(): Promise<void>;
}

const local: QueueUnderTest = {
  name: 'local queue',
  server: (options) => createJobServer(options),
  foregroundPrefix: (prefix) => prefix,
  settled: () => Promise.resolve(),
};

/** The queue of this project's tests: the local one, or a shared one on the double. */
export const queueKind: 'local' | 'shared' = inject('queue') ?? 'local';

const underTest: QueueUnderTest = (() => {
  if (queueKind === 'local') return local;
  const found = (globalThis as Record<symbol, QueueUnderTest | undefined>)[
    Symbol.for('geartrain.test.queueUnderTest')
  ];
  if (found === undefined) {
    throw new Error(`the '${queueKind}' queue's project has no setup file that makes servers`);
  }
  return found;
})();

/** A server on this project's queue (see `queueKind`). */
export function server(options: JobServerOptions = {}): JobServer {
  return underTest.server({ handlePrefix: 'H:t', ...options });
}

/**
 * The handle of the `n`th foreground job of a server of `server()`: a shared queue numbers
 * background jobs in the queue and foreground ones on the node, under a prefix of its own.
 */
export function foregroundHandle(n: number): string {
  return `${underTest.foregroundPrefix('H:t')}:${n}`;
}

/**
 * Waits until the queue has answered what it was asked: at once on the local queue; on a
 * shared one, for its round trips and what they set off (a claim after a submission).
 */
export function settled(): Promise<void> {
  return underTest.settled();
}

/** Why a case that reads or fails a JobStore holds on the local queue only. */
export const NEEDS_STORE = 'a JobStore write-through (a shared queue takes no store)';

/** Why a case that counts claimed, unstarted jobs as queued holds on the local queue only. */
export const CLAIMED_RUNNING =
  "a shared queue counts a job it claimed for a node's workers as running before a worker there starts it";

/** Why a case that counts the timers on the server's clock holds on the local queue only. */
export const COUNTS_TIMERS =
  "it counts the timers on the server's clock, which a shared queue's node (its backstop poll) shares with the queue's own";

/**
 * Why a case that submits a foreground job and expects its answer at once holds on the
 * local queue only: on a shared queue the job waits in the backend (decision 36), and the
 * submission is answered a round trip later. The queue behaviour suite runs what they test
 * (updates in order, failures, coalescing, clients leaving) on the shared queues.
 */
export const SYNCHRONOUS =
  'a shared queue answers a foreground submission once its backend has the job (decision 36)';

/**
 * `it` for a case that holds on the local queue only: on a shared queue it is skipped, with
 * `reason` in its title (what it reads that a shared queue does not have, or not yet).
 */
export function localOnly(reason: string) {
  return (title: string, body: () => unknown, timeout?: number): void => {
    if (queueKind === 'local') it(title, body, timeout);
    else it.skip(`${title} [local queue only: ${reason}]`, body, timeout);
  };
}

/**
 * The next event of `s` that `match` accepts (subscribed at once: call it before what makes
 * the event). Fails after 5 s of real time, naming `what` was awaited.
 */
export function nextEvent<T extends JobEvent>(
  s: JobServer,
  match: (event: JobEvent) => event is T,
  what: string,
): Promise<T>;
export function nextEvent(
  s: JobServer,
  match: (event: JobEvent) => boolean,
  what: string,
): Promise<JobEvent>;
export function nextEvent(
  s: JobServer,
  match: (event: JobEvent) => boolean,
  what: string,
): Promise<JobEvent> {
  return firstValueFrom(
    s.events$.pipe(
      filter(match),
      timeout({ first: 5000, with: () => throwError(() => new Error(`no ${what} within 5 s`)) }),
    ),
  );
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

/**
 * Submits on either queue: the outcome awaited (a shared queue answers a background
 * submission after a round trip); a refusal rejects.
 */
export async function submitted(
  connection: Connection,
  request: SubmitRequest,
  listener?: JobListener,
): Promise<SubmitOutcome> {
  return await connection.submit(request, listener);
}

/**
 * GRAB_JOB as a worker that polls, on either queue: the local queue answers at once; a
 * shared one hands out what it claimed for this node, so a worker that found nothing asks
 * again once the queue has answered the claim its asking set off.
 */
export async function assigned(connection: Connection): Promise<Assignment | undefined> {
  await settled();
  const assignment = connection.grab();
  if (assignment !== undefined || queueKind === 'local') return assignment;
  await settled();
  return connection.grab();
}

/** {@link assigned}, as the handle and payload text. */
export async function grabbed(
  connection: Connection,
): Promise<{ handle: string; payload: string } | undefined> {
  const a = await assigned(connection);
  return a === undefined ? undefined : { handle: a.handle, payload: a.payload.toString() };
}

/** Grabs and returns the handle and payload text, or undefined. */
export function grab(connection: Connection): { handle: string; payload: string } | undefined {
  const a = connection.grab();
  return a === undefined ? undefined : { handle: a.handle, payload: a.payload.toString() };
}

/**
 * Moves a virtual clock to `t`, running every timer due by then, and lets the queue answer
 * what they set off (a shared queue's answers take a turn, and no virtual time), until no
 * timer is due by `t`.
 */
export async function runClockTo(scheduler: VirtualTimeScheduler, t: number): Promise<void> {
  for (let round = 0; round < 10_000; round++) {
    scheduler.maxFrames = t;
    scheduler.flush();
    scheduler.maxFrames = Infinity;
    if (t > scheduler.frame) scheduler.frame = t;
    await settled();
    const next = (scheduler.actions[0] as { delay?: number } | undefined)?.delay;
    if (next === undefined || next > t) return;
  }
  throw new Error(`the virtual clock's timers due by ${t} kept arming more`);
}

/**
 * A TestScheduler used as a plain virtual clock: `advanceTo(t)` runs every timer due by t;
 * `runTo(t)` does, and lets the queue answer what they set off (on either queue).
 */
export function virtualClock() {
  const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  return {
    scheduler,
    advanceTo(t: number) {
      scheduler.maxFrames = t;
      scheduler.flush();
      scheduler.frame = t;
    },
    runTo: (t: number) => runClockTo(scheduler, t),
  };
}

/** `describe` for cases that all hold on the local queue only (see {@link localOnly}). */
export function describeLocalOnly(reason: string, title: string, body: () => void): void {
  if (queueKind === 'local') describe(title, body);
  else describe.skip(`${title} [local queue only: ${reason}]`, body);
}
