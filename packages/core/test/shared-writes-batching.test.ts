import { afterEach, describe, expect, it } from 'vitest';
import { createJobServer, type JobServer } from '../src/index.js';
import type {
  AttemptReport,
  BackendSignals,
  ClaimedJob,
  QueueBackend,
  ReportOutcome,
  SharedSubmission,
  SubmitAnswer,
} from '../src/queue-backend.js';

// A shared queue's writes group-commit (shared-writes.ts): at most two `submit` and two
// `report` calls of a node are in flight at once; what arrives meanwhile waits, and goes in
// one call when one of them is answered. Shown through the public API, on a backend whose
// answers the test gives (core's tests cannot use @geartrain/testing's double: the one-way
// dependency rule, see packages/core/test/helpers.ts).

/** One call of the backend, its answer held until the test releases it. */
interface HeldCall<B> {
  readonly batch: readonly B[];
  release(): void;
  /** The call fails (the database went away). */
  fail(error: Error): void;
}

/** The calls of one kind, in order; each held, or answered at once when `hold` is off. */
class Calls<B, A> {
  readonly calls: HeldCall<B>[] = [];
  hold = true;
  private readonly unanswered = new Set<HeldCall<B>>();
  private readonly waiters: { n: number; resolve: () => void }[] = [];

  /** A call of `batch`, given `answer` (the backend's doing) once it is released. */
  call(batch: readonly B[], answer: () => A[]): Promise<A[]> {
    const copy = [...batch];
    return new Promise<A[]>((resolve, reject) => {
      const call: HeldCall<B> = {
        batch: copy,
        release: () => {
          if (!this.unanswered.delete(call)) throw new Error('answered twice');
          resolve(answer());
        },
        fail: (error) => {
          if (!this.unanswered.delete(call)) throw new Error('answered twice');
          reject(error);
        },
      };
      this.calls.push(call);
      this.unanswered.add(call);
      for (const w of this.waiters.filter((w) => this.calls.length >= w.n)) w.resolve();
      if (!this.hold) call.release();
    });
  }

  /** The `n`th call (from 1), once it is made (bounded by the test's timeout). */
  async nth(n: number): Promise<HeldCall<B>> {
    if (this.calls.length < n) {
      await new Promise<void>((resolve) => this.waiters.push({ n, resolve }));
    }
    return this.calls[n - 1]!;
  }

  get inFlight(): number {
    return this.unanswered.size;
  }

  /** Stops holding: every call not answered is, and every later one at once. */
  releaseAll(): void {
    this.hold = false;
    for (const call of [...this.unanswered]) call.release();
  }
}

/**
 * A shared queue's backend for one node, in memory: submissions get handles in order of
 * their calls and become claimable once answered; claims are answered a turn later; the
 * ends of attempts are recorded. Submit and report calls are held (see `Calls`).
 */
class HeldBackend implements QueueBackend {
  private signals: BackendSignals | null = null;
  private seq = 0;
  private readonly runnable: ClaimedJob[] = [];
  /** Jobs claimed and not ended, by handle. */
  private readonly running = new Map<string, ClaimedJob>();
  /** How each job's attempt ended, by handle. */
  readonly ends = new Map<string, string>();
  closed = false;

  readonly submits = new Calls<SharedSubmission, SubmitAnswer>();
  readonly reports = new Calls<AttemptReport, ReportOutcome>();

  open(_node: unknown, signals: BackendSignals): Promise<void> {
    this.signals = signals;
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
  submit(batch: readonly SharedSubmission[]): Promise<readonly SubmitAnswer[]> {
    // Numbered as the call is made (a database's sequence), claimable once answered.
    const handles = batch.map(() => `H:q:${++this.seq}`);
    return this.submits.call(batch, () => {
      for (const [i, s] of batch.entries()) {
        this.runnable.push({
          handle: handles[i]!,
          functionName: s.functionName,
          unique: s.unique,
          payload: s.payload,
          priority: s.priority,
          reducer: s.reducer,
          attempt: 1,
          relayed: false,
        });
      }
      const names = [...new Set(batch.map((s) => s.functionName))];
      // Told a turn later, as a database's notification would come.
      queueMicrotask(() => this.signals?.waiting(names));
      return handles.map((handle) => ({ handle, coalesced: false }));
    });
  }
  report(batch: readonly AttemptReport[]): Promise<readonly ReportOutcome[]> {
    return this.reports.call(batch, () =>
      batch.map((r): ReportOutcome => {
        const job = this.running.get(r.handle);
        if (job === undefined || job.attempt !== r.attempt) return { state: 'stale' };
        this.running.delete(r.handle);
        if (r.end.kind === 'unclaimed') {
          this.runnable.unshift(job);
          return { state: 'queued', attempt: r.attempt };
        }
        this.ends.set(r.handle, r.end.kind);
        if (r.end.kind === 'complete') return { state: 'completed' };
        return { state: 'failed', reason: 'EXCEPTION' };
      }),
    );
  }
  async claim(demand: ReadonlyMap<string, number>): Promise<readonly ClaimedJob[]> {
    await Promise.resolve();
    const claimed: ClaimedJob[] = [];
    for (const [name, count] of demand) {
      let left = count;
      for (let i = 0; i < this.runnable.length && left > 0;) {
        const job = this.runnable[i]!;
        if (job.functionName !== name) {
          i++;
          continue;
        }
        this.runnable.splice(i, 1);
        this.running.set(job.handle, job);
        claimed.push(job);
        left--;
      }
    }
    return claimed;
  }
  progress(): Promise<void> {
    return Promise.resolve();
  }
  nodes(): never {
    return unused('nodes');
  }
  relay(): Promise<void> {
    return Promise.resolve();
  }
  unwatch(): Promise<void> {
    return Promise.resolve();
  }
  settings() {
    return Promise.resolve([]);
  }

  // Not used by these tests: views, jobs by hand, settings' writes, schedules.
  status(): never {
    return unused('status');
  }
  statusByUnique(): never {
    return unused('statusByUnique');
  }
  functions(): never {
    return unused('functions');
  }
  jobs(): never {
    return unused('jobs');
  }
  job(): never {
    return unused('job');
  }
  outcome(): never {
    return unused('outcome');
  }
  outcomes(): never {
    return unused('outcomes');
  }
  outcomeCount(): never {
    return unused('outcomeCount');
  }
  cancel(): never {
    return unused('cancel');
  }
  retry(): never {
    return unused('retry');
  }
  discard(): never {
    return unused('discard');
  }
  discardFailed(): never {
    return unused('discardFailed');
  }
  saveSettings(): never {
    return unused('saveSettings');
  }
  schedule(): never {
    return unused('schedule');
  }
  unschedule(): never {
    return unused('unschedule');
  }
  schedules(): never {
    return unused('schedules');
  }
}

function unused(name: string): never {
  throw new Error(`the test's backend does not do ${name}`);
}

/** The end of this turn: every microtask queued meanwhile (the flushes) has run. */
function turnEnd(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A promise and its resolver. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Whether a promise has settled, read at any time. */
function watch<T>(promise: Promise<T>): { readonly settled: boolean } {
  const state = { settled: false };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

const started: { server: JobServer; backend: HeldBackend }[] = [];

async function node(): Promise<{ server: JobServer; backend: HeldBackend }> {
  const backend = new HeldBackend();
  const server = createJobServer({ queue: backend, nodeName: 'batching-test' });
  started.push({ server, backend });
  await server.ready;
  return { server, backend };
}

afterEach(async () => {
  // A failed test leaves calls held: answered now, so that the server can close.
  for (const { server, backend } of started.splice(0)) {
    backend.submits.releaseAll();
    backend.reports.releaseAll();
    await server.close({ timeout: 0 });
  }
});

const payloads = (batch: readonly SharedSubmission[]) => batch.map((s) => s.payload.toString());

describe('a shared queue group-commits its writes', () => {
  it('has at most two submit calls in flight; what comes meanwhile goes in one call', async () => {
    const { server, backend } = await node();
    const client = server.client();
    const submit = (payload: string) => client.submit('f', payload, { background: true });

    // With the backend idle, a turn's submissions go at once, in one call.
    const a = submit('a');
    const b = submit('b');
    expect(payloads((await backend.submits.nth(1)).batch)).toEqual(['a', 'b']);
    // The next turn's go at once too: one call is in flight, two may be.
    await turnEnd();
    const c = submit('c');
    expect(payloads((await backend.submits.nth(2)).batch)).toEqual(['c']);

    // Two unanswered: submissions of three later turns wait.
    await turnEnd();
    const d = submit('d');
    await turnEnd();
    const e = submit('e');
    const f = submit('f');
    await turnEnd();
    const g = submit('g');
    await turnEnd();
    expect(backend.submits.calls).toHaveLength(2);
    const waiting = [d, e, f, g].map(watch);

    // One answered (the second): all that waited go in one call.
    backend.submits.calls[1]!.release();
    await turnEnd();
    expect(backend.submits.calls).toHaveLength(3);
    expect(payloads(backend.submits.calls[2]!.batch)).toEqual(['d', 'e', 'f', 'g']);
    expect((await c).handle).toBe('H:q:3');
    expect(waiting.some((w) => w.settled)).toBe(false);

    // Every submission gets its handle, in the order of the calls.
    backend.submits.calls[0]!.release();
    backend.submits.calls[2]!.release();
    const handles = (await Promise.all([a, b, d, e, f, g])).map((job) => job.handle);
    expect(handles).toEqual(['H:q:1', 'H:q:2', 'H:q:4', 'H:q:5', 'H:q:6', 'H:q:7']);
    expect(backend.submits.inFlight).toBe(0);
  });

  it('has at most two report calls in flight; ends that come meanwhile go in one call', async () => {
    const { server, backend } = await node();
    backend.submits.hold = false;
    const completed = new Set<string>();
    const allCompleted = deferred();
    server.events$.subscribe((event) => {
      if (event.type !== 'completed') return;
      completed.add(event.handle);
      if (completed.size === 5) allCompleted.resolve();
    });

    // Five jobs run at once; each ends when the test says, in a turn of its own.
    const finish = new Map<string, () => void>();
    const running = deferred();
    server.worker().register(
      'f',
      (job) =>
        new Promise<string>((resolve) => {
          finish.set(job.handle, () => resolve(`done ${job.text()}`));
          if (finish.size === 5) running.resolve();
        }),
      { concurrency: 5 },
    );
    const client = server.client();
    const handles: string[] = [];
    for (const p of ['1', '2', '3', '4', '5']) {
      handles.push((await client.submit('f', p, { background: true })).handle);
    }
    await running.promise;
    const [h1, h2, h3, h4, h5] = handles as [string, string, string, string, string];

    finish.get(h1)!();
    expect((await backend.reports.nth(1)).batch.map((r) => r.handle)).toEqual([h1]);
    await turnEnd();
    finish.get(h2)!();
    expect((await backend.reports.nth(2)).batch.map((r) => r.handle)).toEqual([h2]);

    // Two unanswered: the ends of three later turns wait.
    await turnEnd();
    finish.get(h3)!();
    await turnEnd();
    finish.get(h4)!();
    await turnEnd();
    finish.get(h5)!();
    await turnEnd();
    expect(backend.reports.calls).toHaveLength(2);
    expect(backend.ends.size).toBe(0);

    // One answered: the three go in one call.
    backend.reports.calls[0]!.release();
    await turnEnd();
    expect(backend.reports.calls).toHaveLength(3);
    const third = backend.reports.calls[2]!;
    expect(third.batch.map((r) => r.handle)).toEqual([h3, h4, h5]);
    expect(third.batch.map((r) => r.end.kind)).toEqual(['complete', 'complete', 'complete']);

    // Every job completes, as the backend and the server's events say.
    backend.reports.calls[1]!.release();
    backend.reports.calls[2]!.release();
    await allCompleted.promise;
    expect([...completed].sort()).toEqual([...handles].sort());
    expect(backend.ends).toEqual(new Map(handles.map((h) => [h, 'complete'])));
    expect(backend.reports.calls.flatMap((call) => call.batch.map((r) => r.handle)).sort()).toEqual(
      [...handles].sort(),
    );
  });

  it('sends what waited when closed, and closes once it is answered', async () => {
    const { server, backend } = await node();
    const client = server.client();
    const submit = (payload: string) => client.submit('g', payload, { background: true });
    // Jobs of 'f' ran and ended, their reports held as the submissions are.
    const finish: (() => void)[] = [];
    const threeRunning = deferred();
    server.worker().register(
      'f',
      () =>
        new Promise<void>((resolve) => {
          finish.push(resolve);
          if (finish.length === 3) threeRunning.resolve();
        }),
      { concurrency: 3 },
    );
    backend.submits.hold = false;
    const jobs = await Promise.all(
      ['1', '2', '3'].map((p) => client.submit('f', p, { background: true })),
    );
    await threeRunning.promise;
    backend.submits.hold = true;
    for (const [i, end] of finish.entries()) {
      end();
      if (i < 2) await backend.reports.nth(i + 1);
      await turnEnd();
    }

    const a = submit('a');
    await backend.submits.nth(2);
    await turnEnd();
    const b = submit('b');
    await backend.submits.nth(3);
    await turnEnd();
    const c = submit('c');
    await turnEnd();
    expect(backend.submits.calls).toHaveLength(3);
    expect(backend.reports.calls).toHaveLength(2);

    // Closing sends nothing past the two in flight, and waits.
    const closed = watch(server.close());
    await turnEnd();
    expect(backend.submits.calls).toHaveLength(3);
    expect(backend.reports.calls).toHaveLength(2);
    expect(closed.settled).toBe(false);

    // Answered: what waited goes, and the close waits for its answer too.
    backend.submits.calls[1]!.release();
    backend.reports.calls[1]!.release();
    await turnEnd();
    expect(backend.submits.calls).toHaveLength(4);
    expect(payloads(backend.submits.calls[3]!.batch)).toEqual(['c']);
    expect(backend.reports.calls).toHaveLength(3);
    expect(backend.reports.calls[2]!.batch.map((r) => r.handle)).toEqual([jobs[2]!.handle]);
    backend.submits.calls[2]!.release();
    backend.reports.calls[0]!.release();
    await turnEnd();
    expect(closed.settled).toBe(false);
    expect(backend.closed).toBe(false);

    backend.submits.calls[3]!.release();
    backend.reports.calls[2]!.release();
    await server.close();
    expect(backend.closed).toBe(true);
    expect((await a).handle).toBe('H:q:4');
    expect((await b).handle).toBe('H:q:5');
    expect((await c).handle).toBe('H:q:6');
    expect(backend.ends).toEqual(new Map(jobs.map((job) => [job.handle, 'complete'])));
  });

  it('sends at close the ends whose call failed, without waiting for the retry', async () => {
    const { server, backend } = await node();
    backend.submits.hold = false;
    server.worker().register('f', (job) => `done ${job.text()}`);
    const job = await server.client().submit('f', 'x', { background: true });
    const first = await backend.reports.nth(1);
    expect(first.batch.map((r) => r.handle)).toEqual([job.handle]);
    first.fail(new Error('connection reset'));
    await turnEnd();
    expect(backend.reports.calls).toHaveLength(1);

    // The retry is a second away; the close sends the end at once and waits for its answer.
    const closed = watch(server.close());
    const again = await backend.reports.nth(2);
    expect(again.batch.map((r) => [r.handle, r.end.kind])).toEqual([[job.handle, 'complete']]);
    await turnEnd();
    expect(closed.settled).toBe(false);
    again.release();
    await server.close();
    expect(backend.ends).toEqual(new Map([[job.handle, 'complete']]));
  });
});
